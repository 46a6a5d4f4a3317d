package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.clientFactory;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static dev.fernetjca.net.SocketTestSupport.serverFactory;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class FernetSocketTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(5);

    @Test
    void echoesThroughTls() throws Exception {
        SecretKey key = newKey();
        FernetServerSocketFactory servers = serverFactory(key, HANDSHAKE);
        try (SocketTestSupport.EchoServer echo = new SocketTestSupport.EchoServer(servers::createServerSocket);
             Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, echo.port())) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write("hello over tls".getBytes(UTF_8));
            socket.shutdownOutput();
            assertArrayEquals("hello over tls".getBytes(UTF_8), in.readAllBytes());
            assertEquals(-1, in.read());
        }
    }
}
