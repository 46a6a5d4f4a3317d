package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import dev.fernetjca.testing.EchoServer;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fernet-tokens mode, against a plain socket that plays the Python peer byte for byte. */
@Timeout(60)
class TokenLineStreamTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(5);
    private static final int KIB = 1024;

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "a test thread did not stop");
    }

    private static FernetSocketFactory tokenClients(SecretKey key, Duration ttl) {
        return new FernetSocketFactory(Settings.of(key, Settings.Mode.FERNET_TOKENS, ttl, HANDSHAKE));
    }

    @Test
    void eachWriteBecomesNewlineTerminatedTokensThatPythonReads() throws Exception {
        SecretKey key = newKey();
        Fernet fernet = Fernet.of(key);
        byte[] big = new byte[TokenLineStream.CHUNK_BYTES * 2 + 5];
        new Random(1).nextBytes(big);
        try (ServerSocket peer = new ServerSocket(0, 1, LOOPBACK);
                Socket socket = tokenClients(key, null).createSocket(LOOPBACK, peer.getLocalPort());
                Socket accepted = peer.accept()) {
            socket.getOutputStream().write("hello".getBytes(UTF_8));
            socket.getOutputStream().write(big);
            socket.shutdownOutput();
            String[] lines = new String(accepted.getInputStream().readAllBytes(), US_ASCII).split("\n", -1);
            assertEquals(5, lines.length, "hello, three chunks, and the empty rest after the last newline");
            assertEquals("", lines[4]);
            assertArrayEquals("hello".getBytes(UTF_8), fernet.decrypt(lines[0].getBytes(US_ASCII)));
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            for (int i = 1; i < 4; i++) {
                joined.write(fernet.decrypt(lines[i].getBytes(US_ASCII)));
            }
            assertArrayEquals(big, joined.toByteArray());
        }
    }

    @Test
    void readsTokensInAnyFragmentationAndEndsCleanlyBetweenLines() throws Exception {
        SecretKey key = newKey();
        Fernet fernet = Fernet.of(key);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.write(fernet.encrypt("one ".getBytes(UTF_8)));
        wire.write('\n');
        wire.write(fernet.encrypt(new byte[0]));
        wire.write("\r\n".getBytes(US_ASCII));
        wire.write(fernet.encrypt("two".getBytes(UTF_8)));
        wire.write('\n');
        try (ServerSocket peer = new ServerSocket(0, 1, LOOPBACK);
                Socket socket = tokenClients(key, null).createSocket(LOOPBACK, peer.getLocalPort());
                Socket accepted = peer.accept()) {
            OutputStream out = accepted.getOutputStream();
            for (byte b : wire.toByteArray()) {
                out.write(b);
            }
            accepted.shutdownOutput();
            assertEquals("one two", new String(socket.getInputStream().readAllBytes(), UTF_8));
        }
    }

    @Test
    void tamperedLineFailsTheConnection() throws Exception {
        assertRejected(
                key -> {
                    byte[] token = Fernet.of(key).encrypt("pay 100".getBytes(UTF_8));
                    token[token.length / 2] ^= 1;
                    return token;
                },
                ProtocolException.class,
                "rejected");
    }

    @Test
    void tokenOfAnotherKeyFailsTheConnection() throws Exception {
        assertRejected(
                key -> Fernet.of(newKey()).encrypt("hi".getBytes(UTF_8)),
                ProtocolException.class,
                "token authentication failed");
    }

    @Test
    void overLongLineFailsTheConnection() throws Exception {
        byte[] tooLong = new byte[TokenLineStream.MAX_LINE_BYTES + 10];
        Arrays.fill(tooLong, (byte) 'A');
        assertRejected(key -> tooLong, ProtocolException.class, "exceeds");
    }

    @Test
    void expiredTokenIsRefusedWithATtl() throws Exception {
        SecretKey key = newKey();
        Cipher cipher = Cipher.getInstance("Fernet", SocketTestSupport.PROVIDER);
        cipher.init(
                Cipher.ENCRYPT_MODE,
                key,
                FernetParameterSpec.defaults()
                        .withClock(Clock.fixed(Instant.now().minusSeconds(120), ZoneOffset.UTC)));
        byte[] old = cipher.doFinal("stale".getBytes(UTF_8));
        try (ServerSocket peer = new ServerSocket(0, 1, LOOPBACK);
                Socket socket = tokenClients(key, Duration.ofSeconds(60)).createSocket(LOOPBACK, peer.getLocalPort());
                Socket accepted = peer.accept()) {
            accepted.getOutputStream().write(old);
            accepted.getOutputStream().write('\n');
            ProtocolException e = assertThrows(
                    ProtocolException.class, () -> socket.getInputStream().read());
            assertTrue(e.getMessage().contains("token expired"), e.getMessage());
        }
    }

    @Test
    void endInTheMiddleOfALineIsAnError() throws Exception {
        assertRejected(
                key -> {
                    byte[] token = Fernet.of(key).encrypt("cut".getBytes(UTF_8));
                    return Arrays.copyOf(token, token.length - 1);
                },
                EOFException.class,
                "middle of a token",
                false);
    }

    @Test
    void readTimeoutInTheMiddleOfALineLosesNothing() throws Exception {
        SecretKey key = newKey();
        byte[] token = Fernet.of(key).encrypt("patience".getBytes(UTF_8));
        try (ServerSocket peer = new ServerSocket(0, 1, LOOPBACK);
                Socket socket = tokenClients(key, null).createSocket(LOOPBACK, peer.getLocalPort());
                Socket accepted = peer.accept()) {
            accepted.getOutputStream().write(token, 0, 40);
            socket.setSoTimeout(100);
            InputStream in = socket.getInputStream();
            assertThrows(SocketTimeoutException.class, in::read);
            accepted.getOutputStream().write(token, 40, token.length - 40);
            accepted.getOutputStream().write('\n');
            socket.setSoTimeout(5000);
            assertArrayEquals("patience".getBytes(UTF_8), in.readNBytes(8));
        }
    }

    @Test
    void serverAndClientOfTheSameModeTalkWithARing() throws Exception {
        SecretKey oldKey = newKey();
        SecretKey newKey = newKey();
        FernetServerSocketFactory servers = new FernetServerSocketFactory(
                Settings.of(FernetKeyRing.of(newKey, oldKey), Settings.Mode.FERNET_TOKENS, null, HANDSHAKE));
        try (EchoServer echo = new EchoServer(servers::createServerSocket);
                Socket socket = tokenClients(oldKey, null).createSocket(LOOPBACK, echo.port())) {
            socket.getOutputStream().write("rotating".getBytes(UTF_8));
            socket.shutdownOutput();
            // the server answers under its primary, which this old client cannot read
            assertThrows(ProtocolException.class, () -> socket.getInputStream().readAllBytes());
        }
        try (EchoServer echo = new EchoServer(servers::createServerSocket);
                Socket socket =
                        tokenClients(FernetKeyRing.of(newKey, oldKey), null).createSocket(LOOPBACK, echo.port())) {
            socket.getOutputStream().write("rotating".getBytes(UTF_8));
            socket.shutdownOutput();
            assertArrayEquals(
                    "rotating".getBytes(UTF_8), socket.getInputStream().readAllBytes());
        }
    }

    /**
     * The reproduction of issue 8: 60 strangers each sending 1 MiB without a newline pinned 63 MiB of heap after a
     * full GC, since every connection grew its line buffer to the 1 MiB limit. Now each is cut at 64 KiB and, failed,
     * keeps no line, even while the server still holds its socket.
     */
    @Test
    void unauthenticatedConnectionsSendingLongLinesPinLittleHeap() throws Exception {
        int connections = 60;
        byte[] noNewline = new byte[1 << 20];
        Arrays.fill(noNewline, (byte) 'A');
        FernetServerSocketFactory servers =
                new FernetServerSocketFactory(Settings.of(newKey(), Settings.Mode.FERNET_TOKENS, null, HANDSHAKE));
        List<Socket> held = new ArrayList<>();
        List<Socket> strangers = new ArrayList<>();
        try (ServerSocket server = servers.createServerSocket(0, connections, LOOPBACK)) {
            long before = usedHeapAfterGc();
            List<Future<Exception>> readers = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                Socket stranger = new Socket(LOOPBACK, server.getLocalPort());
                strangers.add(stranger);
                Socket accepted = server.accept();
                held.add(accepted);
                pool.submit(() -> {
                    stranger.getOutputStream().write(noNewline);
                    return null; // the write fails once the server cuts the connection; that is the point
                });
                readers.add(pool.submit(() -> {
                    try {
                        accepted.getInputStream().read();
                        return null;
                    } catch (IOException e) {
                        return e;
                    }
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (readers.stream().anyMatch(reader -> !reader.isDone()) && System.nanoTime() < deadline) {
                Thread.sleep(100); // before the fix, the readers wait for a newline forever, each holding 1 MiB
            }
            long pinned = usedHeapAfterGc() - before;
            // each connection may hold at most 64 KiB of line and 8 KiB read ahead: under 5 MiB for 60; before the
            // fix, 60 MiB and more
            assertTrue(pinned < 16L << 20, connections + " strangers pin " + (pinned >> 10) + " KiB of heap");
            for (Future<Exception> reader : readers) {
                Exception e = reader.get(1, TimeUnit.SECONDS);
                assertTrue(e instanceof ProtocolException, String.valueOf(e));
                assertTrue(
                        e.getMessage()
                                .contains("exceeds " + TokenLineStream.UNAUTHENTICATED_LINE_BYTES
                                        + " bytes before a token has authenticated"),
                        e.getMessage());
            }
            assertEquals(connections, held.size());
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
            for (Socket socket : strangers) {
                socket.close();
            }
        }
    }

    @Test
    void aStrangerWaitingWithAlmost64KibHoldsAtMostItsLine() throws Exception {
        SecretKey key = newKey();
        try (Direct direct = new Direct(key, HANDSHAKE)) {
            byte[] partial = new byte[TokenLineStream.UNAUTHENTICATED_LINE_BYTES - 100];
            Arrays.fill(partial, (byte) 'A');
            direct.peerOut().write(partial);
            direct.local.setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, direct::read);
            int capacity = direct.stream.bufferedCapacity();
            assertTrue(capacity <= TokenLineStream.UNAUTHENTICATED_LINE_BYTES + 8 * KIB, "holds " + capacity);
        }
    }

    @Test
    void longLinesOnlyAfterATokenAuthenticatedAndBuffersShrinkBack() throws Exception {
        SecretKey key = newKey();
        Fernet fernet = Fernet.of(key);
        byte[] big = new byte[300 * KIB]; // a line of about 400 KB
        new Random(3).nextBytes(big);
        try (Direct direct = new Direct(key, HANDSHAKE)) {
            direct.peerOut().write(fernet.encrypt(big));
            direct.peerOut().write('\n');
            ProtocolException e = assertThrows(ProtocolException.class, direct::read);
            assertTrue(e.getMessage().contains("before a token has authenticated"), e.getMessage());
        }
        try (Direct direct = new Direct(key, HANDSHAKE)) {
            Future<?> sent = pool.submit(() -> {
                direct.peerOut().write(fernet.encrypt("first".getBytes(UTF_8)));
                direct.peerOut().write('\n');
                direct.peerOut().write(fernet.encrypt(big));
                direct.peerOut().write('\n');
                direct.peerOut().write(fernet.encrypt("last".getBytes(UTF_8)));
                direct.peerOut().write('\n');
                return null;
            });
            byte[] expected = new byte[5 + big.length + 4];
            System.arraycopy("first".getBytes(UTF_8), 0, expected, 0, 5);
            System.arraycopy(big, 0, expected, 5, big.length);
            System.arraycopy("last".getBytes(UTF_8), 0, expected, 5 + big.length, 4);
            assertArrayEquals(expected, direct.readFully(expected.length));
            sent.get(10, TimeUnit.SECONDS);
            int capacity = direct.stream.bufferedCapacity();
            assertTrue(capacity <= 16 * KIB, "after a long line, the buffers hold " + capacity + " bytes");
        }
    }

    @Test
    void afterATokenAuthenticatedTheLineLimitIsOneMebibyte() throws Exception {
        SecretKey key = newKey();
        byte[] tooLong = new byte[TokenLineStream.MAX_LINE_BYTES + 10];
        Arrays.fill(tooLong, (byte) 'A');
        try (Direct direct = new Direct(key, HANDSHAKE)) {
            Future<?> sent = pool.submit(() -> {
                direct.peerOut().write(Fernet.of(key).encrypt("ok".getBytes(UTF_8)));
                direct.peerOut().write('\n');
                direct.peerOut().write(tooLong);
                return null;
            });
            assertArrayEquals("ok".getBytes(UTF_8), direct.readFully(2));
            ProtocolException e = assertThrows(ProtocolException.class, direct::read);
            assertEquals("line from peer exceeds " + TokenLineStream.MAX_LINE_BYTES + " bytes", e.getMessage());
            sent.cancel(true);
        }
    }

    @Test
    void aLineDribbledByteByByteIsCutAtTheHandshakeTimeout() throws Exception {
        Duration handshake = Duration.ofMillis(1000);
        try (Direct direct = new Direct(newKey(), handshake)) {
            Future<?> dribbler = pool.submit(() -> {
                for (int i = 0; i < 400; i++) {
                    direct.peerOut().write('A');
                    Thread.sleep(50);
                }
                return null;
            });
            long start = System.nanoTime();
            ProtocolException e = assertThrows(ProtocolException.class, direct::read);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(e.getMessage().contains("not complete within 1000 ms"), e.getMessage());
            assertTrue(elapsedMillis >= 900 && elapsedMillis < 8000, elapsedMillis + " ms");
            assertTrue(direct.local.isClosed(), "a cut connection stays open");
            dribbler.cancel(true);
        }
    }

    @Test
    void aLineThatStallsIsCutAtItsDeadlineLongerOnceAuthenticated() throws Exception {
        SecretKey key = newKey();
        Duration handshake = Duration.ofMillis(300);
        try (Direct direct = new Direct(key, handshake)) {
            direct.peerOut().write(Fernet.of(key).encrypt("hi".getBytes(UTF_8)));
            direct.peerOut().write('\n');
            assertArrayEquals("hi".getBytes(UTF_8), direct.readFully(2));
            long start = System.nanoTime();
            direct.peerOut().write("gAAAAAB".getBytes(US_ASCII)); // a token's start, then silence
            ProtocolException e = assertThrows(ProtocolException.class, direct::read);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            long deadline = 300L * TokenLineStream.LINE_DEADLINE_FACTOR;
            assertTrue(e.getMessage().contains("not complete within " + deadline + " ms"), e.getMessage());
            assertTrue(elapsedMillis >= deadline - 100 && elapsedMillis < deadline + 8000, elapsedMillis + " ms");
            assertTrue(direct.local.isClosed(), "a cut connection stays open");
        }
    }

    @Test
    void silenceBetweenLinesIsNotCut() throws Exception {
        SecretKey key = newKey();
        try (Direct direct = new Direct(key, Duration.ofMillis(200))) {
            direct.peerOut().write(Fernet.of(key).encrypt("one".getBytes(UTF_8)));
            direct.peerOut().write('\n');
            assertArrayEquals("one".getBytes(UTF_8), direct.readFully(3));
            Thread.sleep(1500); // well past every line deadline, with no line begun
            direct.peerOut().write(Fernet.of(key).encrypt("two".getBytes(UTF_8)));
            direct.peerOut().write('\n');
            assertArrayEquals("two".getBytes(UTF_8), direct.readFully(3));
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }

    /** A stream built directly over a loopback connection, so that tests can see its buffers. */
    private static final class Direct implements AutoCloseable {
        final Socket peer;
        final Socket local;
        final TokenLineStream stream;

        Direct(SecretKey key, Duration handshakeTimeout) throws IOException {
            try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK)) {
                peer = new Socket(LOOPBACK, listener.getLocalPort());
                local = listener.accept();
            }
            stream = new TokenLineStream(
                    FernetKeyRing.of(key),
                    FernetParameterSpec.defaults(),
                    local.getInputStream(),
                    local.getOutputStream(),
                    local,
                    "peer");
            stream.handshake(handshakeTimeout.toMillis(), millis -> {});
        }

        OutputStream peerOut() throws IOException {
            return peer.getOutputStream();
        }

        int read() throws IOException {
            byte[] one = new byte[1];
            return stream.read(one, 0, 1);
        }

        byte[] readFully(int length) throws IOException {
            byte[] buffer = new byte[length];
            for (int done = 0; done < length; ) {
                int n = stream.read(buffer, done, length - done);
                if (n < 0) {
                    throw new EOFException("after " + done + " bytes");
                }
                done += n;
            }
            return buffer;
        }

        @Override
        public void close() throws IOException {
            stream.close();
            peer.close();
        }
    }

    private interface Wire {
        byte[] line(SecretKey key) throws Exception;
    }

    private void assertRejected(Wire wire, Class<? extends Exception> expected, String message) throws Exception {
        assertRejected(wire, expected, message, true);
    }

    private void assertRejected(Wire wire, Class<? extends Exception> expected, String message, boolean newline)
            throws Exception {
        SecretKey key = newKey();
        try (ServerSocket peer = new ServerSocket(0, 1, LOOPBACK);
                Socket socket = tokenClients(key, null).createSocket(LOOPBACK, peer.getLocalPort());
                Socket accepted = peer.accept()) {
            Thread writer = new Thread(() -> {
                try {
                    accepted.getOutputStream().write(wire.line(key));
                    if (newline) {
                        accepted.getOutputStream().write('\n');
                    }
                    accepted.shutdownOutput();
                } catch (Exception e) {
                    // the reader closes on failure; the writer may find the socket gone
                }
            });
            writer.start();
            Exception e = assertThrows(expected, () -> socket.getInputStream().read());
            assertTrue(e.getMessage().contains(message), e.getMessage());
            assertTrue(socket.isClosed(), "a failed connection stays open");
            writer.join(5000);
        }
    }
}
