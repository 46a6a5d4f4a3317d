package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.clientFactory;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static dev.fernetjca.net.SocketTestSupport.serverFactory;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link FernetSocketFactory#abort}: a relay's way to pass a failure on as a failure. The peer of an aborted socket sees
 * an error, never a clean end; and in fernet-tokens mode, whose clean end is a plain FIN, a stream that fails resets.
 */
@Timeout(30)
class FernetSocketAbortTest {
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @Test
    void anAbortedTlsSocketSendsNoCloseNotify() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, DEADLINE).createServerSocket(0, 50, LOOPBACK)) {
            CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    Socket socket = server.accept();
                    socket.getOutputStream().write("hi".getBytes(UTF_8)); // runs the handshake
                    return socket;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try (Socket client = clientFactory(key, DEADLINE).createSocket(LOOPBACK, server.getLocalPort())) {
                client.setSoTimeout(20_000);
                assertArrayEquals("hi".getBytes(UTF_8), client.getInputStream().readNBytes(2));
                FernetSocketFactory.abort(accepted.get(20, TimeUnit.SECONDS));
                assertThrows(IOException.class, () -> client.getInputStream().read());
            }
        }
    }

    @Test
    void aFernetTokensStreamThatFailsResetsItsPeer() throws Exception {
        Settings tokens = Settings.of(newKey(), Settings.Mode.FERNET_TOKENS, null, DEADLINE);
        try (ServerSocket server = new FernetServerSocketFactory(tokens).createServerSocket(0, 50, LOOPBACK);
                Socket peer = new Socket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            peer.getOutputStream().write("not a token\n".getBytes(UTF_8));
            assertThrows(IOException.class, () -> accepted.getInputStream().read());
            peer.setSoTimeout(20_000);
            // a FIN here would read as a clean end between lines
            assertThrows(SocketException.class, () -> peer.getInputStream().read());
        }
    }

    @Test
    void anAbortedFernetTokensSocketResetsItsPeer() throws Exception {
        Settings tokens = Settings.of(newKey(), Settings.Mode.FERNET_TOKENS, null, DEADLINE);
        try (ServerSocket server = new FernetServerSocketFactory(tokens).createServerSocket(0, 50, LOOPBACK);
                Socket peer = new Socket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            FernetSocketFactory.abort(accepted);
            peer.setSoTimeout(20_000);
            assertThrows(SocketException.class, () -> peer.getInputStream().read());
        }
    }

    @Test
    void anAbortedPlainSocketResetsItsPeer() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
                Socket peer = new Socket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            FernetSocketFactory.abort(accepted);
            peer.setSoTimeout(20_000);
            assertThrows(SocketException.class, () -> peer.getInputStream().read());
        }
    }
}
