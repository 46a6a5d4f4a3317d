package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetProvider;
import dev.fernetjca.testing.Child;
import dev.fernetjca.testing.EchoServer;
import dev.fernetjca.testing.ExternalTools;
import dev.fernetjca.testing.ExternalTools.Python;
import dev.fernetjca.testing.KeyFiles;
import dev.fernetjca.testing.Processes;
import dev.fernetjca.testing.Processes.Result;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * fernet-tokens mode against {@code docs/examples/python/fernet_peer.py}, run by every Python on this machine that has
 * {@code cryptography} (one run per real interpreter), as docs/guides/python.md shows it.
 *
 * <p>The Java side runs in this JVM, its factories given the fernet-tokens mode in code ({@code FernetSocketOptions}),
 * so that the test can see the exception a server connection ends with, which a child JVM would only print.
 */
@Timeout(120)
class PythonPeerIT {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final String HOST = LOOPBACK.getHostAddress();
    private static final Duration RUN = Duration.ofSeconds(60);
    private static final Pattern LISTENING = Pattern.compile("fernet_peer: listening on (\\S+):(\\d+)");
    private static final FernetProvider PROVIDER = new FernetProvider();

    private static Path peer;

    @TempDir
    Path dir;

    @BeforeAll
    static void findPeer() {
        String property = System.getProperty("fernet.python.peer");
        assertTrue(property != null, "the fernet.python.peer system property is not set; run through Maven failsafe");
        peer = Paths.get(property).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(peer), peer + " does not exist");
    }

    static List<Object> pythons() throws IOException, InterruptedException {
        return ExternalTools.pythons();
    }

    // ---- (a) a Java server, the Python peer as client

    @ParameterizedTest(name = "{0}")
    @MethodSource("pythons")
    void javaServerAnswersThePythonClient(Object argument) throws Exception {
        Python python = ExternalTools.requirePython(argument);
        String key = Fernet.generateKey();
        Path keyFile = KeyFiles.write(dir.resolve("fernet.key"), key);
        byte[] big = letters(100_000);
        byte[] request = concat("hello from python\n".getBytes(US_ASCII), big, "\n".getBytes(US_ASCII));
        try (EchoServer server =
                new EchoServer(tokenServerFactory(key, null)::createServerSocket, EchoServer.UPPER_CASE)) {
            // FERNET_KEY_FILE=fernet.key python3 fernet_peer.py --connect 127.0.0.1:PORT
            ProcessBuilder client = pythonPeer(python, "--connect", HOST + ":" + server.port());
            client.environment().put("FERNET_KEY_FILE", keyFile.toString());
            Result result = Processes.run(client, request, RUN);

            assertEquals(0, result.status(), result.stderr());
            assertArrayEquals(EchoServer.upperCase(request, request.length), result.stdoutBytes());
            assertNull(server.nextOutcome(RUN).failure(), "the Java server's connection failed");
        }
    }

    // ---- (b) a Java client, the Python peer as server

    @ParameterizedTest(name = "{0}")
    @MethodSource("pythons")
    void javaClientTalksToThePythonServer(Object argument) throws Exception {
        Python python = ExternalTools.requirePython(argument);
        String key = Fernet.generateKey();
        ProcessBuilder serverCommand = pythonPeer(python, "--listen", HOST + ":0");
        serverCommand.environment().put("FERNET_KEY", key);
        try (Child server = Child.start(serverCommand)) {
            int port = listeningPort(server);
            byte[] big = letters(100_000);
            try (Socket socket = tokenClientFactory(key).createSocket(LOOPBACK, port)) {
                socket.setSoTimeout((int) RUN.toMillis());
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();

                out.write("hello from java\n".getBytes(US_ASCII));
                assertEquals("HELLO FROM JAVA\n", new String(in.readNBytes(16), US_ASCII));
                out.write("second message\n".getBytes(US_ASCII));
                assertEquals("SECOND MESSAGE\n", new String(in.readNBytes(15), US_ASCII));
                out.write(big); // 7 tokens of at most 16 KiB each; the server answers each with one
                assertArrayEquals(EchoServer.upperCase(big, big.length), in.readNBytes(big.length));

                socket.shutdownOutput(); // the server sees a clean end between lines and closes
                assertEquals(-1, in.read());
            }
            // 1 + 1 + ceil(100000 / 16384) tokens: the large write went out as 7 lines
            String log = server.awaitLine(line -> line.contains(" tokens, "), RUN);
            assertTrue(log.endsWith(" 9 tokens, 100031 bytes in, closed cleanly"), log);
        }
    }

    /** A newcomer's mistake: the script as a client with the wrong key must fail visibly, not end with status 0. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("pythons")
    void pythonClientWithTheWrongKeyExitsNonZeroWithAMessage(Object argument) throws Exception {
        Python python = ExternalTools.requirePython(argument);
        String serverKey = Fernet.generateKey();
        String clientKey = Fernet.generateKey();
        ProcessBuilder serverCommand = pythonPeer(python, "--listen", HOST + ":0");
        serverCommand.environment().put("FERNET_KEY", serverKey);
        try (Child server = Child.start(serverCommand)) {
            int port = listeningPort(server);
            // small and large inputs: the reset may come while the client still sends, or after it half-closed
            for (int size : new int[] {6, 3_000_000}) {
                ProcessBuilder client = pythonPeer(python, "--connect", HOST + ":" + port);
                client.environment().put("FERNET_KEY", clientKey);
                Result result = Processes.run(client, "hello\n".repeat(size / 6).getBytes(US_ASCII), RUN);
                assertEquals(1, result.status(), "a wrong key is a failure; stderr: " + result.stderr());
                assertEquals(0, result.stdoutBytes().length);
                assertEquals(
                        "fernet_peer: the server reset the connection: it refused our tokens (does it hold"
                                + " another key?) or failed\n",
                        result.stderr());
                server.awaitLine(line -> line.endsWith(" failed: token rejected"), RUN);
            }
            ProcessBuilder client = pythonPeer(python, "--connect", HOST + ":" + port);
            client.environment().put("FERNET_KEY", serverKey);
            Result result = Processes.run(client, "hello\n".getBytes(US_ASCII), RUN);
            assertEquals(0, result.status(), result.stderr());
            assertEquals("HELLO\n", result.stdout());
        }
    }

    // ---- (c) the Python peer through fernet tunnel to a plain server

    @ParameterizedTest(name = "{0}")
    @MethodSource("pythons")
    void pythonClientReachesAEchoServerThroughTheTunnel(Object argument) throws Exception {
        Python python = ExternalTools.requirePython(argument);
        Path keyFile = KeyFiles.write(dir.resolve("fernet.key"), Fernet.generateKey());
        try (EchoServer plain = EchoServer.plain(EchoServer.UPPER_CASE);
                FernetCli.TunnelProcess tunnel = FernetCli.TunnelProcess.start(
                        "--listen",
                        HOST + ":0",
                        "--connect",
                        plain.address(),
                        "--decrypt",
                        "--mode",
                        "fernet-tokens",
                        "--key-file",
                        keyFile.toString())) {
            ProcessBuilder client =
                    pythonPeer(python, "--connect", HOST + ":" + tunnel.port(), "--key-file", keyFile.toString());
            Result result = Processes.run(client, "hello through the tunnel\n".getBytes(US_ASCII), RUN);

            assertEquals(0, result.status(), result.stderr());
            assertEquals("HELLO THROUGH THE TUNNEL\n", result.stdout());
            String line = tunnel.awaitLine("#1 ");
            assertTrue(
                    line.matches("fernet tunnel: #1 \\S+Z /127\\.0\\.0\\.1:\\d+ -> \\S+ up 25 B, down 25 B, \\d+ ms, "
                            + "closed cleanly"),
                    line);
        }
    }

    // ---- (d) tampered and expired tokens

    @ParameterizedTest(name = "{0}")
    @MethodSource("pythons")
    void tamperedTokenClosesOnlyThatConnection(Object argument) throws Exception {
        Python python = ExternalTools.requirePython(argument);
        String key = Fernet.generateKey();
        try (EchoServer server =
                new EchoServer(tokenServerFactory(key, null)::createServerSocket, EchoServer.UPPER_CASE)) {
            byte[] good = pythonToken(python, key, "first line\n", 0);
            byte[] tampered = flipByteInTheMiddle(pythonToken(python, key, "second line\n", 0));
            try (Socket raw = new Socket(LOOPBACK, server.port())) {
                raw.setSoTimeout((int) RUN.toMillis());
                OutputStream out = raw.getOutputStream();
                InputStream in = raw.getInputStream();
                out.write(concat(good, "\n".getBytes(US_ASCII)));
                byte[] reply = readLine(in);
                assertEquals("FIRST LINE\n", new String(Fernet.of(key).decrypt(reply), US_ASCII));

                out.write(concat(tampered, "\n".getBytes(US_ASCII)));
                IOException failure = server.nextOutcome(RUN).failure();
                assertNotNull(failure, "the server accepted a tampered token");
                assertTrue(failure instanceof ProtocolException, failure.toString());
                assertTrue(
                        failure.getMessage().endsWith("rejected: token authentication failed"), failure.getMessage());
                assertClosedByPeer(in);
            }
            // the server goes on
            ProcessBuilder client = pythonPeer(python, "--connect", HOST + ":" + server.port());
            client.environment().put("FERNET_KEY", key);
            Result result = Processes.run(client, "still serving\n".getBytes(US_ASCII), RUN);
            assertEquals(0, result.status(), result.stderr());
            assertEquals("STILL SERVING\n", result.stdout());
            assertNull(server.nextOutcome(RUN).failure());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pythons")
    void tokenOlderThanTheTtlIsRefused(Object argument) throws Exception {
        Python python = ExternalTools.requirePython(argument);
        String key = Fernet.generateKey();
        try (EchoServer server =
                new EchoServer(tokenServerFactory(key, "60")::createServerSocket, EchoServer.UPPER_CASE)) {
            // made by Python's Fernet.encrypt_at_time, an hour ago
            byte[] old = pythonToken(python, key, "from an hour ago\n", 3600);
            try (Socket raw = new Socket(LOOPBACK, server.port())) {
                raw.setSoTimeout((int) RUN.toMillis());
                raw.getOutputStream().write(concat(old, "\n".getBytes(US_ASCII)));
                IOException failure = server.nextOutcome(RUN).failure();
                assertNotNull(failure, "the server accepted a token older than its TTL");
                assertTrue(failure.getMessage().endsWith("rejected: token expired"), failure.getMessage());
                assertClosedByPeer(raw.getInputStream());
            }
            // a fresh token passes, and the Python client checks the TTL of the replies too
            ProcessBuilder client = pythonPeer(python, "--connect", HOST + ":" + server.port(), "--ttl", "60");
            client.environment().put("FERNET_KEY", key);
            Result result = Processes.run(client, "fresh\n".getBytes(US_ASCII), RUN);
            assertEquals(0, result.status(), result.stderr());
            assertEquals("FRESH\n", result.stdout());
        }
    }

    // ---- the Python side

    private static ProcessBuilder pythonPeer(Python python, String... args) {
        List<String> command = new ArrayList<>(List.of(python.executable().toString(), peer.toString()));
        command.addAll(List.of(args));
        return Processes.scrub(new ProcessBuilder(command));
    }

    private static int listeningPort(Child server) throws InterruptedException {
        String line = server.awaitLine(l -> LISTENING.matcher(l).matches(), RUN);
        Matcher matcher = LISTENING.matcher(line);
        assertTrue(matcher.matches());
        return Integer.parseInt(matcher.group(2));
    }

    /** Returns a token Python's {@code Fernet} makes of {@code text}, dated {@code ageSeconds} ago. */
    private static byte[] pythonToken(Python python, String key, String text, long ageSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder builder = Processes.scrub(new ProcessBuilder(
                python.executable().toString(),
                "-c",
                "import os, sys, time\n"
                        + "from cryptography.fernet import Fernet\n"
                        + "f = Fernet(os.environ['FERNET_KEY'])\n"
                        + "token = f.encrypt_at_time(sys.stdin.buffer.read(), int(time.time()) - int(sys.argv[1]))\n"
                        + "sys.stdout.buffer.write(token)\n",
                Long.toString(ageSeconds)));
        builder.environment().put("FERNET_KEY", key);
        Result result = Processes.run(builder, text.getBytes(US_ASCII), RUN);
        assertEquals(0, result.status(), result.stderr());
        return result.stdoutBytes();
    }

    // ---- the Java side: factories in fernet-tokens mode

    private static FernetServerSocketFactory tokenServerFactory(String key, String ttlSeconds) {
        return new FernetServerSocketFactory(
                secretKey(key),
                FernetSocketOptions.fernetTokens(
                        ttlSeconds == null ? null : Duration.ofSeconds(Long.parseLong(ttlSeconds))));
    }

    private static FernetSocketFactory tokenClientFactory(String key) {
        return new FernetSocketFactory(secretKey(key), FernetSocketOptions.fernetTokens(null));
    }

    static SecretKey secretKey(String key) {
        try {
            return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(new FernetKeySpec(key));
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    // ---- bytes

    private static byte[] letters(int count) {
        SecureRandom random = new SecureRandom();
        byte[] letters = new byte[count];
        for (int i = 0; i < count; i++) {
            letters[i] = (byte) ('a' + random.nextInt(26));
        }
        return letters;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    /** Flips a bit of a decoded byte, not of a base64 character, whose spare bits could leave the token unchanged. */
    private static byte[] flipByteInTheMiddle(byte[] token) {
        byte[] raw = Base64.getUrlDecoder().decode(token);
        raw[raw.length / 2] ^= 1;
        return Base64.getUrlEncoder().encode(raw);
    }

    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n'; ) {
            assertTrue(b >= 0, "the connection ended before a whole line");
            line.write(b);
        }
        return line.toByteArray();
    }

    /** The server closed the connection: the next read ends the stream, or a reset says so. */
    private static void assertClosedByPeer(InputStream in) {
        try {
            assertEquals(-1, in.read(), "the server answered a refused token");
        } catch (IOException e) {
            // "Connection reset": the server closed with bytes of ours unread, which is a close too
        }
    }
}
