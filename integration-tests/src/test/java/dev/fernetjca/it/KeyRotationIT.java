package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.testing.EchoServer;
import dev.fernetjca.testing.KeyFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import javax.net.SocketFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key rotation of docs/guides/key-rotation.md, on a small fleet: two {@code fernet tunnel --decrypt} processes in
 * front of one plain echo server, and two clients (Java {@link FernetSocketFactory}s in this JVM) making short
 * connections without pause, round-robin over both servers, through the three steps. Not one connection may fail.
 *
 * <p>A restart is what a load balancer does with a backend: the server is taken out of rotation, the restart waits
 * until no client is between connecting and its first answer (so no connection can land in a listening socket that
 * is about to close, which no server could save), then SIGTERM; connections already answered ride on the tunnel's
 * drain, and their server finishes them before it exits. No client ever retries: a connection refused would be a
 * failure too.
 */
@Timeout(300)
class KeyRotationIT {
    private static final String HOST = "127.0.0.1";
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Connections each step must see at least, across both clients, before the next step starts. */
    private static final int CONNECTIONS_PER_STEP = 40;

    @TempDir
    Path dir;

    @Test
    void fleetMovesFromKeyAToKeyBWithoutAFailedConnection() throws Exception {
        String keyA = FernetCli.keygen();
        String keyB = FernetCli.keygen();
        try (EchoServer echo = EchoServer.plain(EchoServer.ECHO_THEN_COUNT);
             Server one = Server.start(echo, KeyFiles.write(dir.resolve("server1.key"), keyA));
             Server two = Server.start(echo, KeyFiles.write(dir.resolve("server2.key"), keyA));
             Clients clients = new Clients(List.of(one, two), factory(keyA), factory(keyA))) {
            clients.step("0: servers [A], clients A");

            // step 1: servers hold [B, A], one at a time
            one.restart(KeyFiles.write(dir.resolve("server1.key"), keyB, keyA));
            clients.step("1: server 1 [B, A]");
            two.restart(KeyFiles.write(dir.resolve("server2.key"), keyB, keyA));
            clients.step("1: servers [B, A]");

            // step 2: clients switch to B, one at a time
            clients.use(0, factory(keyB));
            clients.step("2: client 1 B, client 2 A");
            clients.use(1, factory(keyB));
            clients.step("2: clients B");

            // step 3: servers drop A, one at a time
            one.restart(KeyFiles.write(dir.resolve("server1.key"), keyB));
            clients.step("3: server 1 [B]");
            two.restart(KeyFiles.write(dir.resolve("server2.key"), keyB));
            clients.step("3: servers [B]");

            clients.stop();
            assertEquals(List.of(), clients.failures(), "connections failed during the rotation");
            for (Map.Entry<String, int[]> step : clients.counts().entrySet()) {
                assertTrue(step.getValue()[0] > 0 && step.getValue()[1] > 0,
                        "step " + step.getKey() + " did not reach both servers: " + Arrays.toString(step.getValue()));
            }

            // a client still on A after the last step is refused by every server
            for (Server server : List.of(one, two)) {
                IOException refused = assertThrows(IOException.class,
                        () -> exchange(factory(keyA), server, Duration.ZERO));
                assertTrue(String.valueOf(refused.getMessage()).contains("does not hold a matching Fernet key"),
                        refused.toString());
            }
        }
    }

    /** A client of one key, as in the guide: clients switch from A to B in one move. */
    private static SocketFactory factory(String key) {
        return new FernetSocketFactory(PythonPeerIT.secretKey(key));
    }

    /**
     * One echo exchange of 1 KiB: connect and get the first byte back under the server's lease, then (the connection
     * accepted and answering) release it, pause, half-close and read the rest, so that a restart can land mid-connection.
     */
    private static void exchange(SocketFactory factory, Server server, Duration pause) throws IOException,
            InterruptedException {
        byte[] data = new byte[1024];
        new SecureRandom().nextBytes(data);
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        try (Socket socket = factory.createSocket(HOST, server.port)) {
            socket.setSoTimeout((int) WAIT.toMillis());
            InputStream in = socket.getInputStream();
            socket.getOutputStream().write(data);
            int first = in.read();
            if (first < 0) {
                throw new IOException("connection ended before the echo");
            }
            back.write(first);
            server.release();
            Thread.sleep(pause.toMillis());
            socket.shutdownOutput();
            back.writeBytes(in.readAllBytes());
        }
        byte[] trailer = ("<" + data.length + " bytes>\n").getBytes(US_ASCII);
        byte[] got = back.toByteArray();
        assertEquals(data.length + trailer.length, got.length, "echo length");
        assertArrayEquals(data, Arrays.copyOf(got, data.length), "the echo came back altered");
        assertArrayEquals(trailer, Arrays.copyOfRange(got, data.length, got.length), "the echo server's count");
    }

