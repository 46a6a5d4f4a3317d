package dev.fernetjca.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import dev.fernetjca.provider.FernetProvider;

/** Keys, factories and a small echo server on 127.0.0.1 for the socket tests. */
final class SocketTestSupport {
    static final FernetProvider PROVIDER = new FernetProvider();
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private SocketTestSupport() {
    }

    static SecretKey newKey() {
        try {
            return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static FernetSocketFactory clientFactory(SecretKey key, Duration handshakeTimeout) {
        return new FernetSocketFactory(Settings.of(key, handshakeTimeout));
    }

    static FernetServerSocketFactory serverFactory(SecretKey key, Duration handshakeTimeout) {
        return new FernetServerSocketFactory(Settings.of(key, handshakeTimeout));
    }

    /** An echo server: each accepted connection gets its bytes back until the client half-closes. */
    static final class EchoServer implements AutoCloseable {
        final ServerSocket server;
        private final ExecutorService pool = Executors.newCachedThreadPool();
        volatile Throwable lastFailure;

        EchoServer(ServerSocketFactory factory) throws IOException {
            this.server = factory.createServerSocket(0, 50, LOOPBACK);
            pool.submit(this::acceptLoop);
        }

        int port() {
            return server.getLocalPort();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    pool.submit(() -> echo(socket));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void echo(Socket socket) {
            try (socket) {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                byte[] buffer = new byte[8192];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                }
                socket.shutdownOutput();
            } catch (IOException | RuntimeException e) {
                lastFailure = e;
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
            pool.shutdownNow();
            pool.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** The ServerSocketFactory interface, so that plain and Fernet factories both fit the echo server. */
    interface ServerSocketFactory {
        ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException;
    }
}
