package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fernetjca.provider.FernetKeyRing;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsClientProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A handshake on TLS_CHACHA20_POLY1305_SHA256 alone, so that Bouncy Castle's handshake records go through the
 * ChaCha20-Poly1305 cipher {@link JdkTlsCrypto#createCipher} makes on the JDK's cipher (our suites prefer AES-GCM, so
 * no other test reaches it), then application data both ways between Bouncy Castle's record layer on that cipher and
 * our {@link RecordProtection}.
 */
@Timeout(60)
class JdkTlsCryptoHandshakeTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void aChaChaOnlyClientCompletesTheHandshakeAndTalksWithOurRecordLayer() throws Exception {
        List<PskDerivation> psks = PskDerivation.of(FernetKeyRing.of(newKey()));
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK);
                Socket raw = new Socket(LOOPBACK, listener.getLocalPort());
                Socket accepted = listener.accept()) {
            TlsEngine server = TlsEngine.server(
                    Settings.CRYPTO, psks, accepted.getInputStream(), accepted.getOutputStream(), accepted, "client");
            Future<String> echoed = pool.submit(() -> {
                server.handshake(10_000, accepted::setSoTimeout);
                byte[] request = new byte[5];
                for (int done = 0; done < request.length; ) {
                    done += server.read(request, done, request.length - done);
                }
                server.write("pong:".getBytes(StandardCharsets.US_ASCII), 0, 5);
                server.write(request, 0, request.length);
                return new String(request, StandardCharsets.US_ASCII);
            });

            TlsClientProtocol client = new TlsClientProtocol();
            PskTlsClient settings =
                    new PskTlsClient(Settings.CRYPTO, psks, new int[] {CipherSuite.TLS_CHACHA20_POLY1305_SHA256});
            client.connect(settings);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            byte[] buffer = new byte[20_000];
            while (true) {
                flush(client, out, buffer);
                if (!client.isHandshaking()) {
                    break;
                }
                int n = in.read(buffer);
                if (n < 0) {
                    throw new EOFException("server ended the handshake");
                }
                client.offerInput(buffer, 0, n);
            }
            // the client offered this one suite: a handshake that completed used it
            assertEquals(0, settings.selectedIndex());

            client.writeApplicationData("ping!".getBytes(StandardCharsets.US_ASCII), 0, 5);
            flush(client, out, buffer);
            assertEquals("ping!", echoed.get(10, TimeUnit.SECONDS), "our record layer opened Bouncy Castle's record");
            assertEquals(0, server.matchedKeyIndex());

            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            while (reply.size() < 10) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                client.offerInput(buffer, 0, n);
                int available = client.getAvailableInputBytes();
                if (available > 0) {
                    byte[] plain = new byte[available];
                    client.readInput(plain, 0, available);
                    reply.write(plain);
                }
            }
            assertEquals("pong:ping!", reply.toString(StandardCharsets.US_ASCII), "Bouncy Castle opened ours");
            server.close();
        }
    }

    private static void flush(TlsClientProtocol client, OutputStream out, byte[] buffer) throws Exception {
        int available = client.getAvailableOutputBytes();
        while (available > 0) {
            int n = client.readOutput(buffer, 0, Math.min(available, buffer.length));
            out.write(buffer, 0, n);
            available = client.getAvailableOutputBytes();
        }
        out.flush();
    }
}
