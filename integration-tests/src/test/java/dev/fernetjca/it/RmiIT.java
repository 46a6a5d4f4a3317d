package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.it.rmi.FernetClient;
import dev.fernetjca.it.rmi.FernetServer;
import dev.fernetjca.it.rmi.Greeter;
import dev.fernetjca.it.rmi.JmxClient;
import dev.fernetjca.it.rmi.JmxServer;
import dev.fernetjca.it.rmi.PlainClient;
import dev.fernetjca.it.rmi.PlainServer;
import dev.fernetjca.testing.Child;
import dev.fernetjca.testing.KeyFiles;
import dev.fernetjca.testing.Processes;
import dev.fernetjca.testing.Processes.Result;
import dev.fernetjca.testing.Relay;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * RMI over Fernet sockets between real JVMs: a server and its clients run in child processes started as users would
 * start them, with keys in chmod-600 key files named by {@code -Dfernet.keyFile}. The application they run is in
 * {@code dev.fernetjca.it.rmi}; the plain one names no fernet-jca class.
 */
@Timeout(180)
class RmiIT {
    private static final long STARTUP_SECONDS = 30;
    private static final long CALL_SECONDS = 60;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final String HOST = LOOPBACK.getHostAddress();

    /** The factory jar, as docs/guides/rmi.md gives it to -javaagent. */
    private static Path agentJar;
    /** The Class-Path entries of the agent jar's manifest: the provider and Bouncy Castle jars. */
    private static List<Path> agentLibraries;
    /** The RMI application alone: this module's test classes. */
    private static Path applicationClasses;
    /** Everything this test has: the application, fernet-jca and Bouncy Castle. */
    private static String fullClassPath;

    @TempDir
    Path dir;

    @BeforeAll
    static void findJars() throws IOException {
        String property = System.getProperty("fernet.factory.jar");
        assertTrue(property != null, "the fernet.factory.jar system property is not set; run through Maven failsafe");
        agentJar = Paths.get(property).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(agentJar), agentJar + " does not exist; build the factory module first");

