package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsClientProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The engine alone, with input split into fragments of random sizes, so records never arrive whole. */
@Timeout(60)
class TlsEngineTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    private record Pair(TlsEngine client, TlsEngine server) {}

    private Pair connect(List<PskDerivation> clientPsks, List<PskDerivation> serverPsks, int maxFragment)
            throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK)) {
            Socket clientSocket = new Socket(LOOPBACK, listener.getLocalPort());
            Socket serverSocket = listener.accept();
            TlsEngine client = TlsEngine.client(
                    Settings.CRYPTO,
                    clientPsks,
                    new FragmentingInputStream(clientSocket.getInputStream(), 1, maxFragment),
                    clientSocket.getOutputStream(),
                    clientSocket,
                    "server");
            TlsEngine server = TlsEngine.server(
                    Settings.CRYPTO,
                    serverPsks,
                    new FragmentingInputStream(serverSocket.getInputStream(), 2, maxFragment),
                    serverSocket.getOutputStream(),
                    serverSocket,
                    "client");
            return new Pair(client, server);
        }
    }

    private static List<PskDerivation> psks(SecretKey... keys) {
        return PskDerivation.of(FernetKeyRing.of(keys[0], Arrays.copyOfRange(keys, 1, keys.length)));
    }

    @ParameterizedTest(name = "fragments of at most {0} bytes")
    @ValueSource(ints = {1, 7, 300, 20_000})
    void transfersBothWaysWithHalfCloseWhateverTheFragmentation(int maxFragment) throws Exception {
        SecretKey key = newKey();
        Pair pair = connect(psks(key), psks(key), maxFragment);
        Future<?> serverHandshake = pool.submit(() -> {
            pair.server().handshake(10_000, millis -> {});
            return null;
        });
        pair.client().handshake(10_000, millis -> {});
        serverHandshake.get(10, TimeUnit.SECONDS);
        assertEquals(0, pair.client().matchedKeyIndex());

        byte[] upstream = random(200_000, 5);
        byte[] downstream = random(70_000, 6);
        Future<byte[]> serverReceived = pool.submit(() -> readAll(pair.server()));
        Future<?> serverSends = pool.submit(() -> {
            pair.server().write(downstream, 0, downstream.length);
            pair.server().shutdownOutput();
            return null;
        });
        pair.client().write(upstream, 0, upstream.length);
        pair.client().shutdownOutput();
        assertArrayEquals(downstream, readAll(pair.client()));
        assertArrayEquals(upstream, serverReceived.get(20, TimeUnit.SECONDS));
        serverSends.get(5, TimeUnit.SECONDS);
        assertTrue(pair.client().isInboundClosed());
        pair.client().close();
        pair.server().close();
    }

    /**
     * The engine needs no socket: over in-memory pipes, fragmented, both directions stream at once through the
     * handshake and our record layer, then half-close each way.
     */
    @Test
    void runsOverInMemoryPipesWithoutASocket() throws Exception {
        SecretKey key = newKey();
        PipedInputStream clientIn = new PipedInputStream(1 << 16);
        PipedInputStream serverIn = new PipedInputStream(1 << 16);
        PipedOutputStream clientOut = new PipedOutputStream(serverIn);
        PipedOutputStream serverOut = new PipedOutputStream(clientIn);
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                psks(key),
                new FragmentingInputStream(clientIn, 3, 500),
                clientOut,
                () -> {},
                "server");
        TlsEngine server = TlsEngine.server(
                Settings.CRYPTO,
                psks(key),
                new FragmentingInputStream(serverIn, 4, 500),
                serverOut,
                () -> {},
                "client");
        byte[] upstream = random(100_000, 11);
        byte[] downstream = random(60_000, 12);
        Future<byte[]> serverSide = pool.submit(() -> {
            server.handshake(10_000, millis -> {});
            Future<byte[]> received = pool.submit(() -> readAll(server));
            server.write(downstream, 0, downstream.length);
            server.shutdownOutput();
            return received.get(20, TimeUnit.SECONDS);
        });
        client.handshake(10_000, millis -> {});
        Future<byte[]> clientReceived = pool.submit(() -> readAll(client));
        client.write(upstream, 0, upstream.length);
        client.shutdownOutput();
        assertArrayEquals(downstream, clientReceived.get(20, TimeUnit.SECONDS));
        assertArrayEquals(upstream, serverSide.get(20, TimeUnit.SECONDS));
        client.close();
        server.close();
    }

    @Test
    void serverPrefersItsPrimaryWhenTheClientOffersSeveralKeys() throws Exception {
        SecretKey oldKey = newKey();
        SecretKey newKey = newKey();
        Pair pair = connect(psks(oldKey, newKey), psks(newKey, oldKey), 50);
        Future<?> serverHandshake = pool.submit(() -> {
            pair.server().handshake(10_000, millis -> {});
            return null;
        });
        pair.client().handshake(10_000, millis -> {});
        serverHandshake.get(10, TimeUnit.SECONDS);
        assertEquals(0, pair.server().matchedKeyIndex());
        assertEquals(1, pair.client().matchedKeyIndex());
        pair.client().close();
        pair.server().close();
    }

    @Test
    void noCommonKeyFailsBothHandshakesNamingTheIdentitiesOfEachSide() throws Exception {
        List<PskDerivation> clientPsks = psks(newKey(), newKey());
        List<PskDerivation> serverPsks = psks(newKey());
        Pair pair = connect(clientPsks, serverPsks, 50);
        Future<IOException> serverFailure = pool.submit(() ->
                assertThrows(SSLHandshakeException.class, () -> pair.server().handshake(10_000, millis -> {})));
        SSLHandshakeException clientFailure =
                assertThrows(SSLHandshakeException.class, () -> pair.client().handshake(10_000, millis -> {}));
        String clientIdentities =
                clientPsks.get(0).identityText() + ", " + clientPsks.get(1).identityText();
        assertEquals(
                "server does not hold a matching Fernet key: it knows none of the identities we offered, "
                        + clientIdentities + " (alert unknown_psk_identity(115))",
                clientFailure.getMessage());
        assertEquals(
                "client does not hold a matching Fernet key: it offered " + clientIdentities + "; we hold "
                        + serverPsks.get(0).identityText(),
                serverFailure.get(10, TimeUnit.SECONDS).getMessage());
        // failed for good: later use throws, it does not hang
        assertThrows(IOException.class, () -> pair.client().write(new byte[1], 0, 1));
    }

    /** A key holder that sends data after its close_notify, as no honest peer does. */
    private static final class RogueClient extends TlsClientProtocol {
        void closeNotify() throws IOException {
            raiseAlertWarning(AlertDescription.close_notify, "rogue");
        }
    }

    @Test
    void ignoresDataAfterCloseNotify() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK);
                Socket raw = new Socket(LOOPBACK, listener.getLocalPort());
                Socket accepted = listener.accept()) {
            TlsEngine server = TlsEngine.server(
                    Settings.CRYPTO,
                    psks(key),
                    accepted.getInputStream(),
                    accepted.getOutputStream(),
                    accepted,
                    "client");
            Future<byte[]> received = pool.submit(() -> {
                server.handshake(10_000, millis -> {});
                return readAll(server);
            });
            RogueClient rogue = new RogueClient();
            rogue.connect(new PskTlsClient(Settings.CRYPTO, psks(key)));
            byte[] buffer = new byte[20_000];
            while (true) {
                int available = rogue.getAvailableOutputBytes();
                if (available > 0) {
                    rogue.readOutput(buffer, 0, available);
                    raw.getOutputStream().write(buffer, 0, available);
                }
                if (!rogue.isHandshaking()) {
                    break;
                }
                int n = raw.getInputStream().read(buffer);
                rogue.offerInput(buffer, 0, n);
            }
            rogue.writeApplicationData("before|".getBytes(StandardCharsets.US_ASCII), 0, 7);
            rogue.closeNotify();
            rogue.writeApplicationData("AFTER".getBytes(StandardCharsets.US_ASCII), 0, 5);
            int available = rogue.getAvailableOutputBytes();
            rogue.readOutput(buffer, 0, available);
            raw.getOutputStream().write(buffer, 0, available); // all in one TCP write
            assertEquals("before|", new String(received.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void bothPeersStreamingAtOnceDoNotDeadlock() throws Exception {
        SecretKey key = newKey();
        Pair pair = connect(psks(key), psks(key), 20_000);
        Future<?> serverHandshake = pool.submit(() -> {
            pair.server().handshake(10_000, millis -> {});
            return null;
        });
        pair.client().handshake(10_000, millis -> {});
        serverHandshake.get(10, TimeUnit.SECONDS);
        int size = 32 << 20;
        List<Future<Long>> results = new ArrayList<>();
        for (TlsEngine engine : List.of(pair.client(), pair.server())) {
            pool.submit(() -> {
                byte[] chunk = new byte[65_536];
                for (int written = 0; written < size; written += chunk.length) {
                    engine.write(chunk, 0, chunk.length);
                }
                engine.shutdownOutput();
                return null;
            });
            results.add(pool.submit(() -> (long) readAll(engine).length));
        }
        for (Future<Long> result : results) {
            assertEquals(size, result.get(50, TimeUnit.SECONDS));
        }
        pair.client().close();
        pair.server().close();
    }

    private static byte[] readAll(TlsEngine engine) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[3000];
        for (int n; (n = engine.read(buffer, 0, buffer.length)) > 0; ) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
