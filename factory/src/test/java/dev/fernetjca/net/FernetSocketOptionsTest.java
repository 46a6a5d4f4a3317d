package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.EchoServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Options chosen in code, and the key file a factory is named with by a one-string constructor (pgjdbc). */
@Timeout(60)
class FernetSocketOptionsTest {
    @TempDir
    Path dir;

    @Test
    void optionsInCodeChooseTheModeWhateverFernetModeSays() throws Exception {
        SecretKey key = newKey();
        String saved = System.getProperty(Settings.MODE_PROPERTY);
        System.setProperty(Settings.MODE_PROPERTY, "fernet-tokens");
        try {
            assertEquals(0x16, firstByte(new FernetSocketFactory(key, FernetSocketOptions.tls())), "a TLS record");
            assertEquals('g', firstByte(new FernetSocketFactory(key, FernetSocketOptions.fernetTokens(null))));
            assertEquals('g', firstByte(new FernetSocketFactory(key, FernetSocketOptions.fromConfiguration())));
            System.setProperty(Settings.MODE_PROPERTY, "tls");
            assertEquals(
                    'g',
                    firstByte(new FernetSocketFactory(key, FernetSocketOptions.fernetTokens(Duration.ofSeconds(60)))));
            assertEquals(0x16, firstByte(new FernetSocketFactory(key, FernetSocketOptions.fromConfiguration())));
        } finally {
            if (saved == null) {
                System.clearProperty(Settings.MODE_PROPERTY);
            } else {
                System.setProperty(Settings.MODE_PROPERTY, saved);
            }
        }
    }

    @Test
    void handshakeTimeoutInCodeCutsASilentPeer() throws Exception {
        SecretKey key = newKey();
        FernetServerSocketFactory servers = new FernetServerSocketFactory(
                key, FernetSocketOptions.tls().withHandshakeTimeout(Duration.ofMillis(300)));
        try (ServerSocket server = servers.createServerSocket(0, 1, LOOPBACK);
                Socket silent = new Socket(LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            long start = System.nanoTime();
            SSLException e = assertThrows(
                    SSLException.class, () -> accepted.getInputStream().read());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(e.getMessage().contains("did not complete within 300 ms"), e.getMessage());
            assertTrue(millis >= 250 && millis < 8_000, millis + " ms");
        }
    }

    @Test
    void optionsAreValidatedAndSayWhatTheyHold() {
        assertThrows(
                IllegalArgumentException.class, () -> FernetSocketOptions.tls().withHandshakeTimeout(Duration.ZERO));
        assertThrows(
                IllegalArgumentException.class,
                () -> FernetSocketOptions.tls().withHandshakeTimeout(Duration.ofDays(2)));
        assertThrows(IllegalArgumentException.class, () -> FernetSocketOptions.fernetTokens(Duration.ofSeconds(-1)));
        FernetSocketOptions options =
                FernetSocketOptions.fernetTokens(Duration.ofSeconds(60)).withHandshakeTimeout(Duration.ofSeconds(3));
        assertEquals(Optional.of(Duration.ofSeconds(60)), options.getTtl());
        assertEquals(Optional.of(Duration.ofSeconds(3)), options.getHandshakeTimeout());
        assertEquals(Optional.empty(), FernetSocketOptions.tls().getHandshakeTimeout());
        assertEquals("FernetSocketOptions[fernet-tokens, ttl 60 s, handshake timeout 3000 ms]", options.toString());
        assertFalse(FernetSocketOptions.tls().getTtl().isPresent());
    }

    @Test
    void aKeyFileArgumentGivesEachFactoryItsOwnKey() throws Exception {
        SecretKey first = newKey();
        SecretKey second = newKey();
        Path firstFile = keyFile(first);
        Path secondFile = keyFile(second);
        try (EchoServer firstServer = new EchoServer(new FernetServerSocketFactory(first)::createServerSocket);
                EchoServer secondServer = new EchoServer(new FernetServerSocketFactory(second)::createServerSocket)) {
            FernetSocketFactory toFirst = new FernetSocketFactory(firstFile.toString());
            FernetSocketFactory toSecond = new FernetSocketFactory(secondFile.toString());
            assertEcho(toFirst, firstServer.port());
            assertEcho(toSecond, secondServer.port());
            try (Socket wrong = toFirst.createSocket(LOOPBACK, secondServer.port())) {
                SSLException e = assertThrows(
                        SSLException.class, () -> wrong.getOutputStream().write(1));
                assertTrue(e.getMessage().contains("does not hold a matching Fernet key"), e.getMessage());
            }
        }
    }

    @Test
    void aKeyFileArgumentThatIsNoFileFailsNamingItsPathAndNeverAKey() throws Exception {
        String missing = dir.resolve("missing.key").toString();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new FernetSocketFactory(missing));
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        String pasted = encode(newKey());
        e = assertThrows(IllegalStateException.class, () -> new FernetSocketFactory(pasted));
        assertFalse(e.getMessage().contains(pasted.substring(0, 20)), e.getMessage());
        assertTrue(e.getMessage().contains("socket factory argument"), e.getMessage());
    }

    private static void assertEcho(FernetSocketFactory factory, int port) throws IOException {
        try (Socket socket = factory.createSocket(LOOPBACK, port)) {
            socket.getOutputStream().write("hello".getBytes(UTF_8));
            socket.shutdownOutput();
            assertArrayEquals("hello".getBytes(UTF_8), socket.getInputStream().readAllBytes());
        }
    }

    /** Returns the first byte a client of {@code factory} sends when asked to write. */
    private static int firstByte(FernetSocketFactory factory) throws IOException {
        try (ServerSocket plain = new ServerSocket(0, 1, LOOPBACK);
                Socket socket = factory.createSocket(LOOPBACK, plain.getLocalPort());
                Socket accepted = plain.accept()) {
            // fernet-tokens writes its token at once; TLS sends its ClientHello first, then waits: run it aside
            Thread writer = new Thread(() -> {
                try {
                    socket.getOutputStream().write("x\n".getBytes(US_ASCII));
                } catch (IOException expected) {
                    // the plain server never answers the handshake
                }
            });
            writer.setDaemon(true);
            writer.start();
            accepted.setSoTimeout(10_000);
            return accepted.getInputStream().read();
        }
    }

    private Path keyFile(SecretKey key) throws IOException {
        Path file = Files.createTempFile(dir, "fernet", ".key");
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        Files.writeString(file, encode(key) + "\n", US_ASCII);
        return file;
    }

    private static String encode(SecretKey key) {
        return Base64.getUrlEncoder().encodeToString(key.getEncoded());
    }
}
