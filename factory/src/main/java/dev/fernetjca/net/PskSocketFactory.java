package dev.fernetjca.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import javax.net.ssl.SSLSocketFactory;

/**
 * The {@code SSLSocketFactory} of a {@code FernetPSK} context: the sockets of {@link FernetSocketFactory} (TLS 1.3
 * with our PSK, handshake on first I/O), behind the type that drivers ask for. They are plain {@code Socket}s, not
 * {@code SSLSocket}s. The layered {@link #createSocket(Socket, String, int, boolean)} runs our TLS over a connected
 * socket, as drivers do after a plain preamble (PostgreSQL's SSLRequest, LDAP's StartTLS).
 *
 * <p>Thread-safe; safe to share.
 */
final class PskSocketFactory extends SSLSocketFactory {
    private final KeyWatch keys;
    private final FernetSocketFactory sockets;

    PskSocketFactory(KeyWatch keys) {
        this.keys = keys;
        this.sockets = FernetSocketFactory.watching(keys);
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return PskEngineBase.SUITES.clone();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return PskEngineBase.SUITES.clone();
    }

    /**
     * Returns {@code socket}, connected already, speaking our TLS as a client; the handshake runs on first I/O.
     *
     * @param autoClose whether closing the returned socket closes {@code socket}; if not, closing sends close_notify
     *     and leaves {@code socket} open, and shutting down either direction of the returned socket leaves
     *     {@code socket}'s open too. A failure, {@link FernetSocketFactory#abort}, or a close whose close_notify cannot
     *     leave (a writer blocked mid-record, a peer that reads nothing for {@value TlsEngine#GOODBYE_MILLIS} ms) closes
     *     {@code socket} even so: its stream is broken, and closing it frees the threads blocked on it
     */
    @Override
    public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
        if (!socket.isConnected()) {
            throw new SocketException("socket is not connected");
        }
        return FernetSocket.client(autoClose ? socket : new KeptOpen(socket), keys.settings());
    }

    @Override
    public Socket createSocket() throws IOException {
        return sockets.createSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return sockets.createSocket(host, port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return sockets.createSocket(host, port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return sockets.createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return sockets.createSocket(address, port, localAddress, localPort);
    }

    @Override
    public String toString() {
        return "PskSocketFactory[" + sockets + "]";
    }

    /**
     * A connected socket whose {@code close} and shutdowns end only our use of it: for {@code autoClose} false, the
     * caller keeps the socket after the TLS layer on it is closed, as with the JDK's layered {@code SSLSocket}. When
     * the TLS stream cannot end cleanly (a failure, an abort, close_notify stuck behind a peer that does not read or
     * behind a writer blocked mid-record), {@link #cut()} closes the caller's socket too: its stream is mid-record,
     * and closing it is the only way to free the threads blocked on it.
     */
    private static final class KeptOpen extends DelegatingSocket implements Connection.Transport {
        private volatile boolean closed;
        private volatile boolean inputShutdown;
        private volatile boolean outputShutdown;

        KeptOpen(Socket raw) {
            super(raw);
        }

        @Override
        public InputStream getInputStream() throws IOException {
            return raw.getInputStream();
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            return raw.getOutputStream();
        }

        @Override
        public void setSoTimeout(int timeout) throws SocketException {
            raw.setSoTimeout(timeout);
        }

        @Override
        public int getSoTimeout() throws SocketException {
            return raw.getSoTimeout();
        }

        /** Marks our output ended (close_notify is sent already); the caller's socket can still send. */
        @Override
        public void shutdownOutput() {
            outputShutdown = true;
        }

        /** Marks our input ended; the caller's socket can still read what the peer sends next. */
        @Override
        public void shutdownInput() {
            inputShutdown = true;
        }

        @Override
        public boolean isInputShutdown() {
            return inputShutdown || raw.isInputShutdown();
        }

        @Override
        public boolean isOutputShutdown() {
            return outputShutdown || raw.isOutputShutdown();
        }

        @Override
        public boolean isClosed() {
            return closed || raw.isClosed();
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public void cut() throws IOException {
            closed = true;
            raw.close();
        }
    }
}
