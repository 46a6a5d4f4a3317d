package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import javax.crypto.SecretKey;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Engine connections in the MBean {@code dev.fernetjca:type=Sockets}, read through the platform MBean server as
 * {@link MetricsTest} reads the sockets': a pair of {@code FernetPSK} engines over in-memory wires ({@link EngineLink})
 * must move every figure exactly as a pair of sockets does, and once only however often the consumer repeats a call.
 *
 * <p>The figures are JVM-wide, and a socket of an earlier test class may still be closing on a thread of its own; so
 * each scenario compares every figure's change exactly, and runs again, with a new key, when something else moved a
 * figure meanwhile. A miscount here is deterministic and fails every run.
 */
@Timeout(60)
class PskEngineMetricsTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();
    private static final int RUNS = 3;
    private static final String[] COUNTERS = {
        "ConnectionsOpened", "ConnectionsActive", "HandshakesSucceeded", "BytesIn", "BytesOut"
    };

    /** Open connections held through every test: see {@link #openBallast}. */
    private static final List<EngineLink> BALLAST = new ArrayList<>();

    /**
     * Registers the MBean and opens a few connections that stay open: {@code ConnectionsActive} is opened minus closed
     * but never below zero, so with nothing else open a connection counted closed twice would not show.
     */
    @BeforeAll
    static void openBallast() throws SSLException {
        Metrics.register(); // waits for a registration under way, so the MBean is there to read
        SecretKey key = newKey();
        for (int i = 0; i < 8; i++) {
            EngineLink link = new EngineLink(engine(key), engine(key), 16_000, i);
            link.run();
            BALLAST.add(link);
        }
    }

    @AfterAll
    static void closeBallast() throws SSLException {
        for (EngineLink link : BALLAST) {
            link.client.engine.closeOutbound();
            link.server.engine.closeOutbound();
            link.run();
        }
        BALLAST.clear();
    }

    @Test
    void aGoodConnectionCountsLikeTwoSockets() throws Exception {
        byte[] up = random(50_000, 1);
        byte[] down = random(20_001, 2);
        long bytes = up.length + down.length; // each side counts what it wrote and what it read
        assertCounted(
                List.of(
                        expect(2, 2, 2, bytes, bytes, 2, Map.of()), // handshake and data done, nothing closed
                        expect(2, 2, 2, bytes, bytes, 2, Map.of()), // one direction closed: both still open
                        expect(2, 0, 2, bytes, bytes, 2, Map.of())), // the other too: both closed
                (key, checkpoint) -> {
                    EngineLink link = new EngineLink(engine(key), engine(key), 300, 3);
                    link.client.send(up);
                    link.server.send(down);
                    link.run();
                    assertArrayEquals(up, link.server.received.toByteArray());
                    assertArrayEquals(down, link.client.received.toByteArray());
                    checkpoint.run();
                    link.client.engine.closeOutbound();
                    link.run();
                    assertTrue(link.server.engine.isInboundDone(), "close_notify reached the server");
                    link.client.engine.closeOutbound();
                    link.server.engine.closeInbound(); // after close_notify: no truncation
                    link.server.engine.closeInbound();
                    checkpoint.run(); // the server may still write, and the client read
                    link.server.engine.closeOutbound();
                    link.run();
                    assertTrue(link.client.engine.isInboundDone(), "close_notify reached the client");
                    for (EngineLink.End end : List.of(link.client, link.server)) {
                        end.engine.closeOutbound();
                        end.engine.closeInbound();
                        assertEquals(Status.CLOSED, wrapOne(end.engine).getStatus());
                        assertEquals(
                                Status.CLOSED,
                                unwrapOne(end.engine, new byte[100]).getStatus());
                    }
                    checkpoint.run();
                });
    }

    @Test
    void aPeerWithAnotherKeyCountsAKeyMismatchOnEachSideOnce() throws Exception {
        assertCounted(
                List.of(
                        expect(2, 1, 0, 0, 0, 0, Map.of("key-mismatch", 1L)), // the server refused the ClientHello
                        expect(2, 0, 0, 0, 0, 0, Map.of("key-mismatch", 2L))), // and the client read its alert
                (key, checkpoint) -> {
                    EngineLink link = new EngineLink(engine(key), engine(newKey()), 100, 4);
                    SSLHandshakeException refused = assertThrows(SSLHandshakeException.class, link::run);
                    assertTrue(
                            refused.getMessage().contains("does not hold a matching Fernet key"), refused.getMessage());
                    repeatEveryCall(link.server.engine); // the alert stays queued: wrapOne would take it
                    checkpoint.run();
                    deliverAlert(link.server, link.client);
                    repeatEveryCall(link.server.engine);
                    repeatEveryCall(link.client.engine);
                    checkpoint.run();
                });
    }

    @Test
    void aCutAfterTheHandshakeClosesOnceAndIsNoHandshakeFailure() throws Exception {
        byte[] up = "before the cut".getBytes(UTF_8);
        assertCounted(
                List.of(
                        expect(2, 1, 2, up.length, up.length, 2, Map.of()), // the server's end cut
                        expect(2, 0, 2, up.length, up.length, 2, Map.of())), // the client gave up too
                (key, checkpoint) -> {
                    EngineLink link = new EngineLink(engine(key), engine(key), 100, 5);
                    link.client.send(up);
                    link.run();
                    SSLException cut = assertThrows(SSLException.class, link.server.engine::closeInbound);
                    assertEquals("connection with peer.example:443 ended without close_notify", cut.getMessage());
                    repeatEveryCall(link.server.engine);
                    checkpoint.run();
                    link.client.engine.closeOutbound();
                    assertThrows(SSLException.class, link.client.engine::closeInbound);
                    repeatEveryCall(link.client.engine);
                    checkpoint.run();
                });
    }

    @Test
    void aCutDuringTheHandshakeIsAPeerClosedFailureAndAnAbandonedOneAnotherFailureOnce() throws Exception {
        assertCounted(
                List.of(
                        expect(2, 1, 0, 0, 0, 0, Map.of("peer-closed", 1L)), // the server's end cut mid-handshake
                        expect(2, 0, 0, 0, 0, 0, Map.of("peer-closed", 1L, "other", 1L))), // the client gave up
                (key, checkpoint) -> {
                    EngineLink link = new EngineLink(engine(key), engine(key), 100, 6);
                    link.client.wrapAll(); // ClientHello
                    link.server.netIn.put(link.client.wire.toByteArray());
                    link.server.unwrapAll();
                    link.server.wrapAll(); // ServerHello to Finished, never delivered
                    SSLException cut = assertThrows(SSLException.class, link.server.engine::closeInbound);
                    assertTrue(cut.getMessage().contains("ended during the handshake"), cut.getMessage());
                    repeatEveryCall(link.server.engine);
                    checkpoint.run();
                    // as Netty gives up on a handshake (its timeout, or the channel gone): closeOutbound, closeInbound
                    link.client.engine.closeOutbound(); // abandons the handshake: user_canceled, close_notify
                    link.client.engine.closeInbound();
                    link.client.engine.closeOutbound();
                    link.client.engine.closeInbound();
                    assertEquals(Status.CLOSED, wrapOne(link.client.engine).getStatus(), "user_canceled leaves");
                    assertEquals(Status.CLOSED, wrapOne(link.client.engine).getStatus());
                    checkpoint.run();
                });
    }

    @Test
    void aClientThatDoesNotSpeakTlsIsANotFernetPeerFailureOnce() throws Exception {
        assertCounted(List.of(expect(1, 0, 0, 0, 0, 0, Map.of("not-fernet-peer", 1L))), (key, checkpoint) -> {
            SSLEngine server = engine(key);
            server.setUseClientMode(false);
            byte[] http = "GET / HTTP/1.1\r\nHost: peer.example\r\n\r\n".getBytes(UTF_8);
            SSLException refused = assertThrows(SSLException.class, () -> unwrapOne(server, http));
            assertTrue(refused.getMessage().contains("is not a fernet-jca peer"), refused.getMessage());
            repeatEveryCall(server);
            assertEquals(Status.CLOSED, wrapOne(server).getStatus(), "the alert leaves");
            assertEquals(Status.CLOSED, wrapOne(server).getStatus());
            checkpoint.run();
        });
    }

    @Test
    void anEngineThatNeverStartsCountsNothing() throws Exception {
        assertCounted(List.of(expect(0, 0, 0, 0, 0, 0, Map.of())), (key, checkpoint) -> {
            SSLEngine engine = engine(key);
            engine.setUseClientMode(true);
            engine.closeOutbound();
            engine.closeInbound();
            assertEquals(Status.CLOSED, wrapOne(engine).getStatus());
            checkpoint.run();
        });
    }

    /** One scenario with a fresh key; calls {@code checkpoint} where the figures' changes are compared. */
    private interface Scenario {
        void run(SecretKey key, Checkpoint checkpoint) throws Exception;
    }

    private interface Checkpoint {
        void run();
    }

    /**
     * Runs {@code scenario} until the figures' changes since its start are {@code expected} at every checkpoint, at
     * most {@link #RUNS} times; fails with the last run's figures.
     */
    private static void assertCounted(List<Map<String, Long>> expected, Scenario scenario) throws Exception {
        List<Map<String, Long>> seen = List.of();
        for (int run = 0; run < RUNS; run++) {
            SecretKey key = newKey();
            String identity = FernetSocketFactory.externalPsks(key).get(0).split(" ")[0];
            Map<String, Long> before = figures(identity);
            List<Map<String, Long>> changes = new ArrayList<>();
            scenario.run(key, () -> changes.add(minus(figures(identity), before)));
            if (changes.equals(expected)) {
                return;
            }
            seen = changes;
        }
        assertEquals(expected, seen, "figure changes at each checkpoint, in " + RUNS + " runs");
    }

    /** The changes one checkpoint expects; every failure reason not named must not move. */
    private static Map<String, Long> expect(
            long opened,
            long active,
            long handshakes,
            long bytesIn,
            long bytesOut,
            long keyConnections,
            Map<String, Long> failures) {
        Map<String, Long> figures = new TreeMap<>();
        figures.put("ConnectionsOpened", opened);
        figures.put("ConnectionsActive", active);
        figures.put("HandshakesSucceeded", handshakes);
        figures.put("BytesIn", bytesIn);
        figures.put("BytesOut", bytesOut);
        figures.put("KeyConnections", keyConnections);
        for (String reason : TlsFailures.REASONS) {
            figures.put("HandshakeFailures " + reason, failures.getOrDefault(reason, 0L));
        }
        return figures;
    }

    private static Map<String, Long> figures(String identity) {
        try {
            ObjectName name = new ObjectName(Metrics.OBJECT_NAME);
            Map<String, Long> figures = new TreeMap<>();
            for (String counter : COUNTERS) {
                figures.put(counter, (Long) SERVER.getAttribute(name, counter));
            }
            TabularData byIdentity = (TabularData) SERVER.getAttribute(name, "KeyConnections");
            CompositeData row = byIdentity.get(new Object[] {identity});
            figures.put("KeyConnections", row == null ? 0L : (Long) row.get("count"));
            TabularData failures = (TabularData) SERVER.getAttribute(name, "HandshakeFailures");
            for (String reason : TlsFailures.REASONS) {
                figures.put("HandshakeFailures " + reason, (Long)
                        failures.get(new Object[] {reason}).get("count"));
            }
            return figures;
        } catch (Exception e) {
            throw new AssertionError("cannot read " + Metrics.OBJECT_NAME, e);
        }
    }

    private static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> changes = new TreeMap<>();
        after.forEach((figure, value) -> changes.put(figure, value - before.get(figure)));
        return changes;
    }

    /** What a consumer may do again and again to a failed engine; none of it may count a second time. */
    private static void repeatEveryCall(SSLEngine engine) throws SSLException {
        for (int i = 0; i < 2; i++) {
            assertThrows(SSLException.class, () -> unwrapOne(engine, new byte[100]));
            engine.closeInbound(); // quiet after a failure
            engine.closeOutbound();
            assertTrue(engine.isInboundDone());
        }
    }

    private static SSLEngineResult wrapOne(SSLEngine engine) throws SSLException {
        return engine.wrap(ByteBuffer.wrap(new byte[] {1, 2, 3}), ByteBuffer.allocate(20_000));
    }

    private static SSLEngineResult unwrapOne(SSLEngine engine, byte[] bytes) throws SSLException {
        return engine.unwrap(ByteBuffer.wrap(bytes), ByteBuffer.allocate(20_000));
    }

    /** Wraps what the failed {@code from} has to say and unwraps it at {@code to}, which fails reading it. */
    private static void deliverAlert(EngineLink.End from, EngineLink.End to) throws SSLException {
        ByteBuffer wire = ByteBuffer.allocate(from.engine.getSession().getPacketBufferSize());
        assertEquals(
                Status.CLOSED, from.engine.wrap(ByteBuffer.allocate(0), wire).getStatus());
        wire.flip();
        ByteBuffer app = ByteBuffer.allocate(16_384);
        assertThrows(SSLException.class, () -> {
            while (wire.hasRemaining()) {
                to.engine.unwrap(wire, app);
            }
        });
    }

    private static SSLEngine engine(SecretKey key) {
        return FernetPskProvider.sslContext(key).createSSLEngine("peer.example", 443);
    }

    private static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
