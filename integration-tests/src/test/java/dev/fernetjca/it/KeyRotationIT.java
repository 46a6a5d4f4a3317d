package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.testing.EchoServer;
import dev.fernetjca.testing.KeyFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.SocketFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key rotation of docs/guides/key-rotation.md, without a restart: two {@code fernet tunnel --decrypt} processes in
 * front of one plain echo server, and two clients (Java {@link FernetSocketFactory}s built from the configuration, in
 * this JVM) making short connections without pause, round-robin over both servers, while every host's key file goes
 * through the staged convention: [A] → [A, B] (B staged, decrypt-only) → [B, A] (B promoted) → [B] (A dropped). Not
 * one connection may fail, and no process is restarted. A step starts only once every host has reloaded the previous
 * one, which the guide gets by waiting the refresh interval (plus the delivery time of the files); here each host says
 * so in its log. A second variant does it through one Kubernetes-style mount shared by all hosts, updated by
 * {@code ..data} symlink swaps, with {@code FERNET_KEY_FILE_PERMISSIONS=readable} for its 0644 files; a third shows
 * that {@code kill -HUP} makes a tunnel re-read its key file at once.
 */
@Timeout(120)
class KeyRotationIT {
    private static final String HOST = "127.0.0.1";
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Connections each step must see at least, across both clients, before the next step starts. */
    private static final int CONNECTIONS_PER_STEP = 20;
    /** Every host checks its key file at most once a second here (10 by default): the arithmetic is the guide's. */
    private static final Map<String, String> REFRESH = Map.of("FERNET_KEY_FILE_REFRESH", "1");

    @TempDir
    Path dir;

