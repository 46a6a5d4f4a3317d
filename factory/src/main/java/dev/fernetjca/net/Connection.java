package dev.fernetjca.net;

import java.io.IOException;
import java.net.SocketException;

/**
 * What a {@link FernetSocket} needs from its wire format: {@link TlsEngine} for TLS 1.3, {@link TokenLineStream} for
 * newline-separated Fernet tokens.
 *
 * <p>One reader and one writer thread at a time, as with Socket; {@link #close()} from any thread.
 */
interface Connection {
    /** Sets the raw stream's read timeout in milliseconds (0: none), so that the handshake has a deadline. */
    interface ReadTimeout {
        void set(int millis) throws SocketException;
    }

    boolean isHandshakeDone();

    /** Runs the handshake unless it is done, within {@code timeoutMillis}; the caller restores its read timeout. */
    void handshake(long timeoutMillis, ReadTimeout readTimeout) throws IOException;

    /** Reads application bytes like {@link java.io.InputStream#read(byte[], int, int)}; -1 at a clean end. */
    int read(byte[] buffer, int offset, int length) throws IOException;

    int available();

    void write(byte[] buffer, int offset, int length) throws IOException;

    /** Ends our direction cleanly; the caller then shuts down the raw output. */
    void shutdownOutput() throws IOException;

    /** Closes the connection and its transport; idempotent. */
    void close() throws IOException;
}
