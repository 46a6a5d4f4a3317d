package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our SSLEngine driven one handshake step at a time, by hand: what Bouncy Castle sends at each step, and what the
 * engine reports when it is closed early or fails halfway.
 */
@Timeout(30)
class PskEngineStepsTest {
    private static final byte[] NOTHING = new byte[0];

    /** A client and a server engine holding the same key, the handshake begun. */
    private static SSLEngine[] pair() throws SSLException {
        SSLContext context = FernetPskProvider.sslContext(newKey());
        SSLEngine client = context.createSSLEngine("peer.example", 443);
        SSLEngine server = context.createSSLEngine();
        client.setUseClientMode(true);
        server.setUseClientMode(false);
        client.beginHandshake();
        server.beginHandshake();
        return new SSLEngine[] {client, server};
    }

    /** Wraps all that {@code engine} has to send; returns it flipped. */
    private static ByteBuffer wrapAll(SSLEngine engine) throws SSLException {
        ByteBuffer wire = ByteBuffer.allocate(1 << 16);
        while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            engine.wrap(ByteBuffer.wrap(NOTHING), wire);
        }
        return wire.flip();
    }

    /** Unwraps every record in {@code wire}. */
    private static void unwrapAll(SSLEngine engine, ByteBuffer wire) throws SSLException {
        ByteBuffer app = ByteBuffer.allocate(1 << 15);
        while (wire.hasRemaining() && engine.unwrap(wire, app).bytesConsumed() > 0) {
            app.clear();
        }
    }

    /** The content type of each record in {@code wire}, which is left as it was. */
    private static List<Integer> types(ByteBuffer wire) {
        List<Integer> types = new ArrayList<>();
        for (int at = wire.position(); at < wire.limit(); ) {
            types.add((int) wire.get(at));
            at += RecordProtection.HEADER + (((wire.get(at + 3) & 0xff) << 8) | (wire.get(at + 4) & 0xff));
        }
        return types;
    }

    /**
     * Pinned to Bouncy Castle 1.84: the records of each step. If an upgrade changes them, {@link EngineHandshake}'s
     * count of sealed flight records must change with it, or handshakes fail with internal_error.
     */
    @Test
    void bouncyCastleSendsItsFlightsOneMessageARecordAndNothingAfter() throws Exception {
        SSLEngine[] ends = pair();
        ByteBuffer clientHello = wrapAll(ends[0]);
        assertEquals(List.of(22), types(clientHello));
        unwrapAll(ends[1], clientHello);
        ByteBuffer serverFlight = wrapAll(ends[1]);
        assertEquals(
                List.of(22, 20, 23, 23),
                types(serverFlight),
                "ServerHello, ChangeCipherSpec; EncryptedExtensions, Finished");
        assertEquals(
                EngineHandshake.SERVER_SEALED_RECORDS,
                types(serverFlight).stream().filter(type -> type == 23).count());
        unwrapAll(ends[0], serverFlight);
        ByteBuffer clientFinished = wrapAll(ends[0]);
        assertEquals(List.of(20, 23), types(clientFinished), "ChangeCipherSpec; Finished");
        unwrapAll(ends[1], clientFinished);
        assertEquals(List.of(), types(wrapAll(ends[1])));
        assertEquals(HandshakeStatus.NOT_HANDSHAKING, ends[0].getHandshakeStatus());
        assertEquals(HandshakeStatus.NOT_HANDSHAKING, ends[1].getHandshakeStatus());
    }

    @Test
    void recordsAfterTheFlightsAreAnInternalErrorOnBothSides() throws Exception {
        byte[] sealed = {23, 3, 3, 0, 1, 0};
        byte[] plain = {22, 3, 3, 0, 1, 0};
        EngineHandshake client =
                new EngineHandshake(true, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256}, List.of(), "p");
        client.flight(plain);
        client.flight(sealed); // its Finished
        assertInternalError(() -> client.flight(plain));
        EngineHandshake server =
                new EngineHandshake(false, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256}, List.of(), "p");
        byte[] flightAndMore = new byte[sealed.length * 4];
        System.arraycopy(plain, 0, flightAndMore, 0, plain.length);
        System.arraycopy(sealed, 0, flightAndMore, 6, sealed.length);
        System.arraycopy(sealed, 0, flightAndMore, 12, sealed.length);
        System.arraycopy(sealed, 0, flightAndMore, 18, sealed.length); // a ticket, say, under the application key
        assertInternalError(() -> server.flight(flightAndMore));
    }

    private static void assertInternalError(Step step) {
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, step::run);
        assertEquals(AlertDescription.internal_error, alert.getAlertDescription());
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    /** A client that took over at the server's Finished, then failed on a forged record before sending its own. */
    private static SSLEngine failedAfterTheTakeOver() throws SSLException {
        SSLEngine[] ends = pair();
        unwrapAll(ends[1], wrapAll(ends[0]));
        ByteBuffer serverFlight = wrapAll(ends[1]);
        byte[] forged = {23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        ByteBuffer flightAndForgery = ByteBuffer.allocate(serverFlight.remaining() + forged.length);
        flightAndForgery.put(serverFlight).put(forged).flip();
        assertThrows(SSLException.class, () -> unwrapAll(ends[0], flightAndForgery));
        return ends[0];
    }

    @Test
    void aFailureInvalidatesTheSession() throws Exception {
        SSLEngine client = failedAfterTheTakeOver();
        assertFalse(client.getSession().isValid(), "a failed connection's session is invalid");
    }

    @Test
    void aFailureAfterTheTakeOverReportsNoFinished() throws Exception {
        SSLEngine client = failedAfterTheTakeOver();
        ByteBuffer wire = ByteBuffer.allocate(1 << 16);
        SSLEngineResult last = null;
        while (client.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            last = client.wrap(ByteBuffer.wrap(NOTHING), wire);
            assertNotEquals(HandshakeStatus.FINISHED, last.getHandshakeStatus(), "the handshake did not finish");
        }
        assertEquals(Status.CLOSED, last.getStatus());
        assertTrue(client.isOutboundDone());
    }

    @Test
    void anEngineClosedBeforeAnyHandshakeSaysClosed() throws Exception {
        SSLContext context = FernetPskProvider.sslContext(newKey());
        SSLEngine inboundClosed = context.createSSLEngine();
        inboundClosed.setUseClientMode(true);
        inboundClosed.closeInbound();
        SSLEngineResult result = inboundClosed.wrap(ByteBuffer.wrap(new byte[] {1}), ByteBuffer.allocate(1 << 16));
        assertEquals(Status.CLOSED, result.getStatus());
        assertEquals(HandshakeStatus.NOT_HANDSHAKING, result.getHandshakeStatus());
        assertTrue(inboundClosed.isOutboundDone());
        assertEquals(
                "engine closed",
                assertThrows(SSLException.class, inboundClosed::beginHandshake).getMessage());
        SSLEngine outboundClosed = context.createSSLEngine();
        outboundClosed.setUseClientMode(false);
        outboundClosed.closeOutbound();
        assertThrows(SSLException.class, outboundClosed::beginHandshake);
    }

    @Test
    void applicationProtocolIsNullAfterAFailedHandshakeAsInJsse() throws Exception {
        SSLEngine client = FernetPskProvider.sslContext(newKey()).createSSLEngine();
        SSLEngine server = FernetPskProvider.sslContext(newKey()).createSSLEngine();
        EngineLink link = new EngineLink(client, server, 1000, 1);
        assertThrows(SSLException.class, link::run);
        assertNull(server.getApplicationProtocol(), "no handshake completed");
    }

    @Test
    void sessionContextsAreTheSameObjectAndKeepTheirSettings() {
        SSLContext context = FernetPskProvider.sslContext(newKey());
        assertSame(context.getServerSessionContext(), context.getServerSessionContext());
        assertSame(context.getClientSessionContext(), context.getClientSessionContext());
        context.getClientSessionContext().setSessionTimeout(60);
        assertEquals(60, context.getClientSessionContext().getSessionTimeout());
        assertNotEquals(60, context.getServerSessionContext().getSessionTimeout());
    }
}
