package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the engine hands {@link TlsFailures} as evidence, seen in the words of real failures: a key with our identity
 * and another secret (the server matched the identity and had not answered; the client saw no ServerHello), and the
 * plausibility check of a handshake record header, which fails a header that cannot be TLS at once instead of
 * waiting for a body that never comes.
 */
@Timeout(60)
class TlsEngineDiagnosisTest {
    private static final int HANDSHAKE_MILLIS = 2_000;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    private static List<PskDerivation> psks(SecretKey key) {
        return PskDerivation.of(FernetKeyRing.of(key));
    }

    /** A key that claims {@code identityOf}'s identity with {@code secretOf}'s secret, as no honest peer holds. */
    private static PskDerivation impostor(PskDerivation identityOf, PskDerivation secretOf) throws Exception {
        Constructor<PskDerivation> constructor = PskDerivation.class.getDeclaredConstructor(byte[].class, byte[].class);
        constructor.setAccessible(true);
        return constructor.newInstance(identityOf.identity(), secretOf.secret());
    }

    @Test
    void ourIdentityWithAnotherSecretIsAKeyMismatchOnBothSides() throws Exception {
        List<PskDerivation> serverPsks = psks(newKey());
        PskDerivation impostor = impostor(serverPsks.get(0), psks(newKey()).get(0));
        String identity = serverPsks.get(0).identityText();
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK);
                Socket clientSocket = new Socket(LOOPBACK, listener.getLocalPort());
                Socket serverSocket = listener.accept()) {
            TlsEngine client = TlsEngine.client(
                    Settings.CRYPTO,
                    List.of(impostor),
                    clientSocket.getInputStream(),
                    clientSocket.getOutputStream(),
                    clientSocket,
                    "server");
            TlsEngine server = TlsEngine.server(
                    Settings.CRYPTO,
                    serverPsks,
                    serverSocket.getInputStream(),
                    serverSocket.getOutputStream(),
                    serverSocket,
                    "client");
            Future<SSLHandshakeException> serverFailure = pool.submit(() -> assertThrows(
                    SSLHandshakeException.class, () -> server.handshake(10_000, serverSocket::setSoTimeout)));
            SSLHandshakeException clientFailure = assertThrows(
                    SSLHandshakeException.class, () -> client.handshake(10_000, clientSocket::setSoTimeout));
            assertEquals(
                    "client does not hold a matching Fernet key: it offered " + identity
                            + ", an identity we hold, with another secret (its PSK binder does not verify)",
                    serverFailure.get(10, TimeUnit.SECONDS).getMessage(),
                    "the identity matched (selected index 0) and we had not answered");
            assertEquals(
                    "server does not hold a matching Fernet key: it has one of the identities we offered, " + identity
                            + ", with another secret (its PSK binder check failed) (alert decrypt_error(51))",
                    clientFailure.getMessage(),
                    "no ServerHello came before the alert");
            assertEquals(-1, client.matchedKeyIndex());
        }
    }

    /** Runs a client handshake against a "server" that sends {@code bytes} and then stays silent and open. */
    private String failureAgainst(byte[] bytes) throws Exception {
        return failureAgainst(bytes, 0);
    }

    /** As {@link #failureAgainst(byte[])}, the client reading at most {@code fragment} bytes per read (0: any). */
    private String failureAgainst(byte[] bytes, int fragment) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK);
                Socket clientSocket = new Socket(LOOPBACK, listener.getLocalPort());
                Socket serverSocket = listener.accept()) {
            serverSocket.getOutputStream().write(bytes);
            serverSocket.getOutputStream().flush();
            TlsEngine client = TlsEngine.client(
                    Settings.CRYPTO,
                    psks(newKey()),
                    fragment == 0
                            ? clientSocket.getInputStream()
                            : new FragmentingInputStream(clientSocket.getInputStream(), 5, fragment),
                    clientSocket.getOutputStream(),
                    clientSocket,
                    "server");
            IOException failure = assertThrows(
                    IOException.class, () -> client.handshake(HANDSHAKE_MILLIS, clientSocket::setSoTimeout));
            return String.valueOf(failure.getMessage());
        }
    }

    @Test
    void aHeaderThatCannotBeTlsFailsAtOnce() throws Exception {
        String timedOut = "did not complete within";
        String overflow = failureAgainst(new byte[] {22, 3, 3, 0x41, 0x01}); // 2^14 + 257 bytes
        assertEquals("record from server exceeds the TLS record limit", overflow);
        for (byte[] header : new byte[][] {
            {19, 3, 3, 0, 5}, // below change_cipher_spec
            {24, 3, 3, 0, 5}, // heartbeat: TLS, but nothing a handshake may bring
            {22, 2, 3, 0, 5}, // not version 3
            {22, 4, 3, 0, 5},
        }) {
            String message = failureAgainst(header);
            assertFalse(message.contains(timedOut), header[0] + "." + header[1] + ": " + message);
        }
    }

    @Test
    void aPlausibleHeaderWaitsForItsBody() throws Exception {
        // a header that may be TLS: its body could still come, so only the deadline ends the wait
        for (byte[] header : new byte[][] {{20, 3, 3, 0, 1}, {23, 3, 3, 0, 5}, {22, 3, 3, 0x41, 0x00}}) {
            String message = failureAgainst(header);
            assertTrue(
                    message.contains("did not complete within " + HANDSHAKE_MILLIS + " ms"),
                    header[0] + ": " + message);
        }
    }

    @Test
    void theFirstTwoBytesTellTlsFromAnythingElseHoweverTheyArrive() throws Exception {
        byte[] ssh = "SSH-2.0-OpenSSH_9.6\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int fragment : new int[] {0, 1, 2}) {
            assertEquals(
                    "server is not a fernet-jca peer: it did not answer with TLS",
                    failureAgainst(ssh, fragment),
                    "fragments of " + fragment);
            assertEquals(
                    "record from server exceeds the TLS record limit",
                    failureAgainst(new byte[] {22, 3, 3, 0x41, 0x01}, fragment),
                    "fragments of " + fragment + ": the first two bytes were TLS");
        }
    }

    @Test
    void aServerNamesTheFirstFourIdentitiesOfferedAndCountsTheRest() throws Exception {
        List<PskDerivation> clientPsks =
                PskDerivation.of(FernetKeyRing.of(newKey(), newKey(), newKey(), newKey(), newKey(), newKey()));
        List<PskDerivation> serverPsks = psks(newKey());
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK);
                Socket clientSocket = new Socket(LOOPBACK, listener.getLocalPort());
                Socket serverSocket = listener.accept()) {
            TlsEngine client = TlsEngine.client(
                    Settings.CRYPTO,
                    clientPsks,
                    clientSocket.getInputStream(),
                    clientSocket.getOutputStream(),
                    clientSocket,
                    "server");
            TlsEngine server = TlsEngine.server(
                    Settings.CRYPTO,
                    serverPsks,
                    serverSocket.getInputStream(),
                    serverSocket.getOutputStream(),
                    serverSocket,
                    "client");
            Future<SSLHandshakeException> serverFailure = pool.submit(() -> assertThrows(
                    SSLHandshakeException.class, () -> server.handshake(10_000, serverSocket::setSoTimeout)));
            assertThrows(SSLHandshakeException.class, () -> client.handshake(10_000, clientSocket::setSoTimeout));
            StringBuilder firstFour = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                firstFour.append(i == 0 ? "" : ", ").append(clientPsks.get(i).identityText());
            }
            assertEquals(
                    "client does not hold a matching Fernet key: it offered " + firstFour + " and 2 more; we hold "
                            + serverPsks.get(0).identityText(),
                    serverFailure.get(10, TimeUnit.SECONDS).getMessage());
            assertEquals(-1, server.matchedKeyIndex());
        }
    }
}
