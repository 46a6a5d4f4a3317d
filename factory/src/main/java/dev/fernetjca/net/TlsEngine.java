package dev.fernetjca.net;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsProtocol;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.TlsCrypto;

/**
 * Drives Bouncy Castle's non-blocking TLS protocol ({@code offerInput}/{@code readOutput}/{@code readInput}) over a
 * pair of byte streams. Being non-blocking, a read timeout on the raw stream loses nothing: bytes already read stay
 * offered to the protocol, and the next read goes on.
 *
 * <p>Adds TLS 1.3 half-close, which Bouncy Castle lacks: {@link #shutdownOutput()} sends close_notify and keeps
 * reading; a close_notify received ends input only.
 *
 * <p>One reader and one writer thread at a time, as with Socket; {@link #close()} from any thread.
 */
final class TlsEngine implements Connection {
    private static final System.Logger LOG = System.getLogger(TlsEngine.class.getName());

    /** How long close_notify or an alert may take to leave before the connection is cut without it. */
    static final long GOODBYE_MILLIS = 1000;

    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "fernet-tls-watchdog");
        thread.setDaemon(true);
        return thread;
    });

    /** One TLS record at most: 5-byte header, 2^14 bytes of plaintext, 256 of expansion. */
    static final int RECORD_BYTES = 5 + (1 << 14) + 256;

    private final HalfClose protocol;
    private final boolean client;
    private final PskTlsClient tlsClient;
    private final PskTlsServer tlsServer;
    private final InputStream rawIn;
    private final OutputStream rawOut;
    private final Closeable transport;
    private final String peer;

    private final Object protocolLock = new Object();        // guards every call into Bouncy Castle
    private final ReentrantLock writeLock = new ReentrantLock(); // orders records on the wire
    private final ReentrantLock handshakeLock = new ReentrantLock();
    private final byte[] inbound = new byte[RECORD_BYTES];    // the reader's, or the handshake's
    private byte[] outbound = new byte[RECORD_BYTES];         // under writeLock

    private volatile boolean handshakeDone;
    private volatile boolean inboundClosed;
    private volatile boolean outboundClosed;
    private volatile boolean closed;
    private volatile boolean pendingOutput;
    private volatile IOException failure;

    private final List<String> heldIdentities;              // public, for failure messages
    private final byte[] firstBytes = new byte[2];            // the peer's first bytes: do they begin a TLS record?
    private volatile long bytesReceived;
    private volatile boolean answered;                         // our first handshake flight has been sent

    private TlsEngine(boolean client, TlsCrypto crypto, List<PskDerivation> psks, InputStream rawIn,
                      OutputStream rawOut, Closeable transport, String peer) {
        this.client = client;
        this.rawIn = rawIn;
        this.rawOut = rawOut;
        this.transport = transport;
        this.peer = peer;
        this.heldIdentities = psks.stream().map(PskDerivation::identityText).toList();
        if (client) {
            this.tlsClient = new PskTlsClient(crypto, psks);
            this.tlsServer = null;
            this.protocol = new ClientProtocol(this);
        } else {
            this.tlsClient = null;
            this.tlsServer = new PskTlsServer(crypto, psks);
            this.protocol = new ServerProtocol(this);
        }
    }

    static TlsEngine client(TlsCrypto crypto, List<PskDerivation> psks, InputStream rawIn, OutputStream rawOut,
                            Closeable transport, String peer) {
        return new TlsEngine(true, crypto, psks, rawIn, rawOut, transport, peer);
    }

    static TlsEngine server(TlsCrypto crypto, List<PskDerivation> psks, InputStream rawIn, OutputStream rawOut,
                            Closeable transport, String peer) {
        return new TlsEngine(false, crypto, psks, rawIn, rawOut, transport, peer);
    }

    @Override
    public boolean isHandshakeDone() {
        return handshakeDone;
    }

    /** Returns which key of the ring the peer matched, 0 for the primary, -1 before the handshake. */
    int matchedKeyIndex() {
        return client ? tlsClient.selectedIndex() : tlsServer.selectedIndex();
    }

    /**
     * Runs the handshake unless it is done, within {@code timeoutMillis}; the caller restores its own read timeout.
     *
     * @throws SSLHandshakeException if the peer holds no matching key, the deadline passes, or the peer misbehaves
     */
    @Override
    public void handshake(long timeoutMillis, ReadTimeout readTimeout) throws IOException {
        handshakeLock.lock();
        try {
            if (handshakeDone) {
                return;
            }
            checkUsable();
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            try {
                synchronized (protocolLock) {
                    if (client) {
                        ((TlsClientProtocol) protocol).connect(tlsClient);
                    } else {
                        ((TlsServerProtocol) protocol).accept(tlsServer);
                    }
                }
                flushOutput();
                while (isHandshaking()) {
                    long remainingMillis = (deadline - System.nanoTime()) / 1_000_000L;
                    if (remainingMillis <= 0) {
                        throw new SocketTimeoutException("handshake timed out");
                    }
                    readTimeout.set((int) Math.min(Integer.MAX_VALUE, remainingMillis));
                    int got = rawIn.read(inbound);
                    if (got < 0) {
                        throw new EOFException("connection with " + peer + " ended during the handshake"
                                + (bytesReceived == 0 ? ", before it sent anything" : ""));
                    }
                    received(got);
                    synchronized (protocolLock) {
                        protocol.offerInput(inbound, 0, got);
                    }
                    answered |= flushOutput();
                }
            } catch (SocketTimeoutException e) {
                throw fail(new SSLHandshakeException("handshake with " + peer + " did not complete within "
                        + timeoutMillis + " ms"), e);
            } catch (IOException | RuntimeException e) {
                throw fail(e);
            }
            handshakeDone = true;
            Metrics.handshakeSucceeded(heldIdentities, matchedKeyIndex());
            LOG.log(System.Logger.Level.DEBUG, () -> "handshake with " + peer + " done, key "
                    + (matchedKeyIndex() + 1) + " of the ring");
        } finally {
            handshakeLock.unlock();
        }
    }

    private boolean isHandshaking() {
        synchronized (protocolLock) {
            return protocol.isHandshaking();
        }
    }

    /** Reads decrypted application data like {@link InputStream#read(byte[], int, int)}; -1 after close_notify. */
    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        while (true) {
            checkUsable();
            synchronized (protocolLock) {
                int n = protocol.readInput(buffer, offset, length);
                if (n > 0) {
                    return n;
                }
            }
            if (inboundClosed) {
                return -1;
            }
            int got;
            try {
                got = rawIn.read(inbound);
            } catch (SocketTimeoutException e) {
                throw e; // nothing was consumed: the next read goes on
            } catch (IOException e) {
                throw fail(e);
            }
            if (got < 0) {
                throw fail(new EOFException("connection with " + peer + " ended without close_notify"));
            }
            received(got);
            boolean output;
            try {
                synchronized (protocolLock) {
                    protocol.offerInput(inbound, 0, got);
                    output = protocol.getAvailableOutputBytes() > 0;
                }
                if (output) {
                    flushWithoutWaiting();
                }
            } catch (IOException | RuntimeException e) {
                throw fail(e);
            }
        }
    }

    /**
     * Sends what reading produced (a KeyUpdate answer) unless a writer holds the wire: the reader must never wait for
     * a writer that waits for the peer, or two peers that both stream would deadlock. A writer sends what is pending
     * when it lets go of the wire.
     */
    private void flushWithoutWaiting() throws IOException {
        pendingOutput = true;
        while (pendingOutput && writeLock.tryLock()) {
            try {
                pendingOutput = false;
                flushOutput();
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Returns how many decrypted bytes can be read without blocking. */
    @Override
    public int available() {
        if (failure != null || closed) {
            return 0;
        }
        synchronized (protocolLock) {
            return protocol.getAvailableInputBytes();
        }
    }

    /** Encrypts and sends {@code length} bytes, one record at a time so that buffers stay bounded. */
    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            checkUsable();
            if (outboundClosed) {
                throw new SocketException("output has been shut down");
            }
            int end = offset + length;
            for (int position = offset; position < end; ) {
                int chunk = Math.min(end - position, 1 << 14);
                synchronized (protocolLock) {
                    protocol.writeApplicationData(buffer, position, chunk);
                }
                position += chunk;
                flushOutput();
            }
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        } finally {
            writeLock.unlock();
        }
        if (pendingOutput) {
            try {
                flushWithoutWaiting();
            } catch (IOException | RuntimeException e) {
                throw fail(e);
            }
        }
    }

    /** Sends close_notify for our direction; the peer reads -1 after all data, and we can still read. */
    @Override
    public void shutdownOutput() throws IOException {
        writeLock.lock();
        try {
            if (outboundClosed || failure != null || closed) {
                return;
            }
            outboundClosed = true;
            synchronized (protocolLock) {
                protocol.sendCloseNotify();
            }
            flushOutput();
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Sends close_notify if the connection is healthy and no writer is blocked, then closes the transport.
     * Idempotent; never waits for the peer.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (handshakeDone && failure == null && !outboundClosed && writeLock.tryLock()) {
                ScheduledFuture<?> cutoff = cutAfter(GOODBYE_MILLIS);
                try {
                    outboundClosed = true;
                    synchronized (protocolLock) {
                        protocol.sendCloseNotify();
                    }
                    flushOutput();
                } catch (IOException e) {
                    // the peer may be gone already; closing goes on
                } finally {
                    cutoff.cancel(false);
                    writeLock.unlock();
                }
            }
        } finally {
            closed = true;
            transport.close();
        }
    }

    boolean isInboundClosed() {
        return inboundClosed;
    }

    /** Counts what the peer sent and keeps its first bytes, which tell whether it speaks TLS at all. */
    private void received(int got) {
        long before = bytesReceived;
        if (before < firstBytes.length) {
            System.arraycopy(inbound, 0, firstBytes, (int) before, (int) Math.min(got, firstBytes.length - before));
        }
        bytesReceived = before + got;
    }

    /** Sends what the protocol has to send; tells whether there was anything. */
    private boolean flushOutput() throws IOException {
        boolean sent = false;
        writeLock.lock();
        try {
            while (true) {
                int n;
                synchronized (protocolLock) {
                    int available = protocol.getAvailableOutputBytes();
                    if (available == 0) {
                        break;
                    }
                    if (available > outbound.length) {
                        outbound = new byte[available];
                    }
                    n = protocol.readOutput(outbound, 0, available);
                }
                rawOut.write(outbound, 0, n);
                sent = true;
            }
            rawOut.flush();
            if (outbound.length > 4 * RECORD_BYTES) {
                outbound = new byte[RECORD_BYTES]; // a handshake burst does not pin memory for the connection's life
            }
        } finally {
            writeLock.unlock();
        }
        return sent;
    }

    private void checkUsable() throws IOException {
        IOException failed = failure;
        if (failed != null) {
            // the first failure's words, so every later call tells the same story
            throw new SSLException(failed.getMessage(), failed);
        }
        if (closed) {
            throw new SocketException("socket is closed");
        }
    }

    private IOException fail(IOException translated, Throwable cause) {
        translated.initCause(cause);
        return fail(translated);
    }

    /**
     * Marks the connection failed for good, sends the alert Bouncy Castle raised (if no writer is blocked), closes the
     * transport, logs why, and returns the exception to throw.
     */
    private IOException fail(Throwable e) {
        IOException first = failure;
        if (first != null) {
            // another thread failed the connection and closed the socket under us: tell its story, not "socket closed"
            SSLException again = new SSLException(first.getMessage(), first);
            again.addSuppressed(e);
            return again;
        }
        IOException translated = TlsFailures.translate(e, evidence());
        failure = translated;
        Metrics.failed(handshakeDone, translated);
        if (!closed && writeLock.tryLock()) {
            ScheduledFuture<?> cutoff = cutAfter(GOODBYE_MILLIS);
            try {
                flushOutput(); // the peer learns why: unknown_psk_identity, bad_record_mac, ...
            } catch (IOException | RuntimeException ignored) {
                // the peer may be gone; the first cause is the one that matters
            } finally {
                cutoff.cancel(false);
                writeLock.unlock();
            }
        }
        if (!closed) {
            // the application, or the tunnel's one line per connection, reports the exception: its message carries
            // the whole diagnosis, and a second line here would say it twice
            String message = translated.getMessage();
            String line = message != null && message.contains(peer) ? message : peer + ": " + message;
            LOG.log(System.Logger.Level.DEBUG, line);
        }
        try {
            closed = true;
            transport.close();
        } catch (IOException ignored) {
            // already failing
        }
        return translated;
    }

    /** What the connection showed so far, for {@link TlsFailures#translate}. */
    private TlsFailures.Evidence evidence() {
        long received = bytesReceived;
        boolean spokeTls = TlsFailures.looksLikeTls(firstBytes, (int) Math.min(received, firstBytes.length));
        if (client) {
            return new TlsFailures.Evidence(peer, true, handshakeDone, received, spokeTls, heldIdentities,
                    tlsClient.serverHelloSeen(), "", tlsClient.serverChoseCertificate(), false, answered);
        }
        String offered = tlsServer.offeredIdentities();
        return new TlsFailures.Evidence(peer, false, handshakeDone, received, spokeTls, heldIdentities,
                offered != null, offered == null ? "" : offered, false, tlsServer.selectedIndex() >= 0, answered);
    }

    /** Closes the transport after {@code millis} unless cancelled: a goodbye must not wait on a peer that never reads. */
    private ScheduledFuture<?> cutAfter(long millis) {
        return WATCHDOG.schedule(() -> {
            try {
                transport.close();
            } catch (IOException ignored) {
                // closing is all that was asked
            }
        }, millis, TimeUnit.MILLISECONDS);
    }

    /** Called by the protocol when the peer's close_notify arrives after the handshake. */
    private void peerClosedOutput() {
        inboundClosed = true;
    }

    /** What our two protocol subclasses add to Bouncy Castle: TLS 1.3 half-close. */
    private interface HalfClose {
        void offerInput(byte[] input, int offset, int length) throws IOException;

        int readInput(byte[] buffer, int offset, int length);

        int getAvailableInputBytes();

        int getAvailableOutputBytes();

        int readOutput(byte[] buffer, int offset, int length);

        void writeApplicationData(byte[] buffer, int offset, int length) throws IOException;

        boolean isHandshaking();

        void sendCloseNotify() throws IOException;
    }

    private static final class ClientProtocol extends TlsClientProtocol implements HalfClose {
        private final TlsEngine engine;

        ClientProtocol(TlsEngine engine) {
            this.engine = engine;
        }

        @Override
        protected void handleAlertWarningMessage(short alertDescription) throws IOException {
            // RFC 8446 6.1: close_notify ends one direction; Bouncy Castle would close both and answer at once
            if (alertDescription == AlertDescription.close_notify && isConnected() && !isHandshaking()) {
                engine.peerClosedOutput();
                return;
            }
            super.handleAlertWarningMessage(alertDescription);
        }

        @Override
        protected void processRecord(short contentType, byte[] buffer, int offset, int length) throws IOException {
            // RFC 8446 6.1: data received after a closure alert is ignored
            if (!engine.inboundClosed) {
                super.processRecord(contentType, buffer, offset, length);
            }
        }

        @Override
        public void sendCloseNotify() throws IOException {
            raiseAlertWarning(AlertDescription.close_notify, "output shut down");
        }
    }

    private static final class ServerProtocol extends TlsServerProtocol implements HalfClose {
        private final TlsEngine engine;

        ServerProtocol(TlsEngine engine) {
            this.engine = engine;
        }

        @Override
        protected void handleAlertWarningMessage(short alertDescription) throws IOException {
            // RFC 8446 6.1: close_notify ends one direction; Bouncy Castle would close both and answer at once
            if (alertDescription == AlertDescription.close_notify && isConnected() && !isHandshaking()) {
                engine.peerClosedOutput();
                return;
            }
            super.handleAlertWarningMessage(alertDescription);
        }

        @Override
        protected void processRecord(short contentType, byte[] buffer, int offset, int length) throws IOException {
            // RFC 8446 6.1: data received after a closure alert is ignored
            if (!engine.inboundClosed) {
                super.processRecord(contentType, buffer, offset, length);
            }
        }

        @Override
        public void sendCloseNotify() throws IOException {
            raiseAlertWarning(AlertDescription.close_notify, "output shut down");
        }
    }
}
