package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.SecurityParameters;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.TlsCrypto;

/**
 * A TLS 1.3 connection over a pair of byte streams: Bouncy Castle's non-blocking protocol runs the handshake, fed
 * exactly one record at a time so that no byte sent after the peer's Finished ever reaches it; then our own
 * {@link RecordLayer} takes over with the application traffic secrets, one lock, buffer and cipher per direction.
 *
 * <p>Half-close as TLS 1.3 defines it: {@link #shutdownOutput()} sends close_notify and keeps reading; a close_notify
 * received ends input only. The peer's end without close_notify is a truncation ({@link EOFException}). A read
 * timeout loses nothing. A failure is final: every later call tells the first failure's story.
 *
 * <p>One reader and one writer thread at a time, as with Socket; {@link #close()} from any thread.
 */
final class TlsEngine implements Connection {
    private static final System.Logger LOG = System.getLogger(TlsEngine.class.getName());

    /** How long close_notify or an alert may take to leave before the connection is cut without it. */
    static final long GOODBYE_MILLIS = 1000;

    private static final ScheduledExecutorService WATCHDOG = Connection.watchdog("fernet-tls-watchdog");

    private final InputStream rawIn;
    private final OutputStream rawOut;
    private final Closeable transport;
    private final String peer;
    private final List<String> heldIdentities; // public, for failure messages

    private volatile Side side; // Bouncy Castle, until the handshake is done
    private final Object protocolLock = new Object(); // guards every call into Bouncy Castle
    private final ReentrantLock handshakeWriteLock = new ReentrantLock();
    private final ReentrantLock handshakeLock = new ReentrantLock();
    private volatile RecordLayer records; // ours, once the handshake is done

    private volatile boolean outboundClosed;
    private volatile boolean closed;
    private volatile IOException failure;
    private final Object failureLock = new Object();

    private final byte[] firstBytes = new byte[2]; // the peer's first bytes: do they begin a TLS record?
    private volatile long bytesReceived;
    private volatile boolean answered; // our first handshake flight has been sent
    private volatile int matchedKeyIndex = -1;
    private volatile TlsFailures.Evidence doneEvidence;

    private TlsEngine(
            Side side,
            List<PskDerivation> psks,
            InputStream rawIn,
            OutputStream rawOut,
            Closeable transport,
            String peer) {
        this.side = side;
        this.rawIn = rawIn;
        this.rawOut = rawOut;
        this.transport = transport;
        this.peer = peer;
        this.heldIdentities = identities(psks);
    }

    /** The identities of {@code psks}; a loop, not a stream, which a cold JVM's first connection would pay for. */
    private static List<String> identities(List<PskDerivation> psks) {
        String[] identities = new String[psks.size()];
        for (int i = 0; i < identities.length; i++) {
            identities[i] = psks.get(i).identityText();
        }
        return List.of(identities);
    }

    static TlsEngine client(
            TlsCrypto crypto,
            List<PskDerivation> psks,
            InputStream rawIn,
            OutputStream rawOut,
            Closeable transport,
            String peer) {
        return new TlsEngine(new ClientSide(new PskTlsClient(crypto, psks)), psks, rawIn, rawOut, transport, peer);
    }

    static TlsEngine server(
            TlsCrypto crypto,
            List<PskDerivation> psks,
            InputStream rawIn,
            OutputStream rawOut,
            Closeable transport,
            String peer) {
        return new TlsEngine(new ServerSide(new PskTlsServer(crypto, psks)), psks, rawIn, rawOut, transport, peer);
    }

    @Override
    public boolean isHandshakeDone() {
        return records != null;
    }

