package dev.fernetjca.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import javax.net.ssl.SSLServerSocketFactory;

/**
 * The {@code SSLServerSocketFactory} of a {@code FernetPSK} context: the server sockets of
 * {@link FernetServerSocketFactory}, whose accepted sockets speak TLS 1.3 with our PSK, behind the type that servers
 * ask for. They are plain {@code ServerSocket}s, not {@code SSLServerSocket}s.
 *
 * <p>Thread-safe; safe to share.
 */
final class PskServerSocketFactory extends SSLServerSocketFactory {
    private final FernetServerSocketFactory sockets;

    PskServerSocketFactory(KeyWatch keys) {
        this.sockets = FernetServerSocketFactory.watching(keys);
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return PskEngineBase.SUITES.clone();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return PskEngineBase.SUITES.clone();
    }

    @Override
    public ServerSocket createServerSocket() throws IOException {
        return sockets.createServerSocket();
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
        return sockets.createServerSocket(port);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
        return sockets.createServerSocket(port, backlog);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress bindAddress) throws IOException {
        return sockets.createServerSocket(port, backlog, bindAddress);
    }

    @Override
    public String toString() {
        return "PskServerSocketFactory[" + sockets + "]";
    }
}
