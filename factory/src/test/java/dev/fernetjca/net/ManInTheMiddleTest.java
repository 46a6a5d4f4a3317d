package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.clientFactory;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static dev.fernetjca.net.SocketTestSupport.serverFactory;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.Relay;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An active attacker on the path flips a byte, cuts the connection, replays a recorded connection into a new one, and
 * reflects a peer's bytes back at it. Each attack must end in an IOException, and no forged, corrupted or replayed
 * byte may reach the application.
 */
@Timeout(60)
class ManInTheMiddleTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(5);
    private static final byte[] SECRET_MESSAGE = "transfer 100 to account 42".getBytes(UTF_8);

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** Runs a server that reads everything a client sends; returns what reached the application, or the failure. */
    private Future<Object> readAllOnServer(ServerSocket server) {
        return readAllOnServer(server, new CountDownLatch(1));
    }

    /** As above, counting {@code handshakeDone} down once the server's handshake is over. */
    private Future<Object> readAllOnServer(ServerSocket server, CountDownLatch handshakeDone) {
        return pool.submit(() -> {
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            try (Socket accepted = server.accept()) {
                FernetSocketFactory.handshake(accepted);
                handshakeDone.countDown();
                InputStream in = accepted.getInputStream();
                byte[] buffer = new byte[4096];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    received.write(buffer, 0, n);
                }
                return received.toByteArray();
            } catch (IOException e) {
                return new Failure(e, received.toByteArray());
            }
        });
    }

    private record Failure(IOException exception, byte[] deliveredBefore) {}

    @Test
    void flippedByteInApplicationDataFailsTheConnection() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Relay relay = Relay.to(server.getLocalPort())) {
            CountDownLatch serverHandshakeDone = new CountDownLatch(1);
            Future<Object> serverResult = readAllOnServer(server, serverHandshakeDone);
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, relay.port())) {
                FernetSocketFactory.handshake(socket);
                // once the server is through, the client's last handshake byte has crossed the relay
                assertTrue(serverHandshakeDone.await(10, TimeUnit.SECONDS));
                long handshakeBytes = relay.taken(Relay.Direction.TO_SERVER);
                relay.flipByteAt(Relay.Direction.TO_SERVER, handshakeBytes + 20);
                socket.getOutputStream().write(SECRET_MESSAGE);
                socket.shutdownOutput();
            } catch (IOException e) {
                // the client may see the server's alert; what matters is the server side
            }
            Object result = serverResult.get(20, TimeUnit.SECONDS);
            Failure failure = assertFailure(result);
            assertTrue(
                    failure.exception().getMessage().contains("failed authentication"),
                    failure.exception().getMessage());
            assertEquals(0, failure.deliveredBefore().length, "corrupted bytes reached the application");
        }
    }

    @Test
    void flippedByteInTheHandshakeFailsIt() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Relay relay = Relay.to(server.getLocalPort())) {
            relay.flipByteAt(Relay.Direction.TO_CLIENT, 60);
            Future<Object> serverResult = readAllOnServer(server);
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, relay.port())) {
                IOException e = assertThrows(
                        IOException.class, () -> socket.getOutputStream().write(SECRET_MESSAGE));
                assertTrue(e instanceof SSLException || e instanceof EOFException, e.toString());
            }
            assertFailure(serverResult.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void cutConnectionIsAnErrorNotAnEndOfStream() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Relay relay = Relay.to(server.getLocalPort())) {
            Future<Object> serverResult = readAllOnServer(server);
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, relay.port())) {
                socket.getOutputStream().write(SECRET_MESSAGE);
                relay.awaitForwarded(Relay.Direction.TO_SERVER, 1);
                Thread.sleep(200);
                relay.cut(); // no close_notify: a truncation attack, not an end of stream
            }
            Failure failure = assertFailure(serverResult.get(20, TimeUnit.SECONDS));
            assertTrue(
                    failure.exception() instanceof EOFException,
                    failure.exception().toString());
            assertArrayEquals(SECRET_MESSAGE, failure.deliveredBefore());
        }
    }

    @Test
    void replayedConnectionDeliversNothing() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Relay relay = Relay.to(server.getLocalPort())) {
            Future<Object> first = readAllOnServer(server);
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, relay.port())) {
                socket.getOutputStream().write(SECRET_MESSAGE);
                socket.shutdownOutput();
                socket.getInputStream().readAllBytes();
            }
            assertArrayEquals(SECRET_MESSAGE, (byte[]) first.get(20, TimeUnit.SECONDS));
            byte[] recorded = relay.recorded(Relay.Direction.TO_SERVER);

            // the attacker opens a new connection and plays the whole recorded client side into it
            relay.replaceClientBytes(recorded);
            Future<Object> second = readAllOnServer(server);
            try (Socket attacker = new Socket(LOOPBACK, relay.port())) {
                Failure failure = assertFailure(second.get(20, TimeUnit.SECONDS));
                assertEquals(0, failure.deliveredBefore().length, "replayed bytes reached the application");
            }
        }
    }

    @Test
    void serverBytesReflectedBackAtTheServerAreRefused() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK)) {
            Future<Object> serverResult = readAllOnServer(server);
            // the attacker holds no key: it takes a real ClientHello from a real client, then mirrors the server
            byte[] clientHello = captureClientHello(key);
            try (Socket mirror = new Socket(LOOPBACK, server.getLocalPort())) {
                mirror.getOutputStream().write(clientHello);
                pool.submit(() -> {
                    mirror.getInputStream().transferTo(mirror.getOutputStream());
                    return null;
                });
                Failure failure = assertFailure(serverResult.get(20, TimeUnit.SECONDS));
                assertEquals(0, failure.deliveredBefore().length);
            }
        }
    }

    @Test
    void clientBytesReflectedBackAtTheClientAreRefused() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket mirror = new ServerSocket(0, 5, LOOPBACK)) {
            pool.submit(() -> {
                try (Socket accepted = mirror.accept()) {
                    accepted.getInputStream().transferTo(accepted.getOutputStream());
                }
                return null;
            });
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, mirror.getLocalPort())) {
                assertThrows(IOException.class, () -> socket.getInputStream().read());
            }
        }
    }

    /** Records the first flight of a real client against a listener that never answers. */
    private byte[] captureClientHello(SecretKey key) throws Exception {
        try (ServerSocket sink = new ServerSocket(0, 5, LOOPBACK)) {
            Future<byte[]> captured = pool.submit(() -> {
                try (Socket accepted = sink.accept()) {
                    accepted.setSoTimeout(2000);
                    byte[] buffer = new byte[4096];
                    int n = accepted.getInputStream().read(buffer);
                    return Arrays.copyOf(buffer, n);
                }
            });
            try (Socket socket =
                    clientFactory(key, Duration.ofMillis(500)).createSocket(LOOPBACK, sink.getLocalPort())) {
                assertThrows(IOException.class, () -> socket.getOutputStream().write(1));
            }
            byte[] hello = captured.get(10, TimeUnit.SECONDS);
            assertEquals(22, hello[0], "not a TLS handshake record");
            return hello;
        }
    }

    private static Failure assertFailure(Object result) {
        assertTrue(
                result instanceof Failure,
                "the attack went unnoticed; the application received "
                        + (result instanceof byte[] bytes ? bytes.length + " bytes" : result));
        return (Failure) result;
    }
}
