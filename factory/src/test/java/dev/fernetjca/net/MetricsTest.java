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

import dev.fernetjca.testing.EchoServer;
import java.io.EOFException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import javax.crypto.SecretKey;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The MBean {@code dev.fernetjca:type=Sockets}, read as an operator does: through the platform MBean server. */
@Timeout(60)
class MetricsTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();
    private static final Duration HANDSHAKE = Duration.ofSeconds(10);

    @Test
    void countsConnectionsHandshakesBytesAndKeysThroughThePlatformMBeanServer() throws Exception {
        SecretKey key = newKey();
        String identity = FernetSocketFactory.externalPsks(key).get(0).split(" ")[0];
        // the MBean appears with the first socket of the JVM; an earlier test class may have made it already
        try (EchoServer echo = new EchoServer(serverFactory(key, HANDSHAKE)::createServerSocket)) {
            long opened = counter("ConnectionsOpened");
            long active = counter("ConnectionsActive");
            long handshakes = counter("HandshakesSucceeded");
            long bytesIn = counter("BytesIn");
            long bytesOut = counter("BytesOut");
            byte[] message = new byte[10_000];
            for (int i = 0; i < 3; i++) {
                try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, echo.port())) {
                    socket.getOutputStream().write(message);
                    socket.shutdownOutput();
                    assertArrayEquals(message, socket.getInputStream().readAllBytes());
                    if (i == 0) {
                        assertTrue(counter("ConnectionsActive") >= active + 1, "an open socket is active");
                    }
                }
            }
            // both ends are in this JVM: each connection is two sockets, two handshakes, bytes counted on both sides
            awaitAtLeast(() -> counter("ConnectionsOpened"), opened + 6);
            awaitAtLeast(() -> counter("HandshakesSucceeded"), handshakes + 6);
            awaitAtLeast(() -> keyConnections(identity), 6);
            awaitAtLeast(() -> counter("BytesIn"), bytesIn + 6L * message.length);
            awaitAtLeast(() -> counter("BytesOut"), bytesOut + 6L * message.length);
            awaitAtLeast(() -> active - counter("ConnectionsActive"), 0); // closed sockets are no longer active
        }
        long reloaded = counter("KeysReloaded");
        Metrics.keysReloaded();
        assertEquals(reloaded + 1, counter("KeysReloaded"));
    }

    @Test
    void handshakeFailuresAreCountedByReason() throws Exception {
        SecretKey serverKey = newKey();
        long keyMismatch = failures("key-mismatch");
        long notPeer = failures("not-fernet-peer");
        long timeout = failures("timeout");
        try (EchoServer echo = new EchoServer(serverFactory(serverKey, Duration.ofMillis(500))::createServerSocket)) {
            try (Socket socket = clientFactory(newKey(), HANDSHAKE).createSocket(LOOPBACK, echo.port())) {
                assertThrows(SSLException.class, () -> socket.getOutputStream().write(1));
            }
            try (Socket plain = new Socket(LOOPBACK, echo.port())) {
                plain.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(UTF_8));
                assertEquals(-1, readQuietly(plain));
            }
            try (Socket silent = new Socket(LOOPBACK, echo.port())) {
                assertEquals(-1, readQuietly(silent), "cut at the handshake deadline");
            }
            // the client and the server both tell a key mismatch
            awaitAtLeast(() -> failures("key-mismatch"), keyMismatch + 2);
            awaitAtLeast(() -> failures("not-fernet-peer"), notPeer + 1);
            awaitAtLeast(() -> failures("timeout"), timeout + 1);
        }
        TabularData table = (TabularData) SERVER.getAttribute(name(), "HandshakeFailures");
        assertEquals(TlsFailures.REASONS.size(), table.size(), "every reason is listed, zero or not");
    }

    @Test
    void everyReasonIsOneThatTranslateProduces() {
        List<String> reasons = List.of(
                TlsFailures.reason(new SSLException("/127.0.0.1:1 does not hold a matching Fernet key: it offered x")),
                TlsFailures.reason(new SSLException("/127.0.0.1:1 is not a fernet-jca peer: it did not speak TLS")),
                TlsFailures.reason((IOException)
                        new SSLException("handshake did not complete").initCause(new SocketTimeoutException())),
                TlsFailures.reason(new EOFException("ended during the handshake")),
                TlsFailures.reason(new SSLException("handshake failed: internal_error")));
        assertEquals(TlsFailures.REASONS, reasons);
    }

    private static int readQuietly(Socket socket) {
        try {
            socket.setSoTimeout(10_000);
            return socket.getInputStream().read();
        } catch (IOException e) {
            return -1; // a reset is as good as an end here
        }
    }

    private static ObjectName name() throws Exception {
        return new ObjectName("dev.fernetjca:type=Sockets");
    }

    private static long counter(String attribute) {
        try {
            return (Long) SERVER.getAttribute(name(), attribute);
        } catch (Exception e) {
            throw new AssertionError(attribute, e);
        }
    }

    private static long failures(String reason) {
        Metrics.register();
        try {
            TabularData table = (TabularData) SERVER.getAttribute(name(), "HandshakeFailures");
            return (Long) table.get(new Object[] {reason}).get("count");
        } catch (Exception e) {
            throw new AssertionError(reason, e);
        }
    }

    private static long keyConnections(String identity) {
        try {
            TabularData table = (TabularData) SERVER.getAttribute(name(), "KeyConnections");
            CompositeData row = table.get(new Object[] {identity});
            return row == null ? 0 : (Long) row.get("count");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Waits up to 10 s for {@code figure} to reach {@code expected}: the server side counts on its own thread. */
    private static void awaitAtLeast(LongSupplier figure, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long seen = figure.getAsLong();
        while (seen < expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            seen = figure.getAsLong();
        }
        assertTrue(seen >= expected, "expected at least " + expected + ", saw " + seen);
    }
}
