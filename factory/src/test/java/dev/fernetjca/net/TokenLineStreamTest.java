package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
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
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import dev.fernetjca.testing.EchoServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fernet-tokens mode, against a plain socket that plays the Python peer byte for byte. */
@Timeout(60)
class TokenLineStreamTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(5);

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
        assertRejected(key -> {
            byte[] token = Fernet.of(key).encrypt("pay 100".getBytes(UTF_8));
            token[token.length / 2] ^= 1;
            return token;
        }, ProtocolException.class, "rejected");
    }

    @Test
    void tokenOfAnotherKeyFailsTheConnection() throws Exception {
        assertRejected(key -> Fernet.of(newKey()).encrypt("hi".getBytes(UTF_8)), ProtocolException.class,
                "token authentication failed");
    }

    @Test
    void overLongLineFailsTheConnection() throws Exception {
        byte[] tooLong = new byte[TokenLineStream.MAX_LINE_BYTES + 10];
        java.util.Arrays.fill(tooLong, (byte) 'A');
        assertRejected(key -> tooLong, ProtocolException.class, "exceeds");
    }

    @Test
    void expiredTokenIsRefusedWithATtl() throws Exception {
        SecretKey key = newKey();
        Cipher cipher = Cipher.getInstance("Fernet", SocketTestSupport.PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, key, FernetParameterSpec.defaults()
                .withClock(Clock.fixed(Instant.now().minusSeconds(120), ZoneOffset.UTC)));
        byte[] old = cipher.doFinal("stale".getBytes(UTF_8));
        try (ServerSocket peer = new ServerSocket(0, 1, LOOPBACK);
             Socket socket = tokenClients(key, Duration.ofSeconds(60)).createSocket(LOOPBACK, peer.getLocalPort());
             Socket accepted = peer.accept()) {
            accepted.getOutputStream().write(old);
            accepted.getOutputStream().write('\n');
            ProtocolException e = assertThrows(ProtocolException.class, () -> socket.getInputStream().read());
            assertTrue(e.getMessage().contains("token expired"), e.getMessage());
        }
    }

    @Test
    void endInTheMiddleOfALineIsAnError() throws Exception {
        assertRejected(key -> {
            byte[] token = Fernet.of(key).encrypt("cut".getBytes(UTF_8));
            return java.util.Arrays.copyOf(token, token.length - 1);
        }, EOFException.class, "middle of a token", false);
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
             Socket socket = tokenClients(FernetKeyRing.of(newKey, oldKey), null)
                     .createSocket(LOOPBACK, echo.port())) {
            socket.getOutputStream().write("rotating".getBytes(UTF_8));
            socket.shutdownOutput();
            assertArrayEquals("rotating".getBytes(UTF_8), socket.getInputStream().readAllBytes());
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
