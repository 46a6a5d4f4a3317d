package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;

/**
 * An {@link javax.net.ssl.SSLEngine} that speaks the sockets' protocol (docs/protocol.md): Bouncy Castle's
 * non-blocking TLS 1.3 runs the handshake ({@link EngineHandshake}), fed exactly one record per {@code unwrap} so that no byte sent after the
 * peer's Finished reaches it; then {@link EngineRecords} protects application data with the traffic secrets, as
 * {@link TlsEngine} hands over to {@link RecordLayer}. The configuration surface (modes, suites, parameters) is in
 * {@link PskEngineBase}.
 *
 * <p>What the engine promises: no application byte is returned before its record's tag verified; a peer's end
 * without close_notify ({@link #closeInbound()} before it) is an {@link SSLException}, never a clean close; after a
 * failure every {@code unwrap} throws the first failure's story again, and {@code wrap} only sends the alert that says
 * why. Failure messages are those of the sockets ({@link TlsFailures}).
 *
 * <p>It counts in {@link Metrics} as a socket does: opened when its handshake begins, the handshake and its failure by
 * reason, application bytes, and closed once both directions are closed or it failed.
 *
 * <p>Thread-safe: one lock serializes every call; no call blocks on I/O or runs a delegated task.
 */
final class PskEngine extends PskEngineBase {
    private static final System.Logger LOG = System.getLogger(PskEngine.class.getName());

    private final Settings settings;
    private final String peer; // for messages: host:port if the engine was given them
    private final PskSession session;

    private EngineHandshake handshake; // from the first wrap or unwrap until the handshake is done
    private EngineRecords records; // ours, once the handshake is done
    private byte[] pending = new byte[0]; // bytes to send, in order: handshake flights, alerts
    private int pendingStart;
    private boolean finishedOwed; // the wrap that sends the last handshake bytes reports FINISHED
    private boolean outboundClosed; // closeOutbound: nothing sealed but what is pending
    private boolean inboundDone; // close_notify received, or the connection abandoned or failed
    private SSLException failure;
    private TlsFailures.Evidence doneEvidence; // what the handshake showed, for failures after it
    private final AtomicBoolean counted = new AtomicBoolean(); // by Metrics, from the handshake's start to the end

    PskEngine(Settings settings, String peerHost, int peerPort) {
        super(peerHost, peerPort);
        this.settings = settings;
        this.peer = peerHost == null ? "peer" : peerHost + (peerPort < 0 ? "" : ":" + peerPort);
        this.session = new PskSession(peerHost, peerPort);
    }

    @Override
    synchronized boolean handshakeStarted() {
        return handshake != null || records != null || failure != null;
    }

    @Override
    public synchronized void beginHandshake() throws SSLException {
        checkNotFailed();
        if (records != null) {
            throw new SSLException("renegotiation is not supported in TLS 1.3; KeyUpdate is automatic");
        }
        if (handshake == null && (inboundDone || outboundClosed)) {
            throw new SSLException("engine closed");
        }
        start();
    }

    private void start() throws SSLException {
        if (handshake != null || records != null || inboundDone || outboundClosed) {
            return;
        }
        modeChosen();
        if (!getEnableSessionCreation()) {
            throw new SSLException("session creation is disabled, and there are no sessions to resume");
        }
        handshake = new EngineHandshake(getUseClientMode(), enabledSuiteNumbers(), settings.psks, peer);
        try {
            queue(handshake.begin());
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        }
        // a connection once its handshake has begun, as a socket is one from its connect or accept: an engine made and
        // never used (a pool's spare, a consumer that fails before its first wrap) would otherwise stay active for good
        Metrics.opened(counted);
    }