    private final List<String> clientReloads = new CopyOnWriteArrayList<>();
    private final Logger keyWatchLogger = Logger.getLogger("dev.fernetjca.net.KeyWatch");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getMessage().startsWith("keys reloaded from key file")) {
                clientReloads.add(String.valueOf(record.getParameters()[0]));
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void watchClientReloads() {
        keyWatchLogger.setLevel(Level.ALL);
        keyWatchLogger.addHandler(capture);
    }

    @AfterEach
    void stopWatching() {
        keyWatchLogger.removeHandler(capture);
    }

    @Test
    void fleetRotatesThroughStagedKeyFilesWithoutRestartOrFailedConnection() throws Exception {
        String keyA = FernetCli.keygen();
        String keyB = FernetCli.keygen();
        List<Path> serverFiles = List.of(
                KeyFiles.write(dir.resolve("server1.key"), keyA), KeyFiles.write(dir.resolve("server2.key"), keyA));
        List<Path> clientFiles = List.of(
                KeyFiles.write(dir.resolve("client1.key"), keyA), KeyFiles.write(dir.resolve("client2.key"), keyA));
        try (EchoServer echo = EchoServer.plain(EchoServer.ECHO_THEN_COUNT);
                TunnelProcess one = tunnel(echo, serverFiles.get(0), REFRESH);
                TunnelProcess two = tunnel(echo, serverFiles.get(1), REFRESH);
                Clients clients = new Clients(
                        "0: every host [A]",
                        List.of(one, two),
                        watching(clientFiles.get(0), REFRESH),
                        watching(clientFiles.get(1), REFRESH))) {
            clients.step("0: every host [A]");
            String[][] stages = {{keyA, keyB}, {keyB, keyA}, {keyB}};
            String[] names = {
                "1: B staged, every host [A, B]", "2: B promoted, every host [B, A]", "3: A dropped, every host [B]"
            };
            for (int stage = 0; stage < stages.length; stage++) {
                // one host after another, as a configuration management run would, each file replaced by a rename
                for (Path file : serverFiles) {
                    KeyFiles.write(file, stages[stage]);
                }
                for (Path file : clientFiles) {
                    KeyFiles.write(file, stages[stage]);
                }
                awaitReloads(List.of(one, two), clientFiles, stage + 1);
                clients.step(names[stage]);
            }
            clients.stop();
            assertNoFailureAndNoRestart(clients, one, two);
            assertRefusesKey(keyA, one, two);
        }
    }

    @Test
    void kubernetesSecretVolumeRotatesBySymlinkSwapsWithoutRestartOrFailedConnection() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "no POSIX file system");
        String keyA = FernetCli.keygen();
        String keyB = FernetCli.keygen();
        // one Secret mounted by every pod: key -> ..data/key, ..data -> ..VERSION, files 0644 (defaultMode)
        Path mount = Files.createDirectory(dir.resolve("fernet-secret"));
        swap(mount, 0, keyA);
        Files.createSymbolicLink(mount.resolve("key"), Path.of("..data/key"));
        Path keyFile = mount.resolve("key");
        Map<String, String> environment =
                Map.of("FERNET_KEY_FILE_REFRESH", "1", "FERNET_KEY_FILE_PERMISSIONS", "readable");
        try (EchoServer echo = EchoServer.plain(EchoServer.ECHO_THEN_COUNT);
                TunnelProcess one = tunnel(echo, keyFile, environment);
                TunnelProcess two = tunnel(echo, keyFile, environment);
                Clients clients = new Clients(
                        "0: Secret [A]",
                        List.of(one, two),
                        watching(keyFile, environment),
                        watching(keyFile, environment))) {
            assertTrue(one.log().contains("FERNET_KEY_FILE_PERMISSIONS=readable is in effect"), one.log());
            clients.step("0: Secret [A]");
            swap(mount, 1, keyA, keyB);
            awaitReloads(List.of(one, two), List.of(keyFile, keyFile), 1);
            clients.step("1: Secret [A, B]");
            swap(mount, 2, keyB, keyA);
            awaitReloads(List.of(one, two), List.of(keyFile, keyFile), 2);
            clients.step("2: Secret [B, A]");
            swap(mount, 3, keyB);
            awaitReloads(List.of(one, two), List.of(keyFile, keyFile), 3);
            clients.step("3: Secret [B]");
            clients.stop();
            assertNoFailureAndNoRestart(clients, one, two);
            // said once, not at every reload
            assertEquals(
                    1, one.log().split("FERNET_KEY_FILE_PERMISSIONS=readable is in effect", -1).length - 1, one.log());
            assertRefusesKey(keyA, one, two);
        }
    }

    @Test
    void sighupMakesTheTunnelReadItsKeyFileAtOnceAndABadFileKeepsTheKeys() throws Exception {
        String keyA = FernetCli.keygen();
        String keyB = FernetCli.keygen();
        Path keyFile = KeyFiles.write(dir.resolve("server.key"), keyA);
        // an hour between checks: only the signal can make this tunnel read the file again within the test
        try (EchoServer echo = EchoServer.plain(EchoServer.ECHO_THEN_COUNT);
                TunnelProcess tunnel = tunnel(echo, keyFile, Map.of("FERNET_KEY_FILE_REFRESH", "3600"));
                Socket established = factory(keyA).createSocket(HOST, tunnel.port())) {
            established.setSoTimeout((int) WAIT.toMillis());
            echoOnce(established, "before");

            KeyFiles.write(keyFile, keyB);
            assertRefusesKey(keyB, tunnel);
            tunnel.hangup();
            assertEquals(
                    "fernet tunnel: SIGHUP: keys reloaded for new connections",
                    tunnel.awaitLine("fernet tunnel: SIGHUP"));
            exchange(factory(keyB), tunnel);
            assertRefusesKey(keyA, tunnel);
            echoOnce(established, "after"); // established connections keep their keys

            String cutShort = keyA.substring(0, 30);
            KeyFiles.write(keyFile, cutShort);
            tunnel.hangup();
            assertTrue(tunnel.awaitLine("fernet tunnel: SIGHUP").startsWith("fernet tunnel: SIGHUP: no new keys"));
            exchange(factory(keyB), tunnel);
            assertTrue(
                    tunnel.log()
                            .contains("key file " + keyFile + " changed but cannot be used, so the keys read"
                                    + " before stay in force: key file " + keyFile + " line 1: "),
                    tunnel.log());
            assertFalse(tunnel.log().contains(cutShort), "the tunnel logged a line of the key file");
            assertTrue(tunnel.isAlive());
        }
    }

    // ---- the fleet

    /** {@code fernet tunnel --listen 127.0.0.1:0 --connect ECHO --decrypt --key-file F}, with {@code environment}. */
    private static TunnelProcess tunnel(EchoServer target, Path keyFile, Map<String, String> environment)
            throws IOException, InterruptedException {
        return TunnelProcess.start(
                environment,
                "--listen",
                HOST + ":0",
                "--connect",
                target.address(),
                "--decrypt",
                "--key-file",
                keyFile.toString());
    }

    /** A client as an application makes it: keys from the configuration, its key file watched. */
    private static SocketFactory watching(Path keyFile, Map<String, String> environment) {
        Map<String, String> all = new HashMap<>(environment);
        all.put("FERNET_KEY_FILE", keyFile.toString());
        return FernetSocketFactory.configured(all, FernetSocketOptions.fromConfiguration());
    }

    /** A client of one key, in code: it watches nothing. */
    private static SocketFactory factory(String key) {
        return new FernetSocketFactory(PythonPeerIT.secretKey(key));
    }

    /**
     * Waits until every tunnel has logged a reload once more, and the clients' key files have been reloaded
     * {@code times} times each in this JVM: what the guide's wait of one refresh interval stands for.
     */
    private void awaitReloads(List<TunnelProcess> tunnels, List<Path> clientFiles, int times)
            throws InterruptedException {
        for (TunnelProcess tunnel : tunnels) {
            tunnel.awaitLine("keys reloaded from key file");
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (Path file : clientFiles.stream().distinct().toList()) {
            long expected =
                    (long) times * clientFiles.stream().filter(file::equals).count();
            while (clientReloads.stream().filter(file.toString()::equals).count() < expected) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "client key file " + file + " not reloaded " + expected + " times: " + clientReloads);
                Thread.sleep(20);
            }
        }
    }

    /** Replaces the mount's {@code ..data} link by a new directory holding {@code keys}, atomically, as kubelet does. */
    private static void swap(Path mount, int version, String... keys) throws IOException {
        Path data = Files.createDirectory(mount.resolve("..2026_11_30_0" + version));
        Path file = data.resolve("key");
        Files.writeString(file, String.join("\n", keys) + "\n", US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Path next = Files.createSymbolicLink(mount.resolve("..data_tmp"), data.getFileName());
        Files.move(next, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void assertNoFailureAndNoRestart(Clients clients, TunnelProcess... tunnels) {
        assertEquals(List.of(), clients.failures(), "connections failed during the rotation");
        for (Map.Entry<String, int[]> step : clients.counts().entrySet()) {
            assertTrue(
                    step.getValue()[0] > 0 && step.getValue()[1] > 0,
                    "step " + step.getKey() + " did not reach both servers: " + Arrays.toString(step.getValue()));
        }
        for (TunnelProcess tunnel : tunnels) {
            assertTrue(tunnel.isAlive(), tunnel + " exited");
            String log = tunnel.log();
            assertEquals(1, log.split("fernet tunnel: listening on", -1).length - 1, "restarted: " + log);
        }
    }

    /** A client holding only {@code key} is refused by every one of {@code tunnels}. */
    private static void assertRefusesKey(String key, TunnelProcess... tunnels) {
        for (TunnelProcess tunnel : tunnels) {
            IOException refused = assertThrows(IOException.class, () -> exchange(factory(key), tunnel));
            assertTrue(
                    String.valueOf(refused.getMessage()).contains("does not hold a matching Fernet key"),
                    refused.toString());
        }
    }

    private static void echoOnce(Socket socket, String text) throws IOException {
        byte[] sent = (text + "\n").getBytes(US_ASCII);
        socket.getOutputStream().write(sent);
        assertArrayEquals(sent, socket.getInputStream().readNBytes(sent.length));
    }

    /** One echo exchange of 1 KiB, with a pause in the middle so that a key change can land mid-connection. */
    private static void exchange(SocketFactory factory, TunnelProcess server) throws IOException, InterruptedException {
        byte[] data = new byte[1024];
        new SecureRandom().nextBytes(data);
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        try (Socket socket = factory.createSocket(HOST, server.port())) {
            socket.setSoTimeout((int) WAIT.toMillis());
            InputStream in = socket.getInputStream();
            socket.getOutputStream().write(data);
            int first = in.read();
            if (first < 0) {
                throw new IOException("connection ended before the echo");
            }
            back.write(first);
            Thread.sleep(20);
            socket.shutdownOutput();
            back.writeBytes(in.readAllBytes());
        }
        byte[] trailer = ("<" + data.length + " bytes>\n").getBytes(US_ASCII);
        byte[] got = back.toByteArray();
        assertEquals(data.length + trailer.length, got.length, "echo length");
        assertArrayEquals(data, Arrays.copyOf(got, data.length), "the echo came back altered");
        assertArrayEquals(trailer, Arrays.copyOfRange(got, data.length, got.length), "the echo server's count");
    }

    /** Client threads, each making connections one after another, round-robin over the servers. */
    private static final class Clients implements AutoCloseable {
        private final List<TunnelProcess> servers;
        private final List<Thread> threads = new ArrayList<>();
        private final List<String> failures = new CopyOnWriteArrayList<>();
        private final Map<String, int[]> counts = new ConcurrentHashMap<>();
        private final AtomicInteger total = new AtomicInteger();
        private volatile String step;
        private volatile boolean stopped;

        /** Starts a thread for each of {@code factories}; {@code firstStep} names the step they start in. */
        Clients(String firstStep, List<TunnelProcess> servers, SocketFactory... factories) {
            this.step = firstStep;
            this.servers = servers;
            for (SocketFactory factory : factories) {
                int number = threads.size() + 1;
                Thread thread = new Thread(() -> loop(number, factory), "client " + number);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
        }

        private void loop(int number, SocketFactory factory) {
            int next = number;
            while (!stopped) {
                int index = next++ % servers.size();
                String during = step;
                try {
                    exchange(factory, servers.get(index));
                    counts.computeIfAbsent(during, s -> new int[servers.size()]);
                    synchronized (counts) {
                        counts.get(during)[index]++;
                    }
                    total.incrementAndGet();
                } catch (IOException | RuntimeException | AssertionError e) {
                    failures.add("client " + number + " to server " + (index + 1) + " during " + during + ": " + e);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** Names the step now running and waits until the clients have made enough connections in it. */
        void step(String name) throws InterruptedException {
            step = name;
            int target = total.get() + CONNECTIONS_PER_STEP;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (total.get() < target) {
                assertTrue(System.nanoTime() < deadline, "clients made too few connections in step " + name);
                assertEquals(List.of(), failures, "connections failed");
                Thread.sleep(10);
            }
        }

        void stop() throws InterruptedException {
            stopped = true;
            for (Thread thread : threads) {
                thread.join(WAIT.toMillis());
            }
        }

        List<String> failures() {
            return List.copyOf(failures);
        }

        /** Connections per step, per server. */
        Map<String, int[]> counts() {
            synchronized (counts) {
                return new TreeMap<>(counts);
            }
        }

        @Override
        public void close() {
            try {
                stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
