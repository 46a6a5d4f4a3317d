package dev.fernetjca.it;

import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.FernetProvider;
import dev.fernetjca.testing.KeyFiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.KeyGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What the service behind {@code fernet tunnel --decrypt} sees of clients that do not hold the key. */
@Timeout(120)
class TunnelBackendIT {
    @TempDir
    Path dir;

    @Test
    void clientWithoutTheKeyNeverReachesTheBackend() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (true) {
                    try (Socket socket = backend.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "backend");
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
}
