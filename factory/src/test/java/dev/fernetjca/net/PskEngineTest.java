package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our SSLEngine against itself over in-memory wires ({@link EngineLink}) that cut the bytes into fragments down to one
 * byte, as a user gets it: {@code FernetPskProvider.sslContext(key).createSSLEngine()}.
 */
@Timeout(30)
class PskEngineTest {
    private static SSLEngine engine(SecretKey key) {
        return FernetPskProvider.sslContext(key).createSSLEngine("peer.example", 443);
    }

    private static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @ParameterizedTest(name = "fragments of at most {0} bytes")
    @ValueSource(ints = {1, 7, 300, 40_000})
    void handshakesAndCarriesDataBothWaysWhateverTheFragmentation(int maxFragment) throws Exception {
        SecretKey key = newKey();
        EngineLink link = new EngineLink(engine(key), engine(key), maxFragment, maxFragment);
        byte[] up = random(maxFragment == 1 ? 40_000 : 200_000, 1);
        byte[] down = random(70_001, 2);
        link.client.send(up);
        link.server.send(down);
        link.run();
        assertArrayEquals(up, link.server.received.toByteArray());
        assertArrayEquals(down, link.client.received.toByteArray());
        assertEquals(1, link.client.finished, "FINISHED once, on the client's wrap of its Finished");
        assertEquals(1, link.server.finished, "FINISHED once, on the server's unwrap of the client's Finished");
        assertEquals(HandshakeStatus.NOT_HANDSHAKING, link.client.engine.getHandshakeStatus());
        assertEquals(HandshakeStatus.NOT_HANDSHAKING, link.server.engine.getHandshakeStatus());
    }

    @Test
    void sessionNamesProtocolSuiteAndIdentityAndHasNoCertificates() throws Exception {
        SecretKey key = newKey();
        String identity = FernetSocketFactory.externalPsks(key).get(0).split(" ")[0];
        SSLEngine server = engine(key);
        EngineLink link = new EngineLink(engine(key), server, 100, 3);
        server.setEnabledCipherSuites(new String[] {"TLS_CHACHA20_POLY1305_SHA256"});
        assertEquals("NONE", link.client.engine.getSession().getProtocol());
        link.run();
        for (SSLEngine engine : new SSLEngine[] {link.client.engine, server}) {
            SSLSession session = engine.getSession();
            assertEquals("TLSv1.3", session.getProtocol());
            assertEquals("TLS_CHACHA20_POLY1305_SHA256", session.getCipherSuite());
            assertEquals(identity, session.getPeerPrincipal().getName());
            assertThrows(SSLPeerUnverifiedException.class, session::getPeerCertificates);
            assertNull(session.getLocalCertificates());
            assertTrue(session.isValid());
            assertEquals("", engine.getApplicationProtocol());
            assertEquals(16_384, session.getApplicationBufferSize());
        }
        assertEquals("peer.example", link.client.engine.getSession().getPeerHost());
        assertEquals(443, link.client.engine.getSession().getPeerPort());
    }