    @Override
    public synchronized SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
            throws SSLException {
        checkArguments(srcs, offset, length, dst);
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (pendingStart == pending.length && failure == null) {
            start();
        }
        if (pendingStart < pending.length) {
            int waiting = pending.length - pendingStart;
            if (dst.remaining() < Math.min(waiting, session.getPacketBufferSize())) {
                return result(Status.BUFFER_OVERFLOW, 0, 0, false);
            }
            int n = Math.min(waiting, dst.remaining());
            dst.put(pending, pendingStart, n);
            pendingStart += n;
            boolean finished = finishedOwed && pendingStart == pending.length;
            finishedOwed &= !finished;
            return result(isOutboundDone() ? Status.CLOSED : Status.OK, 0, n, finished);
        }
        if (failure != null || outboundClosed) {
            return result(Status.CLOSED, 0, 0, false);
        }
        if (records == null) {
            return result(Status.OK, 0, 0, false); // handshaking: nothing to send until the peer answers
        }
        try {
            if (records.keyUpdateOwed()) {
                int before = dst.position();
                Status status = records.sealKeyUpdate(dst) ? Status.OK : Status.BUFFER_OVERFLOW;
                return result(status, 0, dst.position() - before, false);
            }
            int before = dst.position();
            int consumed = records.sealData(srcs, offset, length, dst);
            Metrics.sent(consumed);
            boolean hadData = consumed > 0 || hasRemaining(srcs, offset, length);
            return result(
                    consumed == 0 && hadData ? Status.BUFFER_OVERFLOW : Status.OK,
                    consumed,
                    dst.position() - before,
                    false);
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        }
    }

