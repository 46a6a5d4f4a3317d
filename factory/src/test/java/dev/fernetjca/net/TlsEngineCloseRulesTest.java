package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine's close rules (docs/protocol.md): a closed engine refuses every call, a failure is final and every later
 * call tells the first failure's story, half-close ends one direction only, and an end without close_notify is a
 * truncation.
 */
@Timeout(60)
class TlsEngineCloseRulesTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    /** A client engine and a server engine over loopback sockets, and the server's raw socket. */
    private record Pair(TlsEngine client, TlsEngine server, Socket clientSocket, Socket serverSocket) {}

    private Pair connect(boolean handshake) throws Exception {
        SecretKey key = newKey();
        List<PskDerivation> psks = List.of(PskDerivation.of(key));
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK)) {
            Socket clientSocket = new Socket(LOOPBACK, listener.getLocalPort());
            Socket serverSocket = listener.accept();
            sockets.add(clientSocket);
            sockets.add(serverSocket);
            TlsEngine client = TlsEngine.client(
                    Settings.CRYPTO,
                    psks,
                    clientSocket.getInputStream(),
                    clientSocket.getOutputStream(),
                    clientSocket,
                    "server");
            TlsEngine server = TlsEngine.server(
                    Settings.CRYPTO,
                    psks,
                    serverSocket.getInputStream(),
                    serverSocket.getOutputStream(),
                    serverSocket,
                    "client");
            if (handshake) {
                Future<?> accepted = pool.submit(() -> {
                    server.handshake(10_000, millis -> {});
                    return null;
                });
                client.handshake(10_000, millis -> {});
                accepted.get(10, TimeUnit.SECONDS);
            }
            return new Pair(client, server, clientSocket, serverSocket);
        }
    }

    @Test
    void aClosedEngineRefusesEveryCallAndThePeerReadsACleanEnd() throws Exception {
        Pair pair = connect(true);
        pair.client().write(new byte[] {1, 2, 3}, 0, 3);
        byte[] buffer = new byte[16];
        assertEquals(3, pair.server().read(buffer, 0, buffer.length));
        pair.server().write(new byte[] {4}, 0, 1);
        assertEquals(1, pair.client().read(buffer, 0, 1));
        assertEquals(4, buffer[0]);

        pair.client().close();
        assertTrue(pair.clientSocket().isClosed(), "the transport is closed");
        assertEquals(
                "socket is closed",
                assertThrows(SocketException.class, () -> pair.client().read(buffer, 0, 1))
                        .getMessage());
        assertEquals(
                "socket is closed",
                assertThrows(SocketException.class, () -> pair.client().write(buffer, 0, 1))
                        .getMessage());
        assertEquals(0, pair.client().available());
        pair.client().close(); // idempotent

        assertEquals(-1, pair.server().read(buffer, 0, buffer.length), "close sent close_notify");
        assertTrue(pair.server().isInboundClosed());
        assertEquals(-1, pair.server().read(buffer, 0, buffer.length), "and input stays ended");
    }

    @Test
    void anEndWithoutCloseNotifyIsATruncationAndTheFailureIsFinal() throws Exception {
        Pair pair = connect(true);
        pair.serverSocket().close(); // the peer vanishes without close_notify
        byte[] buffer = new byte[16];
        EOFException truncated =
                assertThrows(EOFException.class, () -> pair.client().read(buffer, 0, 1));
        assertEquals("connection with server ended without close_notify", truncated.getMessage());
        assertTrue(pair.clientSocket().isClosed(), "a failure closes the transport");

        SSLException again =
                assertThrows(SSLException.class, () -> pair.client().read(buffer, 0, 1));
        assertEquals(truncated.getMessage(), again.getMessage());
        assertSame(truncated, again.getCause());
        SSLException write =
                assertThrows(SSLException.class, () -> pair.client().write(buffer, 0, 1));
        assertEquals(truncated.getMessage(), write.getMessage());
        assertEquals(0, pair.client().available());
        pair.client().shutdownOutput(); // nothing to do on a failed connection, and no new failure
        pair.client().close();
    }

    @Test
    void aFailedHandshakeCannotBeRetried() throws Exception {
        Pair pair = connect(false);
        pair.serverSocket().close();
        IOException first = assertThrows(IOException.class, () -> pair.client().handshake(5_000, millis -> {}));
        assertFalse(pair.client().isHandshakeDone());
        SSLException again =
                assertThrows(SSLException.class, () -> pair.client().handshake(5_000, millis -> {}));
        assertEquals(first.getMessage(), again.getMessage());
        assertSame(first, again.getCause());
    }

    @Test
    void halfCloseEndsOneDirectionOnly() throws Exception {
        Pair pair = connect(true);
        pair.client().shutdownOutput();
        pair.client().shutdownOutput(); // once is enough
        assertEquals(
                "output has been shut down",
                assertThrows(SocketException.class, () -> pair.client().write(new byte[1], 0, 1))
                        .getMessage());
        byte[] buffer = new byte[16];
        assertEquals(-1, pair.server().read(buffer, 0, buffer.length));
        pair.server().write(new byte[] {7, 8}, 0, 2);
        pair.server().shutdownOutput();
        int got = 0;
        while (got < 2) {
            int n = pair.client().read(buffer, got, buffer.length - got);
            assertTrue(n > 0, "the other direction still carries data");
            got += n;
        }
        assertEquals(7, buffer[0]);
        assertEquals(8, buffer[1]);
        assertEquals(-1, pair.client().read(buffer, 0, buffer.length));
        assertTrue(pair.client().isInboundClosed());
        pair.client().close();
        pair.server().close();
    }

    @Test
    void closingBeforeTheHandshakeClosesTheTransport() throws Exception {
        Pair pair = connect(false);
        assertFalse(pair.client().isInboundClosed());
        assertEquals(-1, pair.client().matchedKeyIndex());
        pair.client().close();
        assertTrue(pair.clientSocket().isClosed());
        assertEquals(
                "socket is closed",
                assertThrows(SocketException.class, () -> pair.client().handshake(1_000, millis -> {}))
                        .getMessage());
    }
}
