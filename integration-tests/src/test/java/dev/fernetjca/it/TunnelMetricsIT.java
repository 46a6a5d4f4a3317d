package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.testing.KeyFiles;
import dev.fernetjca.testing.Processes;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fernet tunnel --metrics}, as docs/guides/tunnel.md shows it: the real command, a real HTTP client. The
 * tunnel runs in its own JVM, so its figures are exactly what this test did to it.
 */
@Timeout(120)
class TunnelMetricsIT {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;

    @Test
    void aRunningTunnelServesItsFiguresAndItsHealthOverHttp() throws Exception {
        Path keyFile = KeyFiles.newKeyFile(dir, "tunnel.key");
        Path otherKey = KeyFiles.newKeyFile(dir, "other.key");
        int metricsPort = Processes.freePort();
        byte[] message = "metrics through the tunnel".getBytes(UTF_8);
        try (ServerSocket target = new ServerSocket(0, 5, LOOPBACK);
                TunnelProcess tunnel = TunnelProcess.start(
                        "--listen",
                        "127.0.0.1:0",
                        "--connect",
                        "127.0.0.1:" + target.getLocalPort(),
                        "--decrypt",
                        "--key-file",
                        keyFile.toString(),
                        "--metrics",
                        "127.0.0.1:" + metricsPort)) {
            URI metrics = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
            String empty = get(metrics).body();
            assertEquals(0, value(empty, "fernet_connections_total"), empty);
            assertEquals(0, value(empty, "fernet_handshake_failures_total{reason=\"key-mismatch\"}"), empty);
            assertTrue(
                    empty.contains("fernet_handshake_failures_total{reason=\"key-mismatch\"} 0\n"),
                    "the server socket registers the figures before the first client: " + empty);

            Thread echo = new Thread(() -> {
                try (Socket served = target.accept()) {
                    served.getOutputStream().write(served.getInputStream().readAllBytes());
                } catch (IOException e) {
                    // the client's assertion says what went wrong
                }
            });
            echo.start();
            FernetSocketFactory member = new FernetSocketFactory(keyFile.toString());
            try (Socket client = member.createSocket(LOOPBACK, tunnel.port())) {
                client.getOutputStream().write(message);
                client.shutdownOutput();
                assertArrayEquals(message, client.getInputStream().readAllBytes());
            }
            echo.join(10_000);
            FernetSocketFactory stranger = new FernetSocketFactory(otherKey.toString());
            try (Socket refused = stranger.createSocket(LOOPBACK, tunnel.port())) {
                assertThrows(SSLException.class, () -> refused.getOutputStream().write(1));
            }
            try (Socket plain = new Socket(LOOPBACK, tunnel.port())) {
                plain.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(UTF_8));
                plain.setSoTimeout(10_000);
                try {
                    plain.getInputStream().read();
                } catch (IOException e) {
                    // a reset: the tunnel refused it
                }
            }
            // each line is written once the tunnel has closed both sides of its connection
            assertTrue(tunnel.connectionLine(1).endsWith("closed cleanly"), tunnel.connectionLine(1));
            assertTrue(tunnel.connectionLine(2).contains(" failed: "), tunnel.connectionLine(2));
            assertTrue(tunnel.connectionLine(3).contains(" failed: "), tunnel.connectionLine(3));

            String identity = FernetSocketFactory.externalPsks(FernetKeyRing.readKeyFile(keyFile))
                    .get(0)
                    .split(" ")[0];
            HttpResponse<String> response = get(metrics);
            assertEquals(200, response.statusCode());
            String body = response.body();
            assertEquals(3, value(body, "fernet_connections_total"), body);
            assertEquals(0, value(body, "fernet_connections_active"), body);
            assertEquals(1, value(body, "fernet_handshakes_total"), body);
            assertEquals(1, value(body, "fernet_key_connections_total{identity=\"" + identity + "\"}"), body);
            assertEquals(1, value(body, "fernet_handshake_failures_total{reason=\"key-mismatch\"}"), body);
            assertEquals(1, value(body, "fernet_handshake_failures_total{reason=\"not-fernet-peer\"}"), body);
            assertEquals(message.length, value(body, "fernet_bytes_total{direction=\"in\"}"), body);
            assertEquals(message.length, value(body, "fernet_bytes_total{direction=\"out\"}"), body);
            assertEquals(0, value(body, "fernet_keys_reloaded_total"), body);
            assertTrue(body.contains("# TYPE fernet_bytes_total counter\n"), body);
            for (String secret : new String[] {Files.readString(keyFile).trim(), new String(message, UTF_8)}) {
                assertTrue(!body.contains(secret), "the metrics hold a key or data");
            }

            HttpResponse<String> health = get(URI.create("http://127.0.0.1:" + metricsPort + "/healthz"));
            assertEquals(200, health.statusCode());
            assertEquals("ok\n", health.body());
        }
    }

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Returns the value of {@code series} (name and labels as written), -1 when it is absent. */
    private static long value(String text, String series) {
        Matcher line =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\d+)$").matcher(text);
        return line.find() ? Long.parseLong(line.group(1)) : -1;
    }
}
