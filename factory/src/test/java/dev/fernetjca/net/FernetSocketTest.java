package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.clientFactory;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static dev.fernetjca.net.SocketTestSupport.serverFactory;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.testing.EchoServer;
import dev.fernetjca.testing.Relay;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Sockets act like sockets: each behaviour users expect, over real TCP on 127.0.0.1. */
@Timeout(120)
class FernetSocketTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(10);
    private static final Duration SHORT_HANDSHAKE = Duration.ofMillis(800);

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void echoesThroughTlsWithHalfClose() throws Exception {
        SecretKey key = newKey();
        try (EchoServer echo = new EchoServer(serverFactory(key, HANDSHAKE)::createServerSocket);
                Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, echo.port())) {
            socket.getOutputStream().write("hello over tls".getBytes(UTF_8));
            socket.shutdownOutput();
            assertTrue(socket.isOutputShutdown());
            InputStream in = socket.getInputStream();
            assertArrayEquals("hello over tls".getBytes(UTF_8), in.readAllBytes());
            assertEquals(-1, in.read());
            assertThrows(SocketException.class, () -> socket.getOutputStream().write(1));
        }
    }

    @Test
    void unconnectedSocketConnectsLater() throws Exception {
        SecretKey key = newKey();
        try (EchoServer echo = new EchoServer(serverFactory(key, HANDSHAKE)::createServerSocket);
                Socket socket = clientFactory(key, HANDSHAKE).createSocket()) {
            assertFalse(socket.isConnected());
            assertThrows(SocketException.class, socket::getInputStream);
            socket.connect(new InetSocketAddress(LOOPBACK, echo.port()), 5000);
            assertTrue(socket.isConnected());
            FernetSocketFactory.handshake(socket);
            socket.getOutputStream().write(new byte[] {1, 2, 3});
            socket.shutdownOutput();
            assertArrayEquals(new byte[] {1, 2, 3}, socket.getInputStream().readAllBytes());
        }
    }

    @Test
    void optionsAndAddressesAreThePlainSocketsOwn() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            assertEquals(LOOPBACK, socket.getInetAddress());
            assertEquals(server.getLocalPort(), socket.getPort());
            assertEquals(socket.getLocalPort(), accepted.getPort());
            assertEquals(socket.getLocalSocketAddress(), accepted.getRemoteSocketAddress());
            socket.setTcpNoDelay(true);
            assertTrue(socket.getTcpNoDelay());
            socket.setKeepAlive(true);
            assertTrue(socket.getKeepAlive());
            socket.setSoTimeout(1234);
            assertEquals(1234, socket.getSoTimeout());
            assertTrue(socket.isConnected() && socket.isBound() && !socket.isClosed());
            assertNull(socket.getChannel());
            assertThrows(SocketException.class, () -> socket.sendUrgentData(1));
            assertTrue(socket.toString().startsWith("FernetSocket["));
        }
    }

    @Test
    void acceptReturnsBeforeAnyHandshake() throws Exception {
        try (ServerSocket server = serverFactory(newKey(), HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket silent = new Socket(LOOPBACK, server.getLocalPort())) {
            server.setSoTimeout(5000);
            long start = System.nanoTime();
            try (Socket accepted = server.accept()) {
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "accept waited for a handshake");
                assertTrue(accepted.isConnected());
            }
        }
    }

    @Test
    void silentClientFailsWithinTheHandshakeTimeoutAndTheServerGoesOn() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, SHORT_HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket silent = new Socket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            long start = System.nanoTime();
            SSLException e = assertThrows(
                    SSLException.class, () -> accepted.getInputStream().read());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(e.getMessage().contains("did not complete within 800 ms"), e.getMessage());
            assertTrue(millis >= 700 && millis < 5000, "took " + millis + " ms");
            assertTrue(accepted.isClosed());
            assertServes(server, key);
        }
    }

    @Test
    void stalledHalfHandshakeFailsWithinTheTimeout() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, SHORT_HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket staller = new Socket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            // a TLS record header announcing 300 bytes, then ten of them, then nothing
            staller.getOutputStream().write(new byte[] {22, 3, 1, 1, 44, 1, 0, 1, 40, 3, 3, 0, 0, 0, 0});
            assertThrows(SSLException.class, () -> accepted.getInputStream().read());
            assertServes(server, key);
        }
    }

    @Test
    void wrongKeyFailsClearlyOnBothSidesAndTheServerGoesOn() throws Exception {
        SecretKey serverKey = newKey();
        SecretKey clientKey = newKey();
        String serverIdentity =
                FernetSocketFactory.externalPsks(serverKey).get(0).split(" ")[0];
        String clientIdentity =
                FernetSocketFactory.externalPsks(clientKey).get(0).split(" ")[0];
        List<String> warnings = new ArrayList<>();
        Handler handler = capture(warnings);
        try (ServerSocket server = serverFactory(serverKey, HANDSHAKE).createServerSocket(0, 5, LOOPBACK)) {
            Future<IOException> serverSide = pool.submit(() -> {
                try (Socket accepted = server.accept()) {
                    accepted.getInputStream().read();
                    return null;
                } catch (IOException e) {
                    return e;
                }
            });
            try (Socket socket = clientFactory(clientKey, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort())) {
                long start = System.nanoTime();
                IOException e = assertThrows(
                        IOException.class, () -> socket.getOutputStream().write(1));
                assertTrue(e.getMessage().contains("does not hold a matching Fernet key"), e.getMessage());
                assertTrue(e.getMessage().contains(clientIdentity), "names what we offered: " + e.getMessage());
                assertTrue(System.nanoTime() - start < HANDSHAKE.toNanos());
            }
            IOException serverFailure = serverSide.get(10, TimeUnit.SECONDS);
            assertTrue(
                    serverFailure.getMessage().contains("127.0.0.1")
                            && serverFailure
                                    .getMessage()
                                    .contains("does not hold a matching Fernet key: it offered " + clientIdentity
                                            + "; we hold " + serverIdentity),
                    serverFailure.getMessage());
            assertServes(server, serverKey);
        } finally {
            Logger.getLogger(TlsEngine.class.getName()).removeHandler(handler);
        }
        // the exception carries the diagnosis; the engine's own line is DEBUG, so a tunnel logs one line, not two
        assertEquals(List.of(), warnings);
    }

    @Test
    void aPeerThatDoesNotSpeakTlsIsToldApartFromAWrongKey() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket plain = new ServerSocket(0, 5, LOOPBACK)) {
            Future<?> answers = pool.submit(() -> {
                try (Socket accepted = plain.accept()) {
                    accepted.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(UTF_8));
                    accepted.getInputStream().read(new byte[4096]);
                }
                return null;
            });
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, plain.getLocalPort())) {
                IOException e = assertThrows(
                        IOException.class, () -> socket.getInputStream().read());
                assertTrue(
                        e.getMessage().endsWith("is not a fernet-jca peer: it did not answer with TLS"),
                        e.getMessage());
            }
            answers.get(10, TimeUnit.SECONDS);
        }
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket browser = new Socket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            browser.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(UTF_8));
            long start = System.nanoTime();
            IOException e = assertThrows(
                    IOException.class, () -> accepted.getInputStream().read());
            assertTrue(e.getMessage().endsWith("is not a fernet-jca peer: it did not speak TLS"), e.getMessage());
            // judged by its first bytes, not by waiting for a "record" of 0x202f bytes until the handshake deadline
            assertTrue(System.nanoTime() - start < HANDSHAKE.toNanos() / 2, "refused only at the deadline");
        }
    }

    @Test
    void aKeyGivenInCodeSpeaksTlsWhateverTheConfiguredModeSays() throws Exception {
        SecretKey key = newKey();
        String saved = System.getProperty(Settings.MODE_PROPERTY);
        System.setProperty(Settings.MODE_PROPERTY, "fernet-tokens");
        try {
            FernetSocketFactory clients = new FernetSocketFactory(key);
            FernetServerSocketFactory servers = new FernetServerSocketFactory(key);
            try (EchoServer echo = new EchoServer(servers::createServerSocket);
                    Socket socket = clients.createSocket(LOOPBACK, echo.port())) {
                socket.getOutputStream().write("tls".getBytes(UTF_8));
                socket.shutdownOutput();
                assertArrayEquals("tls".getBytes(UTF_8), socket.getInputStream().readAllBytes());
            }
            // code that says it takes the mode from the configuration gets it
            try (ServerSocket plain = new ServerSocket(0, 1, LOOPBACK);
                    Socket socket = new FernetSocketFactory(key, FernetSocketOptions.fromConfiguration())
                            .createSocket(LOOPBACK, plain.getLocalPort());
                    Socket accepted = plain.accept()) {
                socket.getOutputStream().write("tokens".getBytes(UTF_8));
                byte[] line = accepted.getInputStream().readNBytes(6);
                assertEquals("gAAAAA", new String(line, UTF_8), "a Fernet token, not a TLS record");
            }
        } finally {
            if (saved == null) {
                System.clearProperty(Settings.MODE_PROPERTY);
            } else {
                System.setProperty(Settings.MODE_PROPERTY, saved);
            }
        }
    }

    @Test
    void fernetTokensModeWarnsOncePerJvmSayingWhatChoseIt() throws Exception {
        SecretKey key = newKey();
        List<String> warnings = new ArrayList<>();
        Handler handler = capture(warnings, TokenLineStream.class);
        String saved = System.getProperty(Settings.MODE_PROPERTY);
        try {
            TokenLineStream.WARNED.set(false);
            new FernetServerSocketFactory(key, FernetSocketOptions.fernetTokens(Duration.ofSeconds(60)));
            new FernetSocketFactory(key, FernetSocketOptions.fernetTokens(null));
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(
                    warnings.get(0).startsWith("fernet-tokens mode is in effect, chosen by code: no forward secrecy"),
                    warnings.get(0));

            TokenLineStream.WARNED.set(false);
            System.setProperty(Settings.MODE_PROPERTY, "fernet-tokens");
            new FernetSocketFactory(key, FernetSocketOptions.fromConfiguration());
            assertEquals(2, warnings.size(), warnings.toString());
            assertTrue(warnings.get(1).contains("chosen by system property fernet.mode"), warnings.get(1));

            TokenLineStream.WARNED.set(false);
            System.setProperty(Settings.MODE_PROPERTY, "tls");
            new FernetSocketFactory(key, FernetSocketOptions.fromConfiguration());
            new FernetSocketFactory(key);
            assertEquals(2, warnings.size(), "TLS mode warns of nothing: " + warnings);
        } finally {
            Logger.getLogger(TokenLineStream.class.getName()).removeHandler(handler);
            if (saved == null) {
                System.clearProperty(Settings.MODE_PROPERTY);
            } else {
                System.setProperty(Settings.MODE_PROPERTY, saved);
            }
        }
    }

    @Test
    void garbageAndOversizedRecordsCloseOnlyThatConnection() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK)) {
            byte[] garbage = new byte[4096];
            new Random(7).nextBytes(garbage);
            byte[] oversized = new byte[5 + 20_000];
            oversized[0] = 22;
            oversized[1] = 3;
            oversized[2] = 3;
            oversized[3] = (byte) (20_000 >> 8);
            oversized[4] = (byte) 20_000;
            for (byte[] attack : List.of(garbage, oversized)) {
                try (Socket attacker = new Socket(LOOPBACK, server.getLocalPort());
                        Socket accepted = server.accept()) {
                    pool.submit(() -> {
                        attacker.getOutputStream().write(attack);
                        return null;
                    });
                    assertThrows(
                            IOException.class, () -> accepted.getInputStream().read());
                    assertTrue(accepted.isClosed());
                }
                assertServes(server, key);
            }
        }
    }

    @Test
    void readTimeoutKeepsTheSocketUsable() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            CompletableFuture<Void> serverDone = CompletableFuture.runAsync(
                    () -> {
                        try {
                            assertEquals(1, accepted.getInputStream().read());
                            Thread.sleep(600);
                            accepted.getOutputStream().write("late".getBytes(UTF_8));
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    },
                    pool);
            socket.getOutputStream().write(1);
            socket.setSoTimeout(100);
            InputStream in = socket.getInputStream();
            assertThrows(SocketTimeoutException.class, in::read);
            socket.setSoTimeout(5000);
            byte[] late = new byte[4];
            int n = 0;
            while (n < 4) {
                n += in.read(late, n, 4 - n);
            }
            assertArrayEquals("late".getBytes(UTF_8), late);
            serverDone.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void readTimeoutInTheMiddleOfARecordLosesNothing() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Relay relay = Relay.to(server.getLocalPort());
                Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, relay.port());
                Socket accepted = server.accept()) {
            handshakeInBackground(accepted);
            socket.getOutputStream().write(1);
            assertEquals(1, accepted.getInputStream().read());
            byte[] message = new byte[100];
            new Random(3).nextBytes(message);
            relay.slowTowardsClientFromNow(10, Duration.ofMillis(100));
            accepted.getOutputStream().write(message);
            // the record trickles in 10 bytes every 100 ms; reads time out many times in its middle
            socket.setSoTimeout(40);
            InputStream in = socket.getInputStream();
            byte[] received = new byte[message.length];
            int n = 0;
            int timeouts = 0;
            while (n < received.length) {
                try {
                    int got = in.read(received, n, received.length - n);
                    assertTrue(got > 0);
                    n += got;
                } catch (SocketTimeoutException e) {
                    timeouts++;
                }
            }
            assertArrayEquals(message, received);
            assertTrue(timeouts > 5, "only " + timeouts + " timeouts: the record did not arrive in pieces");
        }
    }

    @Test
    void halfCloseLeavesTheOtherDirectionWorking() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            handshakeInBackground(accepted);
            socket.getOutputStream().write("request".getBytes(UTF_8));
            socket.shutdownOutput();
            assertArrayEquals(
                    "request".getBytes(UTF_8), accepted.getInputStream().readAllBytes());
            OutputStream reply = accepted.getOutputStream();
            for (int i = 0; i < 100; i++) {
                reply.write(("reply " + i + "\n").getBytes(UTF_8));
            }
            accepted.shutdownOutput();
            String received = new String(socket.getInputStream().readAllBytes(), UTF_8);
            assertTrue(received.startsWith("reply 0\n") && received.endsWith("reply 99\n"));
        }
    }

    @Test
    void closeIsCleanAndIdempotent() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            handshakeInBackground(accepted);
            socket.getOutputStream().write(9);
            assertEquals(9, accepted.getInputStream().read());
            socket.close();
            socket.close();
            assertTrue(socket.isClosed());
            assertThrows(SocketException.class, socket::getInputStream);
            // close sent close_notify: the peer reads a clean end of stream
            assertEquals(-1, accepted.getInputStream().read());
        }
    }

    @Test
    void connectionCutWithoutCloseNotifyIsAnError() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = serverFactory(key, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Relay relay = Relay.to(server.getLocalPort());
                Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, relay.port());
                Socket accepted = server.accept()) {
            handshakeInBackground(accepted);
            socket.getOutputStream().write(5);
            assertEquals(5, accepted.getInputStream().read());
            long before = relay.forwarded(Relay.Direction.TO_CLIENT);
            accepted.getOutputStream().write("partial".getBytes(UTF_8));
            // one TLS 1.3 record: 5-byte header, 7 bytes, the content type byte, a 16-byte tag
            relay.awaitForwarded(Relay.Direction.TO_CLIENT, before + 29);
            relay.cut();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[7];
            int n = 0;
            while (n < 7) {
                n += in.read(buffer, n, 7 - n);
            }
            assertArrayEquals("partial".getBytes(UTF_8), buffer);
            assertThrows(EOFException.class, in::read);
        }
    }

    @Test
    void eightConnectionsOfEightMebibytesArriveIntact() throws Exception {
        SecretKey key = newKey();
        int size = 8 << 20;
        try (EchoServer echo = new EchoServer(serverFactory(key, HANDSHAKE)::createServerSocket)) {
            FernetSocketFactory clients = clientFactory(key, HANDSHAKE);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int seed = c;
                results.add(pool.submit(() -> {
                    try (Socket socket = clients.createSocket(LOOPBACK, echo.port())) {
                        Future<byte[]> sent = pool.submit(() -> {
                            MessageDigest digest = MessageDigest.getInstance("SHA-256");
                            Random random = new Random(seed);
                            byte[] chunk = new byte[65_536];
                            OutputStream out = socket.getOutputStream();
                            for (int written = 0; written < size; written += chunk.length) {
                                random.nextBytes(chunk);
                                digest.update(chunk);
                                out.write(chunk);
                            }
                            socket.shutdownOutput();
                            return digest.digest();
                        });
                        MessageDigest digest = MessageDigest.getInstance("SHA-256");
                        InputStream in = socket.getInputStream();
                        byte[] buffer = new byte[32_768];
                        long total = 0;
                        for (int n; (n = in.read(buffer)) > 0; ) {
                            digest.update(buffer, 0, n);
                            total += n;
                        }
                        return total == size && MessageDigest.isEqual(sent.get(), digest.digest());
                    }
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get(100, TimeUnit.SECONDS));
            }
            assertNull(echo.lastFailure());
        }
    }

    @Test
    void fleetRotatesKeysInThreeStepsWithoutAFailedConnection() throws Exception {
        SecretKey oldKey = newKey();
        SecretKey newKey = newKey();
        // step 0: everyone on the old key
        assertConnects(oldKey, oldKey);
        // step 1: servers take [new, old]; clients still on old connect, clients already on new too
        FernetKeyRing serverRing = FernetKeyRing.of(newKey, oldKey);
        assertConnects(serverRing, oldKey);
        assertConnects(serverRing, newKey);
        // step 2: clients switch to new (or offer [new, old] while they roll)
        assertConnects(serverRing, FernetKeyRing.of(newKey, oldKey));
        // step 3: old is dropped everywhere; a straggler on the old key is refused
        assertConnects(newKey, newKey);
        try (ServerSocket server = serverFactory(newKey, HANDSHAKE).createServerSocket(0, 5, LOOPBACK);
                Socket straggler = clientFactory(oldKey, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort())) {
            pool.submit(() -> {
                try (Socket accepted = server.accept()) {
                    accepted.getInputStream().read();
                }
                return null;
            });
            assertThrows(IOException.class, () -> straggler.getOutputStream().write(1));
        }
    }

    private void assertConnects(SecretKey serverKey, SecretKey clientKey) throws Exception {
        try (EchoServer echo = new EchoServer(serverFactory(serverKey, HANDSHAKE)::createServerSocket);
                Socket socket = clientFactory(clientKey, HANDSHAKE).createSocket(LOOPBACK, echo.port())) {
            socket.getOutputStream().write("ping".getBytes(UTF_8));
            socket.shutdownOutput();
            assertArrayEquals("ping".getBytes(UTF_8), socket.getInputStream().readAllBytes());
        }
    }

    /** Lets a test thread drive the client while the server side shakes hands, as a server thread would. */
    private void handshakeInBackground(Socket accepted) {
        pool.submit(() -> {
            FernetSocketFactory.handshake(accepted);
            return null;
        });
    }

    /** A good client still gets through: one failed connection did not stop the server. */
    private void assertServes(ServerSocket server, SecretKey key) throws Exception {
        Future<byte[]> echoed = pool.submit(() -> {
            try (Socket accepted = server.accept()) {
                byte[] got = accepted.getInputStream().readNBytes(3);
                accepted.getOutputStream().write(got);
                return got;
            }
        });
        try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort())) {
            socket.getOutputStream().write(new byte[] {7, 8, 9});
            assertArrayEquals(new byte[] {7, 8, 9}, socket.getInputStream().readNBytes(3));
        }
        assertArrayEquals(new byte[] {7, 8, 9}, echoed.get(10, TimeUnit.SECONDS));
    }

    private static Handler capture(List<String> warnings) {
        return capture(warnings, TlsEngine.class);
    }

    private static Handler capture(List<String> warnings, Class<?> loggerClass) {
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    synchronized (warnings) {
                        warnings.add(record.getMessage());
                    }
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger.getLogger(loggerClass.getName()).addHandler(handler);
        return handler;
    }

    @Test
    void socketsOfOtherFactoriesAreRefusedByHandshake() {
        assertInstanceOf(
                IllegalArgumentException.class,
                assertThrows(IllegalArgumentException.class, () -> FernetSocketFactory.handshake(new Socket())));
    }
}