        fullClassPath = System.getProperty("java.class.path");
        List<Path> entries = Arrays.stream(fullClassPath.split(File.pathSeparator))
                .map(Paths::get)
                .collect(Collectors.toList());
        applicationClasses = Paths.get(PlainServer.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .getPath());
        List<String> wanted;
        try (JarFile jar = new JarFile(agentJar.toFile())) {
            String premain = jar.getManifest().getMainAttributes().getValue("Premain-Class");
            assertEquals("dev.fernetjca.net.Agent", premain, "Premain-Class of " + agentJar);
            wanted = List.of(jar.getManifest()
                    .getMainAttributes()
                    .getValue("Class-Path")
                    .trim()
                    .split(" +"));
        }
        agentLibraries = new ArrayList<>();
        for (String name : wanted) {
            Path library = entries.stream()
                    .filter(p -> p.getFileName().toString().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(name + " is not on the test class path " + fullClassPath));
            agentLibraries.add(library);
        }
    }

    // ---- (a) explicit factories

    @Test
    void explicitFactoriesCarryTheRegistryAndTheCall() throws Exception {
        Path keyFile = newKeyFile("server.key");
        int port = freePort();
        try (Child server = startServer(
                java(fullClassPath, List.of(keyFileFlag(keyFile)), FernetServer.class, String.valueOf(port)))) {
            // as under a service manager, or in the background of a shell: no standard input; it serves on
            server.closeInput();
            Result call = run(java(
                    fullClassPath,
                    List.of(keyFileFlag(keyFile)),
                    FernetClient.class,
                    HOST,
                    String.valueOf(port),
                    "explicit"));
            assertEquals(0, call.status(), call.stderr());
            assertEquals(
                    "hello, explicit, from " + server.process().pid(),
                    call.stdout().trim());

            // a client without the factory speaks plain JRMP and gets nowhere
            Result plain = run(java(fullClassPath, List.of(), PlainClient.class, HOST, String.valueOf(port), "plain"));
            assertEquals(1, plain.status(), plain.stdout());
            assertTrue(plain.stderr().contains("java.rmi."), plain.stderr());

            // a client JVM without keys: the stub's factory, deserialized there, has none to use
            Result keyless =
                    run(java(fullClassPath, List.of(), FernetClient.class, HOST, String.valueOf(port), "keyless"));
            assertEquals(1, keyless.status(), keyless.stdout());
            assertTrue(keyless.stderr().contains("failure: java.rmi.ConnectIOException: "), keyless.stderr());
            assertTrue(keyless.stderr().contains("no Fernet keys configured"), keyless.stderr());
        }
    }

    // ---- (b) an unchanged application under -javaagent

    @Test
    void agentEncryptsAnUnchangedApplication() throws Exception {
        Path keyFile = newKeyFile("shared.key");
        // the server: the agent jar in a directory with the jars its Class-Path names; the application's class path
        // holds only the application
        Path agentDir = Files.createDirectory(dir.resolve("agent"));
        Path agentCopy = Files.copy(agentJar, agentDir.resolve(agentJar.getFileName()));
        for (Path library : agentLibraries) {
            Files.copy(library, agentDir.resolve(library.getFileName()));
        }
        int port = freePort();
        try (Child server = startServer(java(
                        applicationClasses.toString(),
                        List.of("-javaagent:" + agentCopy, keyFileFlag(keyFile)),
                        PlainServer.class,
                        String.valueOf(port)));
                Relay relay = Relay.to(port)) {
            // the client: the agent jar where Maven built it, its libraries on the application's class path
            String clientClassPath = applicationClasses
                    + File.pathSeparator
                    + agentLibraries.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
            List<String> agent = List.of("-javaagent:" + agentJar, keyFileFlag(keyFile));
            Result call =
                    run(java(clientClassPath, agent, PlainClient.class, HOST, String.valueOf(relay.port()), "agent"));
            assertEquals(0, call.status(), call.stderr());
            assertEquals(
                    "hello, agent, from " + server.process().pid(),
                    call.stdout().trim());

            // the registry lookup went through the relay: TLS records both ways, nothing of RMI in clear
            Relay.Connection lookup = relay.connection(0);
            byte[] request = lookup.upstream();
            byte[] response = lookup.downstream();
            assertTrue(request.length > 5 && response.length > 5, "nothing captured");
            assertEquals(0x16, request[0], "the client's first record is not a TLS handshake record");
            assertEquals(0x03, request[1]);
            assertEquals(0x16, response[0], "the server's first record is not a TLS handshake record");
            for (String clear : List.of("JRMI", Greeter.NAME, "Greeter", "java.rmi", "java.lang", HOST)) {
                assertFalse(contains(request, clear), "the client sent " + clear + " in clear");
                assertFalse(contains(response, clear), "the server sent " + clear + " in clear");
            }

            // the same client without the agent: plain JRMP, which the capture shows and the server refuses
            Result plain = run(java(
                    applicationClasses.toString(),
                    List.of(),
                    PlainClient.class,
                    HOST,
                    String.valueOf(relay.port()),
                    "plain"));
            assertEquals(1, plain.status(), plain.stdout());
            assertTrue(
                    contains(relay.connection(relay.connections() - 1).upstream(), "JRMI"),
                    "the relay did not see the plain client's JRMP header");

            // an agent with another key is refused
            Path otherKey = newKeyFile("other.key");
            Result stranger = run(java(
                    clientClassPath,
                    List.of("-javaagent:" + agentJar, keyFileFlag(otherKey)),
                    PlainClient.class,
                    HOST,
                    String.valueOf(port),
                    "stranger"));
            assertEquals(1, stranger.status(), stranger.stdout());
            assertTrue(stranger.stderr().contains("does not hold a matching Fernet key"), stranger.stderr());
        }
    }

    @Test
    void agentWithoutKeysStopsTheJvmBeforeTheApplication() throws Exception {
        Result result = run(
                java(fullClassPath, List.of("-javaagent:" + agentJar), PlainServer.class, String.valueOf(freePort())));
        assertEquals(2, result.status(), result.stdout());
        assertFalse(result.stdout().contains("ready"), "the application started");
        assertTrue(result.stderr().startsWith("fernet-jca agent: no Fernet keys configured"), result.stderr());
    }

    // ---- (c) another key

    @Test
    void clientWithAnotherKeyIsRefused() throws Exception {
        Path serverKey = newKeyFile("server.key");
        Path clientKey = newKeyFile("client.key");
        int port = freePort();
        try (Child server = startServer(
                java(fullClassPath, List.of(keyFileFlag(serverKey)), FernetServer.class, String.valueOf(port)))) {
            Result call = run(java(
                    fullClassPath,
                    List.of(keyFileFlag(clientKey)),
                    FernetClient.class,
                    HOST,
                    String.valueOf(port),
                    "stranger"));
            assertEquals(1, call.status(), call.stdout());
            assertEquals("", call.stdout());
            assertTrue(call.stderr().contains("failure: java.rmi.ConnectIOException: "), call.stderr());
            assertTrue(call.stderr().contains("does not hold a matching Fernet key"), call.stderr());
            String clientKeyString = Files.readString(clientKey).trim();
            assertFalse(call.stderr().contains(clientKeyString), "the client's key is in its error output");
            assertTrue(server.process().isAlive(), "the server died");
        }
    }

    // ---- (d) remote JMX under the agent

    /** The JMX agent's settings of docs/guides/rmi.md: no SSL and no passwords, since the Fernet key guards it. */
    private static List<String> jmxRemote(int port) {
        return List.of(
                "-Dcom.sun.management.jmxremote.port=" + port,
                "-Dcom.sun.management.jmxremote.rmi.port=" + port,
                "-Dcom.sun.management.jmxremote.ssl=false",
                "-Dcom.sun.management.jmxremote.authenticate=false",
                "-Djava.rmi.server.hostname=" + HOST);
    }

    @Test
    void remoteJmxThroughTheAgentServesAClientWithTheKeyAndRefusesAPlainOne() throws Exception {
        Path keyFile = newKeyFile("jmx.key");
        int port = freePort();
        List<String> serverOptions = new ArrayList<>(List.of("-javaagent:" + agentJar, keyFileFlag(keyFile)));
        serverOptions.addAll(jmxRemote(port));
        try (Child server = startServer(java(fullClassPath, serverOptions, JmxServer.class));
                Relay relay = Relay.to(port)) {
            // a JMX client with the agent, as jconsole -J-javaagent:... is one; its registry lookup goes through the
            // relay
            Result read = run(java(
                    fullClassPath,
                    List.of("-javaagent:" + agentJar, keyFileFlag(keyFile)),
                    JmxClient.class,
                    HOST,
                    String.valueOf(relay.port())));
            assertEquals(0, read.status(), read.stderr());
            assertTrue(read.stdout().contains("pid=" + server.process().pid() + "\n"), read.stdout());
            // the server's own MBean counts the JMX connections: they are Fernet sockets
            assertTrue(read.stdout().matches("(?s).*sockets=[1-9][0-9]*\n.*"), read.stdout());

            Relay.Connection lookup = relay.connection(0);
            byte[] request = lookup.upstream();
            byte[] response = lookup.downstream();
            assertTrue(request.length > 5 && response.length > 5, "nothing captured");
            assertEquals(0x16, request[0], "the client's first record is not a TLS handshake record");
            assertEquals(0x16, response[0], "the server's first record is not a TLS handshake record");
            for (String clear : List.of("JRMI", "jmxrmi", "javax.management", "java.rmi", HOST)) {
                assertFalse(contains(request, clear), "the client sent " + clear + " in clear");
                assertFalse(contains(response, clear), "the server sent " + clear + " in clear");
            }

            // jconsole or any JMX client without the agent speaks plain JRMP: refused
            Result plain = run(java(
                    applicationClasses.toString(), List.of(), JmxClient.class, HOST, String.valueOf(relay.port())));
            assertEquals(1, plain.status(), plain.stdout());
            assertTrue(plain.stderr().contains("failure: java.rmi.ConnectIOException: "), plain.stderr());
            assertTrue(
                    contains(relay.connection(relay.connections() - 1).upstream(), "JRMI"),
                    "the relay did not see the plain client's JRMP header");
            assertTrue(server.process().isAlive(), "the server died");
        }
    }

    @Test
    void agentRefusesAJmxHostSettingThatWouldMakeJmxPlain() throws Exception {
        Path keyFile = newKeyFile("jmx.key");
        List<String> options = new ArrayList<>(
                List.of("-javaagent:" + agentJar, keyFileFlag(keyFile), "-Dcom.sun.management.jmxremote.host=" + HOST));
        options.addAll(jmxRemote(freePort()));
        Result result = run(java(fullClassPath, options, JmxServer.class));
        assertEquals(2, result.status(), result.stdout());
        assertFalse(result.stdout().contains("ready"), "the application started");
        assertTrue(
                result.stderr().startsWith("fernet-jca agent: com.sun.management.jmxremote.host makes"),
                result.stderr());
    }

    // ---- child JVMs

    private static String keyFileFlag(Path keyFile) {
        return KeyFiles.flag(keyFile);
    }

    private static ProcessBuilder java(String classPath, List<String> options, Class<?> main, String... args) {
        List<String> all = new ArrayList<>();
        // the stub must name an address the client can reach, whatever this host's name resolves to
        all.add("-Djava.rmi.server.hostname=" + HOST);
        // bounded calls: a server that never answers fails the client rather than the build's patience
        all.add("-Dsun.rmi.transport.tcp.responseTimeout=" + TimeUnit.SECONDS.toMillis(CALL_SECONDS / 2));
        all.addAll(options);
        return Processes.java(classPath, all, main, args);
    }

    /** Runs a JVM to completion; killed, and the test failed, if it outlives its bound. */
    private static Result run(ProcessBuilder builder) throws IOException, InterruptedException {
        return Processes.run(builder, new byte[0], Duration.ofSeconds(CALL_SECONDS));
    }

    /** Starts a server JVM and waits for its {@code ready} line; closing the child kills it. */
    private static Child startServer(ProcessBuilder builder) throws IOException, InterruptedException {
        Child child = Child.start(builder);
        try {
            child.awaitLine("ready"::equals, Duration.ofSeconds(STARTUP_SECONDS));
            return child;
        } catch (InterruptedException | RuntimeException | Error e) {
            child.close();
            throw e;
        }
    }

    // ---- keys and ports (the capturing relay is Relay, shared with the other ITs)

    private Path newKeyFile(String name) throws Exception {
        return KeyFiles.newKeyFile(dir, name);
    }

    private static int freePort() throws IOException {
        return Processes.freePort();
    }

    private static boolean contains(byte[] haystack, String needle) {
        return Relay.contains(haystack, needle);
    }
}