    /** Returns which key of the ring the peer matched, 0 for the primary, -1 before the handshake. */
    int matchedKeyIndex() {
        Side current = side;
        return current == null ? matchedKeyIndex : current.selectedIndex();
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
            if (records != null) {
                return;
            }
            checkUsable();
            Side current = side;
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            try {
                synchronized (protocolLock) {
                    current.begin();
                }
                flushHandshakeOutput();
                byte[] record = new byte[HEADER + MAX_CIPHERTEXT]; // for the handshake only
                while (isHandshaking(current)) {
                    readHandshake(record, 0, HEADER, deadline, readTimeout);
                    int length = ((record[3] & 0xff) << 8) | (record[4] & 0xff);
                    if (!plausibleHeader(record, length)) {
                        synchronized (protocolLock) {
                            // Bouncy Castle judges the header alone and raises its alert, so bytes that are not TLS
                            // fail now instead of waiting for a body that never comes
                            current.offerInput(record, 0, HEADER);
                        }
                        throw new TlsFatalAlert(
                                length > MAX_CIPHERTEXT
                                        ? AlertDescription.record_overflow
                                        : AlertDescription.unexpected_message);
                    }
                    readHandshake(record, HEADER, length, deadline, readTimeout);
                    synchronized (protocolLock) {
                        current.offerInput(record, 0, HEADER + length);
                    }
                    answered |= flushHandshakeOutput();
                }
                if (!isConnected(current)) {
                    throw new SSLHandshakeException("handshake with " + peer + " ended before it completed");
                }
                records = takeOver(current);
            } catch (SocketTimeoutException e) {
                throw fail(
                        new SSLHandshakeException(
                                "handshake with " + peer + " did not complete within " + timeoutMillis + " ms"),
                        e);
            } catch (IOException | RuntimeException e) {
                throw fail(e);
            }
            Metrics.handshakeSucceeded(heldIdentities, matchedKeyIndex);
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> "handshake with " + peer + " done, key " + (matchedKeyIndex + 1) + " of the ring");
        } finally {
            handshakeLock.unlock();
        }
    }

    /** Tells whether a record header could be TLS: content type 20 to 23, major version 3, a bounded length. */
    private static boolean plausibleHeader(byte[] header, int length) {
        return header[0] >= 20 && header[0] <= 23 && header[1] == 3 && length <= MAX_CIPHERTEXT;
    }

    /** Reads exactly {@code length} handshake bytes before the deadline. */
    private void readHandshake(byte[] record, int offset, int length, long deadline, ReadTimeout readTimeout)
            throws IOException {
        for (int done = 0; done < length; ) {
            long remainingMillis = (deadline - System.nanoTime()) / 1_000_000L;
            if (remainingMillis <= 0) {
                throw new SocketTimeoutException("handshake timed out");
            }
            readTimeout.set((int) Math.min(Integer.MAX_VALUE, remainingMillis));
            int got = rawIn.read(record, offset + done, length - done);
            if (got < 0) {
                throw new EOFException("connection with " + peer + " ended during the handshake"
                        + (bytesReceived == 0 ? ", before it sent anything" : ""));
            }
            received(record, offset + done, got);
            done += got;
        }
    }

    /**
     * Takes the application traffic secrets from Bouncy Castle once its handshake is complete and builds our record
     * layer from them; Bouncy Castle is not used again. The secrets are consumed, and our copies wiped.
     */
    private RecordLayer takeOver(Side current) throws IOException {
        if (current.selectedIndex() < 0) {
            // Bouncy Castle offers only psk_dhe_ke with our keys: a handshake without one of them must never pass
            throw new SSLHandshakeException("handshake with " + peer + " completed without one of our keys");
        }
        SecurityParameters parameters;
        synchronized (protocolLock) {
            parameters = current.securityParameters();
        }
        byte[] clientSecret = parameters.getTrafficSecretClient().extract();
        byte[] serverSecret = parameters.getTrafficSecretServer().extract();
        try {
            int suite = parameters.getCipherSuite();
            boolean client = current.isClient();
            RecordProtection opener = new RecordProtection(suite, client ? serverSecret : clientSecret, false, 0);
            RecordProtection sealer = new RecordProtection(suite, client ? clientSecret : serverSecret, true, 0);
            matchedKeyIndex = current.selectedIndex();
            doneEvidence = evidence(current, true);
            side = null; // Bouncy Castle's protocol state is garbage from here on
            return new RecordLayer(rawIn, rawOut, opener, sealer, client);
        } finally {
            Arrays.fill(clientSecret, (byte) 0);
            Arrays.fill(serverSecret, (byte) 0);
        }
    }

    private boolean isHandshaking(Side current) {
        synchronized (protocolLock) {
            return current.isHandshaking();
        }
    }

    private boolean isConnected(Side current) {
        synchronized (protocolLock) {
            return current.isConnected();
        }
    }

    /** Reads decrypted application data like {@link InputStream#read(byte[], int, int)}; -1 after close_notify. */
    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        checkUsable();
        RecordLayer layer = handshaken();
        try {
            return layer.read(buffer, offset, length);
        } catch (SocketTimeoutException e) {
            throw e; // nothing was consumed: the next read goes on
        } catch (EOFException e) {
            throw fail(new EOFException("connection with " + peer + " ended without close_notify"), e);
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        }
    }

    /** Returns how many decrypted bytes can be read without blocking. */
    @Override
    public int available() {
        RecordLayer layer = records;
        if (failure != null || closed || layer == null) {
            return 0;
        }
        return layer.available();
    }

    /** Encrypts and sends {@code length} bytes, one record per 2^14 bytes at most. */
    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
        checkUsable();
        if (outboundClosed) {
            throw new SocketException("output has been shut down");
        }
        RecordLayer layer = handshaken();
        try {
            layer.write(buffer, offset, length);
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        }
    }

    private RecordLayer handshaken() throws SocketException {
        RecordLayer layer = records;
        if (layer == null) {
            throw new SocketException("handshake not done");
        }
        return layer;
    }

    /** Sends close_notify for our direction; the peer reads -1 after all data, and we can still read. */
    @Override
    public void shutdownOutput() throws IOException {
        if (outboundClosed || failure != null || closed) {
            return;
        }
        outboundClosed = true;
        try {
            RecordLayer layer = records;
            if (layer != null) {
                layer.sendCloseNotify();
            } else {
                // FernetSocket completes the handshake first; a caller that does not gets Bouncy Castle's close
                Side current = side;
                synchronized (protocolLock) {
                    current.close();
                }
                flushHandshakeOutput();
            }
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        }
    }

    /**
     * Sends close_notify if the connection is healthy and no writer is blocked, then closes the transport and wipes
     * the keys. Idempotent; never waits for the peer.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        RecordLayer layer = records;
        boolean clean = true; // a transport its caller keeps stays open only after a clean end
        try {
            if (layer != null && failure == null && !outboundClosed) {
                outboundClosed = true;
                // not if a writer holds the wire: a close must not wait for it
                clean = goodbye(() -> layer.trySendAlert(AlertDescription.close_notify));
            }
        } finally {
            closed = true;
            try {
                if (clean) {
                    transport.close();
                } else {
                    Connection.Transport.cut(transport); // a writer blocked mid-record, or a peer that does not read
                }
            } finally {
                if (layer != null) {
                    layer.destroy();
                }
            }
        }
    }

    /**
     * Runs {@code send}, our last words (close_notify or an alert), with the watchdog ready to cut the transport after
     * {@value #GOODBYE_MILLIS} ms: a peer that does not read cannot hold the connection. Tells whether {@code send}
     * says they left; false if it failed, since the peer may be gone already and closing goes on.
     */
    private boolean goodbye(Sending send) {
        ScheduledFuture<?> cutoff = cutAfter(GOODBYE_MILLIS);
        try {
            return send.send();
        } catch (IOException | RuntimeException e) {
            return false;
        } finally {
            cutoff.cancel(false);
        }
    }

    /** Our last words on a connection; tells whether they left. */
    @FunctionalInterface
    private interface Sending {
        boolean send() throws IOException;
    }

    boolean isInboundClosed() {
        RecordLayer layer = records;
        return layer != null && layer.isInputClosed();
    }

    /** Counts what the peer sent and keeps its first bytes, which tell whether it speaks TLS at all. */
    private void received(byte[] bytes, int offset, int got) {
        long before = bytesReceived;
        if (before < firstBytes.length) {
            System.arraycopy(bytes, offset, firstBytes, (int) before, (int) Math.min(got, firstBytes.length - before));
        }
        bytesReceived = before + got;
    }

    /** Sends what Bouncy Castle has to send during the handshake; tells whether there was anything. */
    private boolean flushHandshakeOutput() throws IOException {
        boolean sent = false;
        handshakeWriteLock.lock();
        try {
            Side current = side;
            while (current != null) {
                byte[] output;
                synchronized (protocolLock) {
                    int available = current.getAvailableOutputBytes();
                    if (available == 0) {
                        break;
                    }
                    output = new byte[available];
                    current.readOutput(output, 0, available);
                }
                rawOut.write(output);
                sent = true;
            }
            rawOut.flush();
        } finally {
            handshakeWriteLock.unlock();
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
     * Marks the connection failed for good, sends the alert that says why (if no writer is blocked), closes the
     * transport, wipes the keys, logs why, and returns the exception to throw.
     */
    private IOException fail(Throwable e) {
        RecordLayer layer = records;
        IOException translated;
        synchronized (failureLock) { // two threads failing at once: the first tells the story, once
            IOException first = failure;
            if (first != null) {
                // another thread failed the connection and closed the socket under us: its story, not "socket closed"
                SSLException again = new SSLException(first.getMessage(), first);
                again.addSuppressed(e);
                return again;
            }
            translated = TlsFailures.translate(e, layer == null ? evidence(side, false) : doneEvidence);
            failure = translated;
        }
        Metrics.failed(layer != null, translated);
        if (!closed) {
            if (layer != null) {
                // an alert the peer sent is a TlsFatalAlertReceived, not a TlsFatalAlert: it gets no answer
                if (e instanceof TlsFatalAlert raised) {
                    goodbye(() -> layer.trySendAlert(raised.getAlertDescription())); // bad_record_mac, ...
                }
            } else if (handshakeWriteLock.tryLock()) {
                try {
                    goodbye(this::flushHandshakeOutput); // Bouncy Castle's alert: unknown_psk_identity, ...
                } finally {
                    handshakeWriteLock.unlock();
                }
            }
            // the application, or the tunnel's one line per connection, reports the exception: its message carries
            // the whole diagnosis, and a second line here would say it twice
            String message = translated.getMessage();
            String line = message != null && message.contains(peer) ? message : peer + ": " + message;
            LOG.log(System.Logger.Level.DEBUG, line);
        }
        try {
            closed = true;
            Connection.Transport.cut(transport); // even a transport its caller keeps: the stream is broken
        } catch (IOException ignored) {
            // already failing
        } finally {
            if (layer != null) {
                layer.destroy();
            }
        }
        return translated;
    }

    /** What the connection showed so far, for {@link TlsFailures#translate}. */
    private TlsFailures.Evidence evidence(Side current, boolean handshakeDone) {
        long received = bytesReceived;
        boolean spokeTls = TlsFailures.looksLikeTls(firstBytes, (int) Math.min(received, firstBytes.length));
        return current.evidence(peer, handshakeDone, received, spokeTls, heldIdentities, answered);
    }

    /** Cuts the transport after {@code millis} unless cancelled: a goodbye must not wait on a peer that never reads. */
    private ScheduledFuture<?> cutAfter(long millis) {
        return WATCHDOG.schedule(
                () -> {
                    try {
                        Connection.Transport.cut(transport);
                    } catch (IOException ignored) {
                        // closing is all that was asked
                    }
                },
                millis,
                TimeUnit.MILLISECONDS);
    }

    /**
     * One end of the handshake: Bouncy Castle's protocol object with our settings, and what only that end knows
     * (which key it matched, what the peer showed). Used by the handshake only, here and in {@link PskEngine}.
     */
    interface Side {
        boolean isClient();

        /** Starts the handshake: the ClientHello for a client, waiting for one for a server. */
        void begin() throws IOException;

        int selectedIndex();

        TlsFailures.Evidence evidence(
                String peer,
                boolean handshakeDone,
                long received,
                boolean spokeTls,
                List<String> heldIdentities,
                boolean answered);

        SecurityParameters securityParameters();

        void offerInput(byte[] input, int offset, int length) throws IOException;

        int getAvailableOutputBytes();

        int readOutput(byte[] buffer, int offset, int length);

        boolean isHandshaking();

        boolean isConnected();

        void close() throws IOException;
    }

    static final class ClientSide extends TlsClientProtocol implements Side {
        private final PskTlsClient settings;

        ClientSide(PskTlsClient settings) {
            this.settings = settings;
        }

        @Override
        public boolean isClient() {
            return true;
        }

        @Override
        public void begin() throws IOException {
            connect(settings);
        }

        @Override
        public int selectedIndex() {
            return settings.selectedIndex();
        }

        @Override
        public TlsFailures.Evidence evidence(
                String peer,
                boolean handshakeDone,
                long received,
                boolean spokeTls,
                List<String> heldIdentities,
                boolean answered) {
            return new TlsFailures.Evidence(
                    peer,
                    true,
                    handshakeDone,
                    received,
                    spokeTls,
                    heldIdentities,
                    settings.serverHelloSeen(),
                    "",
                    settings.serverChoseCertificate(),
                    false,
                    answered);
        }

        @Override
        public SecurityParameters securityParameters() {
            return getContext().getSecurityParametersConnection();
        }
    }

    static final class ServerSide extends TlsServerProtocol implements Side {
        private final PskTlsServer settings;

        ServerSide(PskTlsServer settings) {
            this.settings = settings;
        }

        @Override
        public boolean isClient() {
            return false;
        }

        @Override
        public void begin() throws IOException {
            accept(settings);
        }

        @Override
        public int selectedIndex() {
            return settings.selectedIndex();
        }

        @Override
        public TlsFailures.Evidence evidence(
                String peer,
                boolean handshakeDone,
                long received,
                boolean spokeTls,
                List<String> heldIdentities,
                boolean answered) {
            String offered = settings.offeredIdentities();
            return new TlsFailures.Evidence(
                    peer,
                    false,
                    handshakeDone,
                    received,
                    spokeTls,
                    heldIdentities,
                    offered != null,
                    offered == null ? "" : offered,
                    false,
                    settings.selectedIndex() >= 0,
                    answered);
        }

        @Override
        public SecurityParameters securityParameters() {
            return getContext().getSecurityParametersConnection();
        }
    }
}
