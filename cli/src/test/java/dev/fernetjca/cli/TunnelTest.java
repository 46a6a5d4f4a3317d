package dev.fernetjca.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.FernetProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The tunnel's plumbing, in-process: plain client, encrypting tunnel, decrypting tunnel, plain server. */
@Timeout(60)
class TunnelTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final StringWriter logText = new StringWriter();
    private final PrintWriter log = new PrintWriter(logText, true);

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
    }

    private static SecretKey newKey() throws Exception {
        return KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
    }

    /** A plain server that answers each connection with what it read, reversed, after the client half-closes. */
    private ServerSocket reversingServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
        pool.submit(() -> {
            while (!server.isClosed()) {
                Socket socket = server.accept();
                pool.submit(() -> {
                    try (socket) {
                        byte[] got = socket.getInputStream().readAllBytes();
                        byte[] reversed = new byte[got.length];
                        for (int i = 0; i < got.length; i++) {
                            reversed[i] = got[got.length - 1 - i];
                        }
                        socket.getOutputStream().write(reversed);
                    }
                    return null;
                });
            }
            return null;
        });
        return server;
    }

    private static InetSocketAddress any() {
        return new InetSocketAddress(LOOPBACK, 0);
    }

    private static InetSocketAddress at(ServerSocket server) {
        return new InetSocketAddress(LOOPBACK, server.getLocalPort());
    }

    @Test
    void carriesBothDirectionsWithHalfCloseThroughTwoTunnels() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = reversingServer();
             Tunnel decrypting = Tunnel.start(any(), new FernetServerSocketFactory(key), at(server),
                     SocketFactory.getDefault(), 8, log);
             Tunnel encrypting = Tunnel.start(any(), ServerSocketFactory.getDefault(),
                     new InetSocketAddress(LOOPBACK, decrypting.port()), new FernetSocketFactory(key), 8, log);
             Socket client = new Socket(LOOPBACK, encrypting.port())) {
            byte[] message = new byte[300_000];
            new Random(4).nextBytes(message);
            client.getOutputStream().write(message);
            client.shutdownOutput(); // passes through both tunnels: the server reads to its end
            byte[] answer = client.getInputStream().readAllBytes();
            assertEquals(message.length, answer.length);
            assertEquals(message[0], answer[answer.length - 1]);
            assertEquals(message[message.length - 1], answer[0]);
        }
        String lines = logText.toString();
        assertTrue(lines.contains("up 300000 B, down 300000 B"), lines);
        assertTrue(lines.contains("closed cleanly"), lines);
    }

    @Test
    void aClientWithTheWrongKeyFailsOnlyItsOwnConnection() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = reversingServer();
             Tunnel decrypting = Tunnel.start(any(), new FernetServerSocketFactory(key), at(server),
                     SocketFactory.getDefault(), 8, log)) {
            try (Socket intruder = new FernetSocketFactory(newKey()).createSocket(LOOPBACK, decrypting.port())) {
                assertThrows(IOException.class, () -> {
                    intruder.getOutputStream().write(1);
                    intruder.getInputStream().read();
                });
            }
            try (Socket client = new FernetSocketFactory(key).createSocket(LOOPBACK, decrypting.port())) {
                client.getOutputStream().write("abc".getBytes(UTF_8));
                client.shutdownOutput();
                assertArrayEquals("cba".getBytes(UTF_8), client.getInputStream().readAllBytes());
            }
        }
        assertTrue(logText.toString().contains("does not hold a matching Fernet key"), logText.toString());
    }

    @Test
    void refusesConnectionsBeyondTheLimit() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket silent = new ServerSocket(0, 50, LOOPBACK);
             Tunnel encrypting = Tunnel.start(any(), ServerSocketFactory.getDefault(), at(silent),
                     new FernetSocketFactory(key), 1, log);
             Socket first = new Socket(LOOPBACK, encrypting.port())) {
            waitFor(() -> encrypting.activeConnections() == 1);
            try (Socket second = new Socket(LOOPBACK, encrypting.port())) {
                assertEquals(-1, second.getInputStream().read());
            }
            assertTrue(logText.toString().contains("refused: 1 connections already open"), logText.toString());
        }
    }

    @Test
    void shutdownLetsOpenConnectionsFinish() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = reversingServer();
             Tunnel decrypting = Tunnel.start(any(), new FernetServerSocketFactory(key), at(server),
                     SocketFactory.getDefault(), 8, log);
             Socket client = new FernetSocketFactory(key).createSocket(LOOPBACK, decrypting.port())) {
            client.getOutputStream().write("draining".getBytes(UTF_8));
            waitFor(() -> decrypting.activeConnections() == 1);
            Future<Integer> cut = pool.submit(() -> decrypting.shutdown(Duration.ofSeconds(10)));
            Thread.sleep(200);
            // no new connections once stopping
            assertThrows(IOException.class, () -> new Socket(LOOPBACK, decrypting.port()).close());
            client.shutdownOutput();
            assertArrayEquals("gniniard".getBytes(UTF_8), client.getInputStream().readAllBytes());
            assertEquals(0, cut.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void parsesHostAndPort() {
        assertEquals(new InetSocketAddress("127.0.0.1", 5432), Tunnel.parse("127.0.0.1:5432"));
        assertEquals(new InetSocketAddress("::1", 80), Tunnel.parse("[::1]:80"));
        assertThrows(IllegalArgumentException.class, () -> Tunnel.parse("5432"));
        assertThrows(IllegalArgumentException.class, () -> Tunnel.parse("host:99999"));
        assertThrows(IllegalArgumentException.class, () -> Tunnel.parse("host:"));
    }

    private interface Condition {
        boolean holds();
    }

    private static void waitFor(Condition condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.holds()) {
            assertTrue(System.nanoTime() < deadline, "condition not reached in 10 s");
            Thread.sleep(10);
        }
    }
}
