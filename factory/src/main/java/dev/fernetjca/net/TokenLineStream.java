package dev.fernetjca.net;

import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import dev.fernetjca.provider.FernetProvider;
import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;

/**
 * The fernet-tokens mode: every write becomes newline-terminated Fernet tokens of at most {@link #CHUNK_BYTES} of
 * plaintext each, and every line read must be a token that the key ring authenticates (and, with a TTL, that is fresh).
 * This is what Python programs that send {@code Fernet(key).encrypt(chunk) + b"\n"} over a socket speak.
 *
 * <p>Weaker than TLS, and documented so in docs/protocol.md: tokens can be replayed within their TTL, reordered, or
 * dropped at a token boundary without detection.
 *
 * <p>Memory is bounded by what a peer has proved: until a token authenticates, a line may hold at most
 * {@link #UNAUTHENTICATED_LINE_BYTES}, so that a stranger costs a few tens of KiB, not a megabyte; afterwards
 * {@link #MAX_LINE_BYTES}. A buffer that grew for a long line is released once the line is used. A line must also
 * complete within a deadline from its first byte, so that a peer cannot hold a connection by dribbling one line forever:
 * the handshake timeout before the first token authenticates, {@link #LINE_DEADLINE_FACTOR} times it afterwards.
 *
 * <p>One reader and one writer thread at a time, as with Socket; {@link #close()} from any thread.
 */
final class TokenLineStream implements Connection {
    private static final System.Logger LOG = System.getLogger(TokenLineStream.class.getName());
    private static final FernetProvider PROVIDER = new FernetProvider();

    /** Plaintext per token we send: 16 KiB makes lines of about 22 KB. */
    static final int CHUNK_BYTES = 16 * 1024;

    /** The longest line we accept, newline excluded: a token of about 786 KB of plaintext. */
    static final int MAX_LINE_BYTES = 1 << 20;

    /** The longest line we accept before a token has authenticated: a token of about 48 KB of plaintext. */
    static final int UNAUTHENTICATED_LINE_BYTES = 64 * 1024;

    /** After the first token, a line may take this many handshake timeouts: it may be 16 times longer. */
    static final int LINE_DEADLINE_FACTOR = 6;

    /** What the line and plaintext buffers start with, and shrink back to after a long line. */
    private static final int LINE_BUFFER_BYTES = 8192;

    private static final byte[] EMPTY = new byte[0];

    /** Why the reader's fields need no lock (SpotBugs' AT_* detectors cannot know the one-reader rule). */
    private static final String READER_STATE = "one reader thread at a time, as with Socket; the watchdog and close()"
            + " touch only the volatile fields and, under plaintextLock, the plaintext";

    /** Whether this JVM has warned that the mode is in effect; tests reset it. */
    static final AtomicBoolean WARNED = new AtomicBoolean();

    /** Cuts connections whose line misses its deadline while the reader waits for more bytes. */
    private static final ScheduledExecutorService WATCHDOG = Connection.watchdog("fernet-tokens-line-watchdog");

    private final InputStream rawIn;
    private final OutputStream rawOut;
    private final Closeable transport;
    private final String peer;
    private final Cipher encrypt;
    private final Cipher decrypt;

    private final byte[] readAhead = new byte[8192]; // reader only
    private int readPosition;
    private int readLimit;
    private byte[] line = new byte[LINE_BUFFER_BYTES]; // the partial line, kept across read timeouts
    private int lineLength;
    private long lineStartNanos; // when the partial line's first byte arrived
    private ScheduledFuture<?> lineCutoff; // armed while the reader waits in the middle of a line
    private byte[] plaintext = EMPTY; // decrypted and not yet returned
    private int plaintextPosition;
    private byte[] outbound = new byte[0]; // writer only

    private volatile long handshakeTimeoutMillis = Settings.DEFAULT_HANDSHAKE_TIMEOUT.toMillis();
    private volatile boolean started; // the socket has passed its handshake timeout
    private volatile boolean authenticated; // a token from the peer has authenticated
    private volatile boolean inputEnded;
    private volatile boolean closed;
    private final Object plaintextLock = new Object(); // the reader's copy against close()'s wipe
    private final Object failureLock =
            new Object(); // not the writer's monitor: a blocked writer must not stall the watchdog
    private volatile IOException failure;

    @SuppressFBWarnings(
            value = "CIPHER_INTEGRITY",
            justification = "the Fernet cipher authenticates every token with HMAC-SHA256 before it decrypts")
    TokenLineStream(
            FernetKeyRing keys,
            FernetParameterSpec decryptParameters,
            InputStream rawIn,
            OutputStream rawOut,
            Closeable transport,
            String peer) {
        this.rawIn = rawIn;
        this.rawOut = rawOut;
        this.transport = transport;
        this.peer = peer;
        try {
            encrypt = Cipher.getInstance("Fernet", PROVIDER);
            encrypt.init(Cipher.ENCRYPT_MODE, keys);
            decrypt = Cipher.getInstance("Fernet", PROVIDER);
            decrypt.init(Cipher.DECRYPT_MODE, keys, decryptParameters);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up Fernet ciphers: " + e.getMessage(), e);
        }
    }