    @Override
    public synchronized SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length)
            throws SSLException {
        checkArguments(dsts, offset, length, src);
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].isReadOnly()) {
                throw new ReadOnlyBufferException(); // before anything is consumed: a caller's mistake fails nothing
            }
        }
        checkNotFailed();
        if (inboundDone) {
            return result(Status.CLOSED, 0, 0, false);
        }
        start();
        if (handshake != null && handshake.isClient() && handshake.bytesReceived() == 0 && !pendingEmpty()) {
            return result(Status.OK, 0, 0, false); // our ClientHello goes first
        }
        if (src.remaining() < HEADER) {
            return result(Status.BUFFER_UNDERFLOW, 0, 0, false);
        }
        int at = src.position();
        int bodyLength = ((src.get(at + 3) & 0xff) << 8) | (src.get(at + 4) & 0xff);
        try {
            if (records == null) {
                return unwrapHandshake(src, bodyLength);
            }
            if (bodyLength <= MAX_CIPHERTEXT && src.remaining() < HEADER + bodyLength) {
                return result(Status.BUFFER_UNDERFLOW, 0, 0, false);
            }
            if (room(dsts, offset, length) < EngineRecords.maxContent(bodyLength)) {
                return result(Status.BUFFER_OVERFLOW, 0, 0, false);
            }
            int produced = records.open(src, bodyLength, dsts, offset, length);
            if (records.closeNotifyReceived()) {
                inboundDone = true;
                records.destroyOpener();
                LOG.log(System.Logger.Level.DEBUG, () -> "close_notify from " + peer);
                countClosedIfDone();
                return result(Status.CLOSED, HEADER + bodyLength, 0, false);
            }
            Metrics.received(produced);
            return result(Status.OK, HEADER + bodyLength, produced, false);
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        }
    }

    /** Offers Bouncy Castle exactly the one record at {@code src}'s position, and takes over once it is connected. */
    private SSLEngineResult unwrapHandshake(ByteBuffer src, int bodyLength) throws IOException {
        byte[] header = new byte[HEADER];
        src.get(src.position(), header);
        handshake.checkHeader(header, bodyLength);
        if (src.remaining() < HEADER + bodyLength) {
            return result(Status.BUFFER_UNDERFLOW, 0, 0, false);
        }
        byte[] record = new byte[HEADER + bodyLength];
        src.get(record);
        byte[] answer = handshake.offer(record);
        if (!handshake.isHandshaking() && !handshake.isClient() && answer.length > 0) {
            // the client's Finished needs no answer; anything Bouncy Castle sealed now would be under the application
            // keys, and our sealer starts again at sequence 0: a nonce used twice
            throw new TlsFatalAlert(AlertDescription.internal_error, "records after the handshake");
        }
        queue(answer);
        if (handshake.isHandshaking()) {
            return result(Status.OK, record.length, 0, false);
        }
        records = handshake.takeOver(session);
        doneEvidence = handshake.evidence(true);
        int index = handshake.selectedIndex();
        Metrics.handshakeSucceeded(handshake.heldIdentities(), index);
        handshake = null; // Bouncy Castle's protocol state is garbage from here on
        LOG.log(
                System.Logger.Level.DEBUG,
                () -> "handshake with " + peer + " done, key " + (index + 1) + " of the ring");
        finishedOwed = !pendingEmpty();
        return result(Status.OK, record.length, 0, !finishedOwed);
    }

    private boolean pendingEmpty() {
        return pendingStart == pending.length;
    }

    /** Queues {@code bytes} to send after whatever is pending. */
    private void queue(byte[] bytes) {
        if (bytes.length > 0) {
            int kept = pending.length - pendingStart;
            byte[] more = Arrays.copyOfRange(pending, pendingStart, pendingStart + kept + bytes.length);
            System.arraycopy(bytes, 0, more, kept, bytes.length);
            pending = more;
            pendingStart = 0;
        }
    }

    /** Seals {@code description} with our sending key and queues it. */
    private void queueAlert(short description) throws IOException {
        ByteBuffer sealed = ByteBuffer.allocate(EngineRecords.OVERHEAD + 2);
        records.sealAlert(description, sealed);
        queue(Arrays.copyOf(sealed.array(), sealed.position()));
    }

    /**
     * Sends close_notify with the next wrap; during the handshake, abandons it with Bouncy Castle's close, and counts
     * it a failed handshake.
     */
    @Override
    public synchronized void closeOutbound() {
        if (outboundClosed) {
            return;
        }
        outboundClosed = true;
        if (failure != null) {
            return;
        }
        try {
            if (records != null) {
                queueAlert(AlertDescription.close_notify);
                records.destroySealer();
            } else if (handshake != null) {
                queue(handshake.close()); // user_canceled and close_notify: the handshake is over, both ways
                handshake = null;
                inboundDone = true;
                // how a consumer gives up (Netty's handshake timeout, or its transport closed under it: closeOutbound,
                // then closeInbound): a failure, as a socket's handshake cut by close() is one, in TlsFailures' words
                Metrics.failed(
                        false, new SSLHandshakeException("handshake with " + peer + " abandoned before it completed"));
                LOG.log(System.Logger.Level.DEBUG, () -> "handshake with " + peer + " abandoned");
            } else {
                inboundDone = true; // nothing began: nothing to say
            }
        } catch (IOException | RuntimeException e) {
            fail(e); // the alert may not leave; the failure is recorded for the next unwrap
        }
        countClosedIfDone();
    }

    @Override
    public synchronized boolean isOutboundDone() {
        return (outboundClosed || failure != null) && pendingEmpty();
    }

    /**
     * Ends input. Before the peer's close_notify, once a handshake began, this is a truncation: the connection fails
     * for good and this throws, as JSSE does, with the sockets' words.
     */
    @Override
    public synchronized void closeInbound() throws SSLException {
        if (inboundDone || failure != null) {
            inboundDone = true;
            return;
        }
        if (handshake == null && records == null) {
            inboundDone = true;
            outboundClosed = true; // no handshake can begin without input: nothing will ever be sent
            return;
        }
        EOFException cut = new EOFException("connection with " + peer + " ended without close_notify");
        throw fail(records == null ? handshakeCut() : cut);
    }

    private EOFException handshakeCut() {
        return new EOFException("connection with " + peer + " ended during the handshake"
                + (handshake.bytesReceived() == 0 ? ", before it sent anything" : ""));
    }

    /**
     * Counts the connection closed once input is done (close_notify, or abandoned during the handshake) and output was
     * closed, as a socket counts at {@code close()}: the close_notify still queued is not waited for, since a consumer
     * that closes its transport (Netty on an inactive channel) may never wrap it.
     */
    private void countClosedIfDone() {
        if (inboundDone && (outboundClosed || failure != null)) {
            Metrics.closed(counted);
        }
    }

    @Override
    public synchronized boolean isInboundDone() {
        return inboundDone || failure != null;
    }

    @Override
    @SuppressFBWarnings(
            value = "EI_EXPOSE_REP",
            justification = "SSLEngine's contract: the live session, whose values the handshake fills in, as JSSE's")
    public synchronized SSLSession getSession() {
        return session;
    }

    @Override
    public synchronized SSLSession getHandshakeSession() {
        return handshake == null ? null : session;
    }

    @Override
    public synchronized HandshakeStatus getHandshakeStatus() {
        if (!pendingEmpty()) {
            return HandshakeStatus.NEED_WRAP;
        }
        if (failure != null || (outboundClosed && inboundDone)) {
            return HandshakeStatus.NOT_HANDSHAKING;
        }
        if (handshake != null) {
            return HandshakeStatus.NEED_UNWRAP;
        }
        if (records != null && !outboundClosed && records.keyUpdateOwed()) {
            return HandshakeStatus.NEED_WRAP;
        }
        return HandshakeStatus.NOT_HANDSHAKING;
    }

    /**
     * Returns "" once the handshake is done, since no application protocol is negotiated; null before, and after a
     * handshake that failed, as JSSE does.
     */
    @Override
    public synchronized String getApplicationProtocol() {
        return records == null ? null : "";
    }

    @Override
    public synchronized String getHandshakeApplicationProtocol() {
        return handshake == null ? null : "";
    }

    private SSLEngineResult result(Status status, int consumed, int produced, boolean finished) {
        HandshakeStatus handshake = finished ? HandshakeStatus.FINISHED : getHandshakeStatus();
        return new SSLEngineResult(status, handshake, consumed, produced);
    }

    private void checkNotFailed() throws SSLException {
        SSLException first = failure;
        if (first != null) {
            // the first failure's words, so every later call tells the same story
            throw new SSLException(first.getMessage(), first);
        }
    }

    /**
     * Marks the connection failed for good: queues the alert that says why (Bouncy Castle's during the handshake, ours
     * after it), wipes the keys, invalidates the session, and returns the exception to throw. A second failure returns
     * the first's story.
     */
    private SSLException fail(Throwable e) {
        if (failure != null) {
            SSLException again = new SSLException(failure.getMessage(), failure);
            again.addSuppressed(e);
            return again;
        }
        IOException translated = TlsFailures.translate(e, evidence());
        failure = translated instanceof SSLException ssl ? ssl : new SSLException(translated.getMessage(), translated);
        try {
            if (handshake != null) {
                queue(handshake.output()); // unknown_psk_identity, bad_record_mac, ...
            } else if (records != null
                    && !outboundClosed
                    && e instanceof TlsFatalAlert raised) { // an alert received is a TlsFatalAlertReceived
                queueAlert(raised.getAlertDescription());
            }
        } catch (IOException | RuntimeException ignored) {
            // the alert cannot be had; the first cause is the one that matters
        }
        handshake = null;
        if (records != null) {
            records.destroy();
        }
        finishedOwed = false; // the alert may follow our Finished, but the handshake did not finish
        session.invalidate();
        inboundDone = true;
        Metrics.failed(records != null, translated);
        countClosedIfDone();
        String message = failure.getMessage();
        LOG.log(System.Logger.Level.DEBUG, message != null && message.contains(peer) ? message : peer + ": " + message);
        return failure;
    }

    /** What the connection showed so far, for {@link TlsFailures#translate}. */
    private TlsFailures.Evidence evidence() {
        if (records != null) {
            return doneEvidence;
        }
        if (handshake != null) {
            return handshake.evidence(false);
        }
        // nothing began: nothing to diagnose
        return new TlsFailures.Evidence(
                peer, getUseClientMode(), false, 0, false, List.of(), false, "", false, false, false);
    }
}
