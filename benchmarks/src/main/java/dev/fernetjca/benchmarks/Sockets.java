package dev.fernetjca.benchmarks;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The socket factories of each contender, configured as their users deploy them: JSSE through the
 * {@code javax.net.ssl.*} system properties (a self-signed EC P-256 certificate made by {@link Compare}), ours through
 * {@code getDefault()} with {@code fernet.keyFile} and {@code fernet.mode}. Tunnels are reached with plain sockets.
 *
 * <p>Stateless; safe to share.
 */
final class Sockets {
    static final String TLS13 = "TLSv1.3";
    static final String AES_128_GCM = "TLS_AES_128_GCM_SHA256";

    private Sockets() {}

    /** True for the contenders configured with the {@code javax.net.ssl.*} properties: JSSE with the certificate. */
    static boolean jsse(String kind) {
        return kind.startsWith("jsse") || kind.equals("engine-jsse");
    }

    /** True for the contenders configured with {@code fernet.keyFile}: our sockets and our engine. */
    static boolean fernet(String kind) {
        return kind.startsWith("fernet-") || kind.equals("engine-fernet");
    }

    /** {@code plain}, {@code jsse-full}, {@code jsse-resume}, {@code fernet-tls}, {@code fernet-tokens}, {@code tunnel-*}. */
    static ServerSocket listen(String kind) throws IOException {
        ServerSocketFactory factory;
        if (jsse(kind)) {
            factory = SSLServerSocketFactory.getDefault();
        } else if (fernet(kind)) {
            factory = FernetServerSocketFactory.getDefault();
        } else {
            factory = ServerSocketFactory.getDefault();
        }
        ServerSocket server = factory.createServerSocket(0, 1_024, InetAddress.getLoopbackAddress());
        if (server instanceof SSLServerSocket ssl) {
            ssl.setEnabledProtocols(new String[] {TLS13});
            ssl.setEnabledCipherSuites(new String[] {AES_128_GCM});
        }
        return server;
    }

    /** A connected client socket of {@code kind}; the TLS handshake runs on its first I/O. */
    static Socket connect(String kind, int port) throws IOException {
        SocketFactory factory;
        if (jsse(kind)) {
            factory = SSLSocketFactory.getDefault();
        } else if (fernet(kind)) {
            factory = FernetSocketFactory.getDefault();
        } else {
            factory = SocketFactory.getDefault();
        }
        Socket socket = factory.createSocket(InetAddress.getLoopbackAddress(), port);
        socket.setTcpNoDelay(true);
        if (socket instanceof SSLSocket ssl) {
            ssl.setEnabledProtocols(new String[] {TLS13});
            ssl.setEnabledCipherSuites(new String[] {AES_128_GCM});
        }
        return socket;
    }

    /**
     * Closes a client socket; for {@code jsse-full} and {@code engine-jsse} the session is invalidated first, so the
     * next connection runs a full handshake (certificate signature and verification) instead of resuming.
     */
    static void close(String kind, Socket socket) throws IOException {
        if ((kind.equals("jsse-full") || kind.equals("engine-jsse")) && socket instanceof SSLSocket ssl) {
            ssl.getSession().invalidate();
        }
        socket.close();
    }
}
