package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A socket whose bytes cross the wire as TLS 1.3 with a Fernet-derived PSK. It wraps a plain socket: options,
 * addresses and state are the plain socket's. The handshake runs on the first read or write (or
 * {@link FernetSocketFactory#handshake}), bounded by the handshake timeout, never inside {@code accept()}.
 *
 * <p>The plain socket's options and addresses are forwarded by {@link DelegatingSocket}; what is here is the socket's
 * own logic.
 *
 * <p>One reader and one writer thread at a time, as with Socket; {@code close()} from any thread.
 */
final class FernetSocket extends DelegatingSocket {
    private final boolean client;
    private final Settings settings;
    private final InputStream input = new TlsInput();
    private final OutputStream output = new TlsOutput();
    private volatile Connection connection; // null until connected
    private volatile int soTimeout; // the caller's; the handshake borrows the raw timeout
    private volatile boolean inputShutdown;
    private volatile boolean closingCleanly; // set by close(): a fernet-tokens failure resets instead
    private final AtomicBoolean counted = new AtomicBoolean(); // by Metrics, from connection to close

    private FernetSocket(Socket raw, boolean client, Settings settings) throws SocketException {
        super(raw);
        this.client = client;
        this.settings = settings;
        this.soTimeout = raw.getSoTimeout();
        if (raw.isConnected()) {
            attach();
        }
    }

    /** Wraps a plain client socket, connected or not; the handshake waits for the first I/O. */
    static FernetSocket client(Socket raw, Settings settings) throws SocketException {
        return new FernetSocket(raw, true, settings);
    }

    /** Wraps a socket just accepted by a server; the handshake waits for the first I/O. */
    static FernetSocket server(Socket raw, Settings settings) throws SocketException {
        return new FernetSocket(raw, false, settings);
    }

    private void attach() throws SocketException {
        try {
            String peer = String.valueOf(raw.getRemoteSocketAddress());
            InputStream rawIn = raw.getInputStream();
            OutputStream rawOut = raw.getOutputStream();
            if (settings.mode == Settings.Mode.FERNET_TOKENS) {
                // this mode's clean end is TCP's own FIN between lines, so a stream that fails must end with a reset
                // or the peer would take the cut for a clean end
                connection = new TokenLineStream(
                        settings.ring, settings.tokenParameters, rawIn, rawOut, () -> closeRaw(!closingCleanly), peer);
            } else {
                connection = client
                        ? TlsEngine.client(Settings.CRYPTO, settings.psks, rawIn, rawOut, raw, peer)
                        : TlsEngine.server(Settings.CRYPTO, settings.psks, rawIn, rawOut, raw, peer);
            }
            Metrics.opened(counted);
        } catch (SocketException e) {
            throw e;
        } catch (IOException e) {
            throw new SocketException("cannot open the socket's streams: " + e.getMessage());
        }
    }

    /** Runs the handshake now unless it is done. */
    void handshake() throws IOException {
        Connection current = connection();
        if (current.isHandshakeDone()) {
            return;
        }
        try {
            current.handshake(settings.handshakeTimeoutMillis, raw::setSoTimeout);
        } finally {
            if (!raw.isClosed()) {
                raw.setSoTimeout(soTimeout);
            }
        }
    }

    private Connection connection() throws SocketException {
        Connection current = connection;
        if (raw.isClosed()) {
            throw new SocketException("socket is closed");
        }
        if (current == null) {
            throw new SocketException("socket is not connected");
        }
        return current;
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        connect(endpoint, 0);
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        raw.connect(endpoint, timeout);
        attach();
    }

    @Override
    public InputStream getInputStream() throws IOException {
        connection();
        if (inputShutdown) {
            throw new SocketException("socket input is shut down");
        }
        return input;
    }

    @Override
    @SuppressFBWarnings(
            value = "EI_EXPOSE_REP",
            justification = "a socket hands out its own stream, as java.net.Socket does")
    public OutputStream getOutputStream() throws IOException {
        connection();
        if (raw.isOutputShutdown()) {
            throw new SocketException("socket output is shut down");
        }
        return output;
    }

    /** Sends close_notify for our direction, then shuts down the raw output; the peer reads -1 after all data. */
    @Override
    public void shutdownOutput() throws IOException {
        Connection current = connection();
        if (raw.isOutputShutdown()) {
            throw new SocketException("socket output is already shut down");
        }
        handshake();
        current.shutdownOutput();
        raw.shutdownOutput();
    }

    /**
     * Stops reading: later reads return -1. Bytes the peer still sends are discarded by the kernel. The handshake runs
     * first, since it needs input.
     */
    @Override
    public void shutdownInput() throws IOException {
        connection();
        if (inputShutdown) {
            throw new SocketException("socket input is already shut down");
        }
        handshake();
        inputShutdown = true;
        raw.shutdownInput();
    }

    /** Sends close_notify when the connection is healthy, then closes; idempotent. */
    @Override
    public void close() throws IOException {
        Metrics.closed(counted);
        Connection current = connection;
        if (current != null) {
            closingCleanly = true;
            current.close();
        } else {
            raw.close();
        }
    }

    /**
     * Closes as a failure: a TCP reset and no close_notify, so that the peer sees an error and never a clean end (a
     * relay that passes a failure on as a clean end turns a cut into a silent truncation). Idempotent; any thread.
     */
    void abort() {
        Metrics.closed(counted);
        try {
            closeRaw(true);
        } catch (IOException e) {
            // closing is all that was asked
        }
        Connection current = connection;
        if (current != null) {
            try {
                current.close(); // marks it closed and wipes what it holds; the transport is gone, nothing is sent
            } catch (IOException e) {
                // the raw socket is closed already: nothing left to fail
            }
        }
    }

    private void closeRaw(boolean reset) throws IOException {
        if (!reset) {
            raw.close();
            return;
        }
        if (!raw.isClosed()) {
            try {
                raw.setSoLinger(true, 0);
            } catch (SocketException e) {
                // closed meanwhile: nothing to reset
            }
        }
        Connection.Transport.cut(raw); // a layered socket's caller keeps nothing of a stream abandoned mid-record
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
        }
        soTimeout = timeout;
        raw.setSoTimeout(timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        if (raw.isClosed()) {
            throw new SocketException("socket is closed");
        }
        return soTimeout;
    }

    @Override
    public boolean isInputShutdown() {
        return inputShutdown;
    }

    @Override
    public String toString() {
        return "FernetSocket[" + (client ? "client, " : "server, ") + raw + "]";
    }

    private final class TlsInput extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, buffer.length);
            if (inputShutdown) {
                return -1;
            }
            handshake();
            return Metrics.received(connection().read(buffer, offset, length));
        }

        @Override
        public int available() throws IOException {
            return inputShutdown ? 0 : connection().available();
        }

        @Override
        public void close() throws IOException {
            FernetSocket.this.close();
        }
    }

    private final class TlsOutput extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, buffer.length);
            handshake();
            connection().write(buffer, offset, length);
            Metrics.sent(length);
        }

        @Override
        public void close() throws IOException {
            FernetSocket.this.close();
        }
    }
}
