package dev.fernetjca.net;

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
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import dev.fernetjca.provider.FernetProvider;

/**
 * The fernet-tokens mode: every write becomes newline-terminated Fernet tokens of at most {@link #CHUNK_BYTES} of
 * plaintext each, and every line read must be a token that the key ring authenticates (and, with a TTL, that is fresh).
 * This is what Python programs that send {@code Fernet(key).encrypt(chunk) + b"\n"} over a socket speak.
 *
 * <p>Weaker than TLS, and documented so in docs/protocol.md: tokens can be replayed within their TTL, reordered, or
 * dropped at a token boundary without detection.
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

    private final InputStream rawIn;
    private final OutputStream rawOut;
    private final Closeable transport;
    private final String peer;
    private final Cipher encrypt;
    private final Cipher decrypt;

    private final byte[] readAhead = new byte[8192];   // reader only
    private int readPosition;
    private int readLimit;
    private byte[] line = new byte[8192];              // the partial line, kept across read timeouts
    private int lineLength;
    private byte[] plaintext = new byte[0];            // decrypted and not yet returned
    private int plaintextPosition;
    private byte[] outbound = new byte[0];             // writer only

    private volatile boolean inputEnded;
    private volatile boolean closed;
    private volatile IOException failure;

    TokenLineStream(FernetKeyRing keys, FernetParameterSpec decryptParameters, InputStream rawIn,
                    OutputStream rawOut, Closeable transport, String peer) {
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

    /** There is no handshake: a wrong key shows on the first token. */
    @Override
    public boolean isHandshakeDone() {
        return true;
    }

    @Override
    public void handshake(long timeoutMillis, ReadTimeout readTimeout) {
        // nothing to agree on
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        checkUsable();
        while (plaintextPosition == plaintext.length) {
            if (inputEnded) {
                return -1;
            }
            if (!nextLine()) {
                inputEnded = true;
                return -1;
            }
        }
        int n = Math.min(length, plaintext.length - plaintextPosition);
        System.arraycopy(plaintext, plaintextPosition, buffer, offset, n);
        Arrays.fill(plaintext, plaintextPosition, plaintextPosition + n, (byte) 0);
        plaintextPosition += n;
        return n;
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

    private void append(int from, int count) throws IOException {
        if (count == 0) {
            return;
        }
        if (lineLength + count > MAX_LINE_BYTES) {
            throw fail(new ProtocolException("line from " + peer + " exceeds " + MAX_LINE_BYTES + " bytes"));
        }
        if (lineLength + count > line.length) {
            line = Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, Math.max(lineLength + count, 2 * line.length)));
        }
        System.arraycopy(readAhead, from, line, lineLength, count);
        lineLength += count;
    }

    private void decryptLine() throws IOException {
        int length = lineLength;
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        lineLength = 0;
        try {
            plaintext = decrypt.doFinal(line, 0, length);
            plaintextPosition = 0;
        } catch (AEADBadTagException e) {
            throw fail(new ProtocolException("token from " + peer + " rejected: " + e.getMessage()));
        } catch (GeneralSecurityException e) {
            throw fail(new ProtocolException("token from " + peer + " rejected: " + e.getClass().getSimpleName()));
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
        closed = true;
        Arrays.fill(plaintext, (byte) 0);
        transport.close();
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

    private IOException fail(IOException e) {
        if (failure == null) {
            failure = e;
            LOG.log(System.Logger.Level.WARNING, e.getMessage());
            try {
                closed = true;
                transport.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
        return e;
    }
}