    /**
     * Logs, once per JVM, a warning that the fernet-tokens mode is in effect and what chose it, since it gives up what
     * TLS gives: an operator must be able to see that a setting left in an environment weakened the wire.
     *
     * @param origin what chose the mode: {@code code}, {@code system property fernet.mode}, ...
     */
    static void warnInEffect(String origin) {
        if (WARNED.compareAndSet(false, true)) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "fernet-tokens mode is in effect, chosen by " + origin
                            + ": no forward secrecy, and tokens can be replayed, reordered or dropped; use tls unless a peer"
                            + " speaks only Fernet tokens");
        }
    }

    /**
     * Tells whether the socket has handed us its handshake timeout yet. There is no handshake to run: a wrong key shows
     * on the first token; the timeout only sets the line deadline.
     */
    @Override
    public boolean isHandshakeDone() {
        return started;
    }

    /** Takes {@code timeoutMillis} as the base of the line deadline; nothing crosses the wire. */
    @Override
    public void handshake(long timeoutMillis, ReadTimeout readTimeout) {
        if (timeoutMillis > 0) {
            handshakeTimeoutMillis = timeoutMillis;
        }
        started = true;
    }

    @Override
    @SuppressFBWarnings(value = "AT_STALE_THREAD_WRITE_OF_PRIMITIVE", justification = READER_STATE)
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        checkUsable();
        while (plaintextPosition == plaintext.length) {
            if (inputEnded) {
                return -1;
            }
            try {
                if (!nextLine()) {
                    inputEnded = true;
                    return -1;
                }
            } catch (IOException e) {
                if (failure != null) {
                    line = EMPTY; // a failed connection that its owner still holds keeps no line
                    lineLength = 0;
                }
                throw e;
            }
        }
        // close() wipes the plaintext from any thread: under this lock, so that no read returns its zeros as data
        synchronized (plaintextLock) {
            if (closed) {
                throw new SocketException("socket closed");
            }
            int n = Math.min(length, plaintext.length - plaintextPosition);
            System.arraycopy(plaintext, plaintextPosition, buffer, offset, n);
            Arrays.fill(plaintext, plaintextPosition, plaintextPosition + n, (byte) 0);
            plaintextPosition += n;
            if (plaintextPosition == plaintext.length) {
                // a long token's plaintext is not kept for the connection's life
                plaintext = EMPTY;
                plaintextPosition = 0;
            }
            return n;
        }
    }

    /** Reads and decrypts the next line; false at a clean end of input (between lines). */
    private boolean nextLine() throws IOException {
        while (true) {
            for (int i = readPosition; i < readLimit; i++) {
                if (readAhead[i] == '\n') {
                    append(readPosition, i - readPosition);
                    readPosition = i + 1;
                    decryptLine();
                    return true;
                }
            }
            append(readPosition, readLimit - readPosition);
            readPosition = 0;
            readLimit = 0;
            if (lineLength > 0) {
                armLineCutoff();
            }
            int got;
            try {
                got = rawIn.read(readAhead);
            } catch (SocketTimeoutException e) {
                throw e; // the partial line is kept: the next read goes on
            } catch (IOException e) {
                throw fail(e);
            }
            if (got < 0) {
                if (lineLength == 0) {
                    return false;
                }
                throw fail(new EOFException("connection with " + peer + " ended in the middle of a token"));
            }
            readLimit = got;
        }
    }

    @SuppressFBWarnings(
            value = {"AT_NONATOMIC_64BIT_PRIMITIVE", "AT_NONATOMIC_OPERATIONS_ON_SHARED_VARIABLE"},
            justification = READER_STATE)
    private void append(int from, int count) throws IOException {
        if (count == 0) {
            return;
        }
        if (lineLength == 0) {
            lineStartNanos = System.nanoTime();
        } else if (System.nanoTime() - lineStartNanos > TimeUnit.MILLISECONDS.toNanos(lineDeadlineMillis())) {
            throw fail(lineTooSlow());
        }
        int limit = authenticated ? MAX_LINE_BYTES : UNAUTHENTICATED_LINE_BYTES;
        if (lineLength + count > limit) {
            throw fail(new ProtocolException("line from " + peer + " exceeds " + limit + " bytes"
                    + (authenticated ? "" : " before a token has authenticated")));
        }
        if (lineLength + count > line.length) {
            line = Arrays.copyOf(line, Math.min(limit, Math.max(lineLength + count, 2 * line.length)));
        }
        System.arraycopy(readAhead, from, line, lineLength, count);
        lineLength += count;
    }

    /** How long a line may take from its first byte: see the class comment. */
    private long lineDeadlineMillis() {
        long base = handshakeTimeoutMillis;
        return authenticated ? Math.multiplyExact(base, LINE_DEADLINE_FACTOR) : base;
    }

    private ProtocolException lineTooSlow() {
        return new ProtocolException("line from " + peer + " not complete within " + lineDeadlineMillis() + " ms");
    }

    /**
     * Makes sure the connection is cut when the partial line misses its deadline, even if no more bytes come: a read
     * that blocks cannot look at the clock.
     */
    private void armLineCutoff() throws IOException {
        if (lineCutoff != null) {
            return;
        }
        long leftNanos = lineStartNanos + TimeUnit.MILLISECONDS.toNanos(lineDeadlineMillis()) - System.nanoTime();
        if (leftNanos <= 0) {
            throw fail(lineTooSlow());
        }
        lineCutoff = WATCHDOG.schedule(() -> fail(lineTooSlow()), leftNanos, TimeUnit.NANOSECONDS);
    }

    @SuppressFBWarnings(value = "AT_STALE_THREAD_WRITE_OF_PRIMITIVE", justification = READER_STATE)
    private void decryptLine() throws IOException {
        if (lineCutoff != null) {
            lineCutoff.cancel(false);
            lineCutoff = null;
        }
        int length = lineLength;
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        lineLength = 0;
        try {
            byte[] decrypted = decrypt.doFinal(line, 0, length);
            synchronized (plaintextLock) {
                if (closed) {
                    Arrays.fill(decrypted, (byte) 0); // closed while decrypting: nothing outlives the close
                } else {
                    plaintext = decrypted;
                    plaintextPosition = 0;
                }
            }
            authenticated = true;
            if (line.length > UNAUTHENTICATED_LINE_BYTES) {
                line = new byte[LINE_BUFFER_BYTES]; // a long line does not pin its buffer for the connection's life
            }
        } catch (AEADBadTagException e) {
            throw fail(new ProtocolException("token from " + peer + " rejected: " + e.getMessage()));
        } catch (GeneralSecurityException e) {
            throw fail(new ProtocolException(
                    "token from " + peer + " rejected: " + e.getClass().getSimpleName()));
        }
    }

    @Override
    public int available() {
        return failure != null || closed ? 0 : plaintext.length - plaintextPosition;
    }

    @Override
    public synchronized void write(byte[] buffer, int offset, int length) throws IOException {
        checkUsable();
        int end = offset + length;
        for (int position = offset; position < end; ) {
            int chunk = Math.min(CHUNK_BYTES, end - position);
            byte[] token;
            try {
                token = encrypt.doFinal(buffer, position, chunk);
            } catch (GeneralSecurityException e) {
                throw fail(new IOException("cannot make a token: " + e.getMessage(), e));
            }
            if (outbound.length < token.length + 1) {
                outbound = new byte[token.length + 1];
            }
            System.arraycopy(token, 0, outbound, 0, token.length);
            outbound[token.length] = '\n';
            try {
                rawOut.write(outbound, 0, token.length + 1);
            } catch (IOException e) {
                throw fail(e);
            }
            position += chunk;
        }
        rawOut.flush();
    }

    /** Nothing to send: the peer sees the end of input after the last whole line. */
    @Override
    public void shutdownOutput() {
        // a clean end in this mode is TCP's own, between lines
    }

    @Override
    public void close() throws IOException {
        synchronized (plaintextLock) {
            closed = true;
            Arrays.fill(plaintext, (byte) 0);
        }
        transport.close();
    }

    /** Returns the bytes this connection's read buffers hold on to, for tests of the memory bound. */
    int bufferedCapacity() {
        return readAhead.length + line.length + plaintext.length;
    }

    private void checkUsable() throws IOException {
        IOException failed = failure;
        if (failed != null) {
            throw new ProtocolException(failed.getMessage());
        }
        if (closed) {
            throw new SocketException("socket is closed");
        }
    }

    /**
     * Marks the connection failed for good, closes the transport and returns the exception to throw: the first
     * failure's, when the watchdog or another thread failed it first and closed the socket under us.
     */
    private IOException fail(IOException e) {
        synchronized (failureLock) {
            if (failure != null) {
                return failure == e ? e : new ProtocolException(failure.getMessage());
            }
            failure = e;
        }
        // the application or the tunnel reports it, with the connection's story; a second line would say it twice
        LOG.log(System.Logger.Level.DEBUG, e.getMessage());
        closed = true;
        try {
            transport.close();
        } catch (IOException ignored) {
            // already failing
        }
        return e;
    }
}