    @Test
    void handshakeStatusAtEveryStep() throws Exception {
        SecretKey key = newKey();
        SSLEngine client = engine(key);
        SSLEngine server = engine(key);
        client.setUseClientMode(true);
        server.setUseClientMode(false);
        assertEquals(HandshakeStatus.NOT_HANDSHAKING, client.getHandshakeStatus());
        client.beginHandshake();
        server.beginHandshake();
        assertEquals(HandshakeStatus.NEED_WRAP, client.getHandshakeStatus());
        assertEquals(HandshakeStatus.NEED_UNWRAP, server.getHandshakeStatus());
        // each end does what its status asks, and each result's status is the engine's own status after the call
        SSLEngine[] ends = {client, server};
        ByteBuffer[] inbound = {ByteBuffer.allocate(20_000), ByteBuffer.allocate(20_000)};
        int[] finished = new int[2];
        ByteBuffer app = ByteBuffer.allocate(16_384);
        for (int step = 0; step < 50 && finished[0] + finished[1] < 2; step++) {
            for (int i = 0; i < 2; i++) {
                SSLEngine end = ends[i];
                SSLEngineResult result;
                if (end.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                    result = end.wrap(ByteBuffer.allocate(0), inbound[1 - i]);
                    assertTrue(result.bytesProduced() > 0, "NEED_WRAP means there is something to send");
                } else if (end.getHandshakeStatus() == HandshakeStatus.NEED_UNWRAP && inbound[i].position() > 0) {
                    inbound[i].flip();
                    result = end.unwrap(inbound[i], app);
                    inbound[i].compact();
                } else {
                    continue;
                }
                assertEquals(Status.OK, result.getStatus());
                if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                    finished[i]++;
                    assertEquals(HandshakeStatus.NOT_HANDSHAKING, end.getHandshakeStatus());
                } else {
                    assertEquals(end.getHandshakeStatus(), result.getHandshakeStatus());
                }
            }
        }
        assertArrayEquals(new int[] {1, 1}, finished, "FINISHED once on each side");
        assertEquals(0, inbound[0].position() + inbound[1].position(), "every handshake byte was read");
        assertEquals(0, app.position(), "no application data during the handshake");
        assertNull(client.getDelegatedTask());
    }

    @Test
    void buffersTooSmallAreOverflowAndPartialRecordsUnderflowWithNothingConsumed() throws Exception {
        SecretKey key = newKey();
        EngineLink link = new EngineLink(engine(key), engine(key), 1000, 4);
        link.run();
        SSLEngine client = link.client.engine;
        byte[] data = random(1000, 5);
        ByteBuffer tiny = ByteBuffer.allocate(10);
        SSLEngineResult overflow = client.wrap(ByteBuffer.wrap(data), tiny);
        assertEquals(Status.BUFFER_OVERFLOW, overflow.getStatus());
        assertEquals(0, overflow.bytesConsumed());
        ByteBuffer record = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        assertEquals(1000, client.wrap(ByteBuffer.wrap(data), record).bytesConsumed());
        record.flip();
        SSLEngine server = link.server.engine;
        ByteBuffer part = ByteBuffer.wrap(record.array(), 0, record.limit() - 1);
        ByteBuffer app = ByteBuffer.allocate(16_384);
        SSLEngineResult underflow = server.unwrap(part, app);
        assertEquals(Status.BUFFER_UNDERFLOW, underflow.getStatus());
        assertEquals(0, underflow.bytesConsumed());
        SSLEngineResult small = server.unwrap(record, ByteBuffer.allocate(999));
        assertEquals(Status.BUFFER_OVERFLOW, small.getStatus());
        assertEquals(0, small.bytesConsumed());
        SSLEngineResult whole = server.unwrap(record, app);
        assertEquals(Status.OK, whole.getStatus());
        assertArrayEquals(data, Arrays.copyOf(app.array(), app.position()));
    }

    @Test
    void readOnlyBuffersAreRefusedBeforeAnythingIsConsumed() throws Exception {
        SecretKey key = newKey();
        EngineLink link = new EngineLink(engine(key), engine(key), 1000, 10);
        link.run();
        ByteBuffer record = ByteBuffer.allocate(20_000);
        link.client.engine.wrap(ByteBuffer.wrap(new byte[] {1, 2, 3}), record);
        record.flip();
        assertThrows(
                ReadOnlyBufferException.class,
                () -> link.server.engine.unwrap(
                        record, ByteBuffer.allocate(16_384).asReadOnlyBuffer()));
        assertThrows(
                ReadOnlyBufferException.class,
                () -> link.client.engine.wrap(
                        ByteBuffer.allocate(1), ByteBuffer.allocate(20_000).asReadOnlyBuffer()));
        ByteBuffer app = ByteBuffer.allocate(16_384);
        assertEquals(3, link.server.engine.unwrap(record, app).bytesProduced(), "nothing was consumed or failed");
    }

    @Test
    void closeNotifyEndsOneDirectionAndTheOtherGoesOn() throws Exception {
        SecretKey key = newKey();
        EngineLink link = new EngineLink(engine(key), engine(key), 50, 6);
        link.run();
        link.client.engine.closeOutbound();
        assertEquals(HandshakeStatus.NEED_WRAP, link.client.engine.getHandshakeStatus());
        link.run();
        assertTrue(link.client.engine.isOutboundDone());
        assertTrue(link.server.engine.isInboundDone());
        assertTrue(link.server.inboundClosed, "the server's unwrap returned CLOSED");
        link.server.engine.closeInbound(); // after close_notify: no truncation
        byte[] reply = "still talking".getBytes(UTF_8);
        link.server.send(reply);
        link.run();
        assertArrayEquals(reply, link.client.received.toByteArray());
        link.server.engine.closeOutbound();
        link.run();
        assertTrue(link.client.engine.isInboundDone());
        assertTrue(link.server.engine.isOutboundDone());
        assertEquals(
                Status.CLOSED,
                link.client
                        .engine
                        .wrap(ByteBuffer.wrap(reply), ByteBuffer.allocate(20_000))
                        .getStatus());
    }

    @Test
    void closeInboundWithoutCloseNotifyIsATruncationAndFinal() throws Exception {
        SecretKey key = newKey();
        EngineLink link = new EngineLink(engine(key), engine(key), 50, 7);
        link.run();
        SSLException e = assertThrows(SSLException.class, link.server.engine::closeInbound);
        assertEquals("connection with peer.example:443 ended without close_notify", e.getMessage());
        assertTrue(link.server.engine.isInboundDone());
        SSLException again = assertThrows(
                SSLException.class,
                () -> link.server.engine.unwrap(ByteBuffer.allocate(100), ByteBuffer.allocate(100)));
        assertEquals(e.getMessage(), again.getMessage());
        assertEquals(
                Status.CLOSED,
                link.server
                        .engine
                        .wrap(ByteBuffer.allocate(10), ByteBuffer.allocate(20_000))
                        .getStatus());
    }

    @Test
    void closeInboundBeforeAnyHandshakeIsQuiet() throws Exception {
        SSLEngine engine = engine(newKey());
        engine.setUseClientMode(false);
        engine.closeInbound();
        assertTrue(engine.isInboundDone());
    }

    @Test
    void aPeerWithAnotherKeyFailsBothSidesWithTheSocketsWords() throws Exception {
        EngineLink link = new EngineLink(engine(newKey()), engine(newKey()), 100, 8);
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class, link::run);
        assertTrue(e.getMessage().contains("does not hold a matching Fernet key"), e.getMessage());
        // the server failed first and queued its alert; the client reads it
        assertEquals(HandshakeStatus.NEED_WRAP, link.server.engine.getHandshakeStatus());
        SSLException clientSide = assertThrows(SSLException.class, () -> deliverAlert(link.server, link.client));
        assertTrue(clientSide.getMessage().contains("does not hold a matching Fernet key"), clientSide.getMessage());
        assertTrue(clientSide.getMessage().contains("unknown_psk_identity"), clientSide.getMessage());
    }

    @Test
    void aForgedRecordYieldsNothingAndFailsForGood() throws Exception {
        SecretKey key = newKey();
        EngineLink link = new EngineLink(engine(key), engine(key), 100, 9);
        link.run();
        ByteBuffer record = ByteBuffer.allocate(20_000);
        link.client.engine.wrap(ByteBuffer.wrap("secret plaintext".getBytes(UTF_8)), record);
        record.flip();
        record.put(10, (byte) (record.get(10) ^ 1));
        ByteBuffer app = ByteBuffer.allocate(16_384);
        SSLException e = assertThrows(SSLException.class, () -> link.server.engine.unwrap(record, app));
        assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
        assertEquals(0, app.position(), "nothing unauthenticated reaches the application");
        assertThrows(SSLException.class, () -> link.server.engine.unwrap(record, app));
        assertEquals(HandshakeStatus.NEED_WRAP, link.server.engine.getHandshakeStatus(), "bad_record_mac to send");
        SSLException alert = assertThrows(SSLException.class, () -> deliverAlert(link.server, link.client));
        assertTrue(alert.getMessage().contains("sent alert bad_record_mac"), alert.getMessage());
    }

    /** Wraps what the failed {@code from} has to say and unwraps it at {@code to}, record by record. */
    private static void deliverAlert(EngineLink.End from, EngineLink.End to) throws SSLException {
        ByteBuffer wire = ByteBuffer.allocate(from.engine.getSession().getPacketBufferSize());
        from.wire.reset();
        SSLEngineResult result = from.engine.wrap(ByteBuffer.allocate(0), wire);
        assertEquals(Status.CLOSED, result.getStatus());
        assertTrue(from.engine.isOutboundDone());
        wire.flip();
        ByteBuffer app = ByteBuffer.allocate(16_384);
        while (wire.hasRemaining()) {
            to.engine.unwrap(wire, app);
        }
    }

    /** A canary: no message or {@code toString} met while failing in every way shows the key or its PSK secret. */
    @Test
    void noMessageOrTextShowsTheKeyOrItsSecret() throws Exception {
        SecretKey key = newKey();
        List<String> seen = new ArrayList<>();
        EngineLink wrongKey = new EngineLink(engine(key), engine(newKey()), 100, 11);
        seen.add(assertThrows(SSLException.class, wrongKey::run).getMessage());
        seen.add(assertThrows(SSLException.class, () -> deliverAlert(wrongKey.server, wrongKey.client))
                .getMessage());
        EngineLink link = new EngineLink(engine(key), engine(key), 100, 12);
        link.run();
        seen.add(link.client.engine.getSession().toString());
        seen.add(link.client.engine.getSession().getPeerPrincipal().toString());
        seen.add(link.client.engine.toString());
        seen.add(FernetPskProvider.sslContext(key).getSocketFactory().toString());
        ByteBuffer record = ByteBuffer.allocate(20_000);
        link.client.engine.wrap(ByteBuffer.wrap(new byte[] {1}), record);
        record.flip();
        record.put(8, (byte) (record.get(8) ^ 1));
        seen.add(assertThrows(SSLException.class, () -> link.server.engine.unwrap(record, ByteBuffer.allocate(16_384)))
                .getMessage());
        seen.add(assertThrows(SSLException.class, link.client.engine::closeInbound)
                .getMessage());
        String secretHex = FernetSocketFactory.externalPsks(key).get(0).split(" ")[1];
        List<String> secrets = List.of(
                secretHex,
                HexFormat.of().formatHex(key.getEncoded()),
                Base64.getUrlEncoder().encodeToString(key.getEncoded()));
        for (String text : seen) {
            for (String secret : secrets) {
                assertFalse(text.contains(secret), text);
            }
        }
    }

    @Test
    void bytesThatAreNotTlsFailAtOnce() throws Exception {
        SSLEngine server = engine(newKey());
        server.setUseClientMode(false);
        ByteBuffer http = ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(UTF_8));
        SSLHandshakeException e =
                assertThrows(SSLHandshakeException.class, () -> server.unwrap(http, ByteBuffer.allocate(16_384)));
        assertTrue(e.getMessage().contains("is not a fernet-jca peer: it did not speak TLS"), e.getMessage());
    }

    @Test
    void modeMustBeChosenAndOnlyOurSuitesAndProtocolExist() {
        SSLEngine engine = engine(newKey());
        assertThrows(IllegalStateException.class, engine::beginHandshake);
        assertThrows(
                IllegalArgumentException.class,
                () -> engine.setEnabledCipherSuites(new String[] {"TLS_AES_256_GCM_SHA384"}));
        assertThrows(IllegalArgumentException.class, () -> engine.setEnabledProtocols(new String[] {"TLSv1.2"}));
        engine.setEnabledProtocols(new String[] {"TLSv1.2", "TLSv1.3"});
        assertArrayEquals(new String[] {"TLSv1.3"}, engine.getEnabledProtocols());
        SSLContext context = FernetPskProvider.sslContext(newKey());
        assertArrayEquals(
                PskEngineBase.SUITES, context.getDefaultSSLParameters().getCipherSuites());
        assertFalse(engine.isInboundDone());
    }
}
