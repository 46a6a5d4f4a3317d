package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.provider.FernetProvider;
import dev.fernetjca.testing.EchoServer;
import dev.fernetjca.testing.KeyFiles;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.KeyGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the service behind {@code fernet tunnel --decrypt} sees of clients that do not hold the key: nothing, in TLS mode
 * (the handshake comes first) and in fernet-tokens mode (the first token must authenticate first).
 */
@Timeout(120)
class TunnelBackendIT {
    @TempDir
    Path dir;

    @Test
    void clientWithoutTheKeyNeverReachesTheBackend() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(
                    () -> {
                        while (true) {
                            try (Socket socket = backend.accept()) {
                                accepted.incrementAndGet();
                            } catch (IOException e) {
                                return;
                            }
                        }
                    },
                    "backend");
            acceptor.setDaemon(true);
            acceptor.start();
            Path serverKey = KeyFiles.newKeyFile(dir, "server.key");
            try (TunnelProcess tunnel = TunnelProcess.decryptingTo(backend.getLocalPort(), serverKey)) {
                FernetSocketFactory stranger = new FernetSocketFactory(
                        KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey());
                try (Socket socket = stranger.createSocket(InetAddress.getLoopbackAddress(), tunnel.port())) {
                    assertThrows(IOException.class, () -> FernetSocketFactory.handshake(socket));
                }
                String line = tunnel.connectionLine(1);
                assertTrue(line.contains("does not hold a matching Fernet key"), line);
                assertEquals(0, accepted.get(), "the tunnel opened a backend connection for a client without the key");
            }
        }
    }

    /**
     * fernet-tokens mode has no handshake: three silent sockets used to make the tunnel open three backend connections
     * and hold them for ever. Now the target is connected only once a first token authenticates, and a silent peer is
     * closed at the handshake deadline.
     */
    @Test
    void fernetTokensModeConnectsOnlyForAnAuthenticatedTokenAndClosesSilentPeersAtTheDeadline() throws Exception {
        Path keyFile = KeyFiles.newKeyFile(dir, "server.key");
        try (EchoServer echo = EchoServer.plain(EchoServer.ECHO_THEN_COUNT);
                TunnelProcess tunnel = TunnelProcess.start(
                        "--listen",
                        "127.0.0.1:0",
                        "--connect",
                        echo.address(),
                        "--decrypt",
                        "--mode",
                        "fernet-tokens",
                        "--handshake-timeout",
                        "1",
                        "--key-file",
                        keyFile.toString())) {
            List<Socket> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket socket = new Socket(InetAddress.getLoopbackAddress(), tunnel.port());
                    socket.setSoTimeout(30_000);
                    silent.add(socket);
                }
                for (Socket socket : silent) {
                    assertThrows(
                            SocketException.class,
                            () -> socket.getInputStream().read(),
                            "a silent peer was not reset at the deadline");
                }
            } finally {
                for (Socket socket : silent) {
                    socket.close();
                }
            }
            assertTrue(tunnel.connectionLine(3).contains("failed: no token within 1 s"), tunnel.log());
            assertEquals(0, echo.served(), "the tunnel opened a backend connection for a peer that sent no token");

            FernetSocketFactory member = new FernetSocketFactory(
                    PythonPeerIT.secretKey(Files.readString(keyFile, US_ASCII).trim()),
                    FernetSocketOptions.fernetTokens(null));
            try (Socket client = member.createSocket(InetAddress.getLoopbackAddress(), tunnel.port())) {
                client.getOutputStream().write("hello\n".getBytes(US_ASCII));
                client.shutdownOutput();
                assertArrayEquals(
                        "hello\n<6 bytes>\n".getBytes(US_ASCII),
                        client.getInputStream().readAllBytes());
            }
            assertTrue(tunnel.connectionLine(4).endsWith("closed cleanly"), tunnel.log());
        }
    }
}
