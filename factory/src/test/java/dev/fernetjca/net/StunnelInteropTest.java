package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.Child;
import dev.fernetjca.testing.ExternalTools;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * stunnel, a TLS proxy that knows nothing of Java, as a peer both ways, configured with the lines of
 * {@link FernetSocketFactory#externalPsks} as {@code IDENTITY:HEX_SECRET} (docs/guides/openssl.md).
 */
@Timeout(60)
class StunnelInteropTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void javaClientReachesAPlainServiceThroughStunnel() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket service = new ServerSocket(0, 5, LOOPBACK)) {
            Future<byte[]> served = reverseOnce(service);
            int port = freePort();
            try (Child stunnel = stunnel(key, false, port, service.getLocalPort());
                    Socket socket = new FernetSocketFactory(key).createSocket(LOOPBACK, port)) {
                socket.getOutputStream().write("hello stunnel".getBytes(UTF_8));
                socket.shutdownOutput();
                assertArrayEquals(
                        "lennuts olleh".getBytes(UTF_8), socket.getInputStream().readAllBytes());
                assertArrayEquals("hello stunnel".getBytes(UTF_8), served.get(10, TimeUnit.SECONDS));
                stunnel.awaitLine(line -> line.contains("Key configured for PSK identity \"fernet-jca-1-"), WAIT);
            }
        }
    }

    @Test
    void plainClientReachesAJavaServerThroughStunnel() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = new FernetServerSocketFactory(key).createServerSocket(0, 5, LOOPBACK)) {
            Future<byte[]> served = reverseOnce(server);
            int port = freePort();
            try (Child stunnel = stunnel(key, true, port, server.getLocalPort());
                    Socket plain = new Socket(LOOPBACK, port)) {
                plain.getOutputStream().write("from a plain client".getBytes(UTF_8));
                plain.shutdownOutput();
                assertArrayEquals(
                        "tneilc nialp a morf".getBytes(UTF_8),
                        plain.getInputStream().readAllBytes());
                assertArrayEquals("from a plain client".getBytes(UTF_8), served.get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void stunnelWithAnotherKeyIsRefused() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket service = new ServerSocket(0, 5, LOOPBACK)) {
            int port = freePort();
            try (Child stunnel = stunnel(newKey(), false, port, service.getLocalPort());
                    Socket socket = new FernetSocketFactory(key).createSocket(LOOPBACK, port)) {
                IOException e = assertThrows(
                        IOException.class, () -> socket.getOutputStream().write(1));
                // stunnel answers handshake_failure, as any server sharing nothing with us would: no proof of a
                // mismatch, so the message names the key we offered and both possibilities
                assertTrue(
                        e.getMessage()
                                .contains("may hold none of the keys we offered, "
                                        + FernetSocketFactory.externalPsks(key)
                                                .get(0)
                                                .split(" ")[0]),
                        e.getMessage());
            }
        }
    }

    /** Starts stunnel in the foreground: a server (or client) on {@code acceptPort} forwarding to {@code connectPort}. */
    private Child stunnel(SecretKey key, boolean client, int acceptPort, int connectPort) throws Exception {
        Path stunnel = ExternalTools.require("stunnel4");
        List<String> psks = FernetSocketFactory.externalPsks(key);
        Path secrets = dir.resolve("fernet-" + acceptPort + ".psk");
        Files.createFile(secrets, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(secrets, psks.get(0).replace(' ', ':') + "\n", US_ASCII);
        Path config = dir.resolve("stunnel-" + acceptPort + ".conf");
        Files.writeString(
                config,
                String.join(
                        "\n",
                        "foreground = yes",
                        "pid =",
                        "debug = 5",
                        "[fernet]",
                        client ? "client = yes" : "",
                        client ? "PSKidentity = " + psks.get(0).split(" ")[0] : "",
                        "accept = 127.0.0.1:" + acceptPort,
                        "connect = 127.0.0.1:" + connectPort,
                        "sslVersionMin = TLSv1.3",
                        "ciphersuites = TLS_AES_128_GCM_SHA256",
                        "PSKsecrets = " + secrets,
                        ""),
                US_ASCII);
        Child child = Child.start(stunnel.toString(), config.toString());
        child.awaitLine(line -> line.contains("Configuration successful"), WAIT);
        return child;
    }

    /** Serves one connection: reads to its end, answers the bytes reversed, returns what it read. */
    private Future<byte[]> reverseOnce(ServerSocket server) {
        return pool.submit(() -> {
            try (Socket accepted = server.accept()) {
                byte[] got = accepted.getInputStream().readAllBytes();
                byte[] reversed = new byte[got.length];
                for (int i = 0; i < got.length; i++) {
                    reversed[i] = got[got.length - 1 - i];
                }
                accepted.getOutputStream().write(reversed);
                accepted.shutdownOutput();
                return got;
            }
        });
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, LOOPBACK)) {
            return probe.getLocalPort();
        }
    }
}