    /** One {@code fernet tunnel --decrypt} on a fixed port, restarted in place, with a lease clients take to connect. */
    private static final class Server implements AutoCloseable {
        private final EchoServer target;
        private final int port;
        private final ReentrantReadWriteLock lease = new ReentrantReadWriteLock();
        private volatile boolean inRotation = true;
        private volatile TunnelProcess process;

        private Server(EchoServer target, TunnelProcess process) {
            this.target = target;
            this.process = process;
            this.port = process.port();
        }

        /** {@code fernet tunnel --listen 127.0.0.1:0 --connect ECHO --decrypt --key-file F} */
        static Server start(EchoServer target, Path keyFile) throws IOException, InterruptedException {
            return new Server(target, TunnelProcess.start("--listen", HOST + ":0", "--connect", target.address(),
                    "--decrypt", "--key-file", keyFile.toString()));
        }

        /** Takes the lease for one connection; false if the server is out of rotation. */
        boolean acquire() {
            if (!inRotation || !lease.readLock().tryLock()) {
                return false;
            }
            if (!inRotation) {
                lease.readLock().unlock();
                return false;
            }
            return true;
        }

        void release() {
            if (lease.getReadHoldCount() > 0) {
                lease.readLock().unlock();
            }
        }

        /** Takes the server out of rotation, stops it with SIGTERM once no client is connecting, starts it anew. */
        void restart(Path keyFile) throws IOException, InterruptedException {
            inRotation = false;
            lease.writeLock().lock();
            try {
                TunnelProcess old = process;
                old.terminate();
                old.waitFor(Duration.ofSeconds(30));
                assertEquals("fernet tunnel: stopped", old.awaitLine("stopped"), "the drain cut connections");
                old.close();
                // the same port, as a service restarted in place
                process = TunnelProcess.start("--listen", HOST + ":" + port, "--connect", target.address(),
                        "--decrypt", "--key-file", keyFile.toString());
            } finally {
                inRotation = true;
                lease.writeLock().unlock();
            }
        }

        @Override
        public void close() {
            process.close();
        }
    }

    /** Client threads, each making connections one after another, round-robin over the servers in rotation. */
    private static final class Clients implements AutoCloseable {
        private final List<Server> servers;
        private final List<AtomicReference<SocketFactory>> factories = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final List<String> failures = new CopyOnWriteArrayList<>();
        private final Map<String, int[]> counts = new ConcurrentHashMap<>();
        private final AtomicInteger total = new AtomicInteger();
        private volatile String step = "0: servers [A], clients A";
        private volatile boolean stopped;

        Clients(List<Server> servers, SocketFactory... initial) {
            this.servers = servers;
            for (SocketFactory factory : initial) {
                AtomicReference<SocketFactory> reference = new AtomicReference<>(factory);
                factories.add(reference);
                int number = factories.size();
                Thread thread = new Thread(() -> loop(number, reference), "client " + number);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
        }

        private void loop(int number, AtomicReference<SocketFactory> factory) {
            int next = number;
            while (!stopped) {
                boolean connected = false;
                for (int tries = 0; tries < servers.size() && !connected; tries++) {
                    int index = next++ % servers.size();
                    Server server = servers.get(index);
                    if (!server.acquire()) {
                        continue;
                    }
                    connected = true;
                    String during = step;
                    try {
                        exchange(factory.get(), server, Duration.ofMillis(20));
                        counts.computeIfAbsent(during, s -> new int[servers.size()]);
                        synchronized (counts) {
                            counts.get(during)[index]++;
                        }
                        total.incrementAndGet();
                    } catch (IOException | RuntimeException | AssertionError e) {
                        failures.add("client " + number + " to server " + (index + 1) + " during " + during + ": " + e);
                    } catch (InterruptedException e) {
                        return;
                    } finally {
                        server.release();
                    }
                }
                if (!connected) {
                    try {
                        Thread.sleep(10); // every server out of rotation: never, with one restart at a time
                    } catch (InterruptedException e) {
                        return;
                    }
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

        void use(int client, SocketFactory factory) {
            factories.get(client).set(factory);
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
