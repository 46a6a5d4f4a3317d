package dev.fernetjca.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.net.SocketFactory;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code fernet tunnel --metrics}: a running tunnel's figures read with a real HTTP client. */
@Timeout(60)
class MetricsServerTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void servesTheTunnelsFiguresInThePrometheusTextFormatAndItsHealth() throws Exception {
        SecretKey key = KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
        String identity = FernetSocketFactory.externalPsks(key).get(0).split(" ")[0];
        byte[] message = "hello through the tunnel".getBytes(UTF_8);
        try (ServerSocket target = new ServerSocket(0, 50, LOOPBACK);
                Tunnel tunnel = Tunnel.start(
                        new InetSocketAddress(LOOPBACK, 0),
                        new FernetServerSocketFactory(key),
                        (InetSocketAddress) target.getLocalSocketAddress(),
                        SocketFactory.getDefault(),
                        8,
                        new PrintWriter(new StringWriter(), true));
                MetricsServer metrics = MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), tunnel::isListening)) {
            String before = get(metrics, "/metrics").body();
            Thread echo = new Thread(() -> {
                try (Socket served = target.accept()) {
                    served.getOutputStream().write(served.getInputStream().readAllBytes());
                } catch (IOException e) {
                    // the assertion on the client side says what went wrong
                }
            });
            echo.start();
            try (Socket client = new FernetSocketFactory(key).createSocket(LOOPBACK, tunnel.port())) {
                client.getOutputStream().write(message);
                client.shutdownOutput();
                assertArrayEquals(message, client.getInputStream().readAllBytes());
            }
            echo.join(10_000);
            try (Socket stranger = new FernetSocketFactory(KeyGenerator.getInstance("Fernet", new FernetProvider())
                            .generateKey())
                    .createSocket(LOOPBACK, tunnel.port())) {
                assertThrows(
                        SSLException.class, () -> stranger.getOutputStream().write(1));
            }

            HttpResponse<String> response = awaitFigures(metrics, before, identity);
            assertEquals(200, response.statusCode());
            assertTrue(
                    response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                    response.headers().toString());
            String after = response.body();
            // the tunnel's server socket and this test's client are both in this JVM: each end counts
            assertTrue(
                    value(after, "fernet_connections_total") >= value(before, "fernet_connections_total") + 4, after);
            assertTrue(value(after, "fernet_key_connections_total{identity=\"" + identity + "\"}") >= 2, after);
            assertTrue(
                    value(after, "fernet_handshake_failures_total{reason=\"key-mismatch\"}")
                            >= value(before, "fernet_handshake_failures_total{reason=\"key-mismatch\"}") + 2,
                    after);
            assertTrue(
                    value(after, "fernet_bytes_total{direction=\"in\"}")
                            >= value(before, "fernet_bytes_total{direction=\"in\"}") + 2L * message.length,
                    after);
            assertTrue(
                    value(after, "fernet_bytes_total{direction=\"out\"}")
                            >= value(before, "fernet_bytes_total{direction=\"out\"}") + 2L * message.length,
                    after);
            assertTrue(after.contains("# TYPE fernet_connections_active gauge\nfernet_connections_active "), after);
            long reloaded = value(after, "fernet_keys_reloaded_total");
            Path keyFile = Files.createTempFile(
                    "metrics",
                    ".key",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                Files.writeString(keyFile, Fernet.generateKey() + "\n");
                FernetSocketFactory watching = FernetSocketFactory.configured(
                        Map.of("FERNET_KEY_FILE", keyFile.toString()), FernetSocketOptions.tls());
                assertTrue(watching.reloadKeys(), "the key file was not read again");
            } finally {
                Files.delete(keyFile);
            }
            assertEquals(reloaded + 1, value(get(metrics, "/metrics").body(), "fernet_keys_reloaded_total"));

            HttpResponse<String> health = get(metrics, "/healthz");
            assertEquals(200, health.statusCode());
            assertEquals("ok\n", health.body());
            HttpResponse<String> post = http.send(
                    HttpRequest.newBuilder(uri(metrics, "/metrics"))
                            .POST(HttpRequest.BodyPublishers.ofString("x"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            tunnel.close();
            assertEquals(503, get(metrics, "/healthz").statusCode(), "a tunnel that stopped listening is not healthy");
        }
    }

    /** The server side counts on its own threads: wait until the failures of both ends are in. */
    private HttpResponse<String> awaitFigures(MetricsServer metrics, String before, String identity) throws Exception {
        String failures = "fernet_handshake_failures_total{reason=\"key-mismatch\"}";
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            HttpResponse<String> response = get(metrics, "/metrics");
            String body = response.body();
            if ((value(body, failures) >= value(before, failures) + 2
                            && value(body, "fernet_key_connections_total{identity=\"" + identity + "\"}") >= 2)
                    || System.nanoTime() > deadline) {
                return response;
            }
            Thread.sleep(50);
        }
    }

    private HttpResponse<String> get(MetricsServer metrics, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri(metrics, path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(MetricsServer metrics, String path) {
        return URI.create("http://" + LOOPBACK.getHostAddress() + ":" + metrics.port() + path);
    }

    /** Returns the value of the series {@code series} (name and labels as written), 0 when it is absent. */
    private static long value(String text, String series) {
        Matcher line =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\d+)$").matcher(text);
        return line.find() ? Long.parseLong(line.group(1)) : 0;
    }
}
