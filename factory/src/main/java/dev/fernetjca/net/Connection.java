package dev.fernetjca.net;

import java.io.Closeable;
import java.io.IOException;
import java.net.SocketException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

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

    /**
     * A wire that closing a connection may leave open, for the caller that keeps it (a layered socket without
     * {@code autoClose}): {@link #close()} ends only our use of it, {@link #cut()} ends the wire itself.
     */
    interface Transport extends Closeable {
        /** Closes the wire now, freeing every thread blocked on it: its stream is mid-record, of no use to anyone. */
        void cut() throws IOException;

        /** Cuts {@code wire}: by {@link #cut()} if it is a Transport, else by closing it. */
        static void cut(Closeable wire) throws IOException {
            if (wire instanceof Transport transport) {
                transport.cut();
            } else {
                wire.close();
            }
        }
    }

    /**
     * A daemon thread for connections' deadlines. A cancelled deadline leaves its queue at once, so that a closed
     * connection is not kept reachable until its deadline would have fallen due.
     */
    static ScheduledExecutorService watchdog(String threadName) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
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
