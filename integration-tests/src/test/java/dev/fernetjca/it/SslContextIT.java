package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsServer;
import dev.fernetjca.net.FernetPskProvider;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.FernetProvider;
import dev.fernetjca.testing.Child;
import dev.fernetjca.testing.ExternalTools;
import dev.fernetjca.testing.Relay;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code SSLContext.FernetPSK} with real consumers: a NIO server written against the {@code SSLEngine} contract (fed
 * in fragments) with our blocking sockets and OpenSSL as clients, and the JDK's {@code HttpsServer} with its
 * {@code HttpClient}, certificate-free. The configurations here are those of docs/guides/sslcontext.md.
 */
@Timeout(60)
class SslContextIT {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    static SecretKey newKey() throws Exception {
        return KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
    }

    @Test
    void nioServerFedInFragmentsEchoesForFernetSocketClients() throws Exception {
        SecretKey key = newKey();
        try (NioEchoServer server = new NioEchoServer(FernetPskProvider.sslContext(key), 7)) {
            List<Future<byte[]>> clients = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                byte[] data = random(150_000 + i, i);
                clients.add(pool.submit(() -> {
                    try (Socket socket = new FernetSocketFactory(key).createSocket(LOOPBACK, server.port())) {
                        socket.setSoTimeout(20_000);
                        socket.getOutputStream().write(data);
                        socket.shutdownOutput(); // close_notify: the server answers with its own after the echo
                        byte[] echoed = socket.getInputStream().readAllBytes();
                        assertArrayEquals(data, echoed);
                        return echoed;
                    }
                }));
            }
            for (Future<byte[]> client : clients) {
                client.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            awaitCleanEnds(server, 3); // the server counts a clean end just after its close_notify is out
            assertEquals(List.of(), server.failures);
        }
    }

    @Test
    void nioServerRefusesAClientWithAnotherKey() throws Exception {
        try (NioEchoServer server = new NioEchoServer(FernetPskProvider.sslContext(newKey()), 50)) {
            try (Socket socket = new FernetSocketFactory(newKey()).createSocket(LOOPBACK, server.port())) {
                socket.setSoTimeout(20_000);
                IOException e = assertThrows(
                        IOException.class, () -> socket.getOutputStream().write(1));
                assertTrue(e.getMessage().contains("does not hold a matching Fernet key"), e.getMessage());
            }
            awaitFailures(server, 1);
            assertTrue(server.failures.get(0).contains("does not hold a matching Fernet key"), server.failures.get(0));
        }
    }

    @Test
    void aConnectionCutWithoutCloseNotifyIsAFailureForTheNioServer() throws Exception {
        SecretKey key = newKey();
        try (NioEchoServer server = new NioEchoServer(FernetPskProvider.sslContext(key), 1000);
                Relay relay = Relay.to(server.port())) {
            try (Socket socket = new FernetSocketFactory(key).createSocket(LOOPBACK, relay.port())) {
                socket.setSoTimeout(20_000);
                byte[] data = random(50_000, 9);
                socket.getOutputStream().write(data);
                // all echoed: the server has nothing left to write, so the cut reaches it as an end of input and not as
                // a broken pipe under an echo still being written
                assertArrayEquals(data, socket.getInputStream().readNBytes(data.length));
                relay.inject(Relay.Fault.CUT, Relay.Direction.TO_SERVER, relay.taken(Relay.Direction.TO_SERVER));
                assertThrows(IOException.class, () -> {
                    socket.getOutputStream()
                            .write(1); // its record cuts the connection: a FIN each way, no close_notify
                    socket.getInputStream().readAllBytes();
                });
            }
            awaitFailures(server, 1);
            assertTrue(server.failures.get(0).contains("ended without close_notify"), server.failures.get(0));
            assertEquals(List.of(), server.cleanEnds);
        }
    }

    @Test
    void opensslClientTalksToNioServer() throws Exception {
        String openssl = ExternalTools.openssl().toString();
        SecretKey key = newKey();
        String[] psk = FernetSocketFactory.externalPsks(key).get(0).split(" ");
        try (NioEchoServer server = new NioEchoServer(FernetPskProvider.sslContext(key), 5);
                Child client = Child.start(
                        openssl,
                        "s_client",
                        "-tls1_3",
                        "-psk_identity",
                        psk[0],
                        "-psk",
                        psk[1],
                        "-groups",
                        "X25519",
                        "-connect",
                        "127.0.0.1:" + server.port(),
                        "-msg")) {
            client.stdin().write("hello from openssl\n".getBytes(UTF_8));
            client.stdin().flush();
            client.awaitLine("hello from openssl"::equals, WAIT);
            // s_client's K: a KeyUpdate that asks for ours; the engine answers it before its next record
            Thread.sleep(200);
            client.stdin().write("K\n".getBytes(UTF_8));
            client.stdin().flush();
            client.awaitLine(line -> line.startsWith("<<< TLS 1.3, Handshake [length 0005], KeyUpdate"), WAIT);
            Thread.sleep(200);
            client.stdin().write("after the key update\n".getBytes(UTF_8));
            client.stdin().flush();
            client.awaitLine("after the key update"::equals, WAIT);
            client.closeInput(); // without -ign_eof, s_client sends close_notify at the end of its input
            assertEquals(0, client.waitFor(WAIT), client.output());
            awaitCleanEnds(server, 1);
            assertEquals(List.of(), server.failures);
        }
    }

    @Test
    void httpsServerAndHttpClientWithoutACertificate() throws Exception {
        SecretKey key = newKey();
        SSLContext context = FernetPskProvider.sslContext(key);
        HttpsServer server = https(context);
        try (Relay relay = Relay.to(server.getAddress().getPort())) {
            HttpClient client = HttpClient.newBuilder()
                    .sslContext(context)
                    .connectTimeout(WAIT)
                    .build();
            String secret = "the plaintext nobody on the wire may read";
            HttpResponse<String> response = client.send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + "/echo"))
                            .POST(HttpRequest.BodyPublishers.ofString(secret))
                            .timeout(WAIT)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            String identity = FernetSocketFactory.externalPsks(key).get(0).split(" ")[0];
            assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256 " + identity + ": " + secret, response.body());
            assertEquals(HttpClient.Version.HTTP_1_1, response.version());
            assertEquals("TLSv1.3", response.sslSession().orElseThrow().getProtocol());
            byte[] toServer = relay.recorded(Relay.Direction.TO_SERVER);
            byte[] toClient = relay.recorded(Relay.Direction.TO_CLIENT);
            assertTrue(toServer.length > secret.length() && toClient.length > secret.length());
            assertFalse(Relay.contains(toServer, secret), "the request body crossed the wire in clear");
            assertFalse(Relay.contains(toClient, secret), "the response body crossed the wire in clear");
            assertFalse(Relay.contains(toServer, "POST /echo"), "the request line crossed the wire in clear");
        } finally {
            server.stop(0);
        }
    }

    /**
     * Pins what the engine cannot promise alone: HttpClient never calls {@code closeInbound()}, it takes TCP's end for
     * the end. A response framed by the end of the connection and cut by a relay mid-record fails (HttpClient sees
     * bytes it could not decrypt); cut at a record boundary, it comes back as a whole, successful response. Over
     * HttpClient, frame responses by Content-Length or chunks (docs/guides/sslcontext.md).
     */
    @Test
    void httpClientTakesAResponseCutAtARecordBoundaryForWhole() throws Exception {
        SSLContext context = FernetPskProvider.sslContext(newKey());
        byte[] body = new byte[200_000];
        new Random(7).nextBytes(body);
        try (var listener = context.getServerSocketFactory().createServerSocket(0, 3, LOOPBACK);
                Relay relay = Relay.to(listener.getLocalPort())) {
            pool.submit(() -> {
                while (true) {
                    try (Socket socket = listener.accept()) {
                        InputStream in = socket.getInputStream();
                        for (int matched = 0; matched < 4; ) { // the request's headers end with an empty line
                            int b = in.read();
                            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
                        }
                        OutputStream out = socket.getOutputStream();
                        out.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(UTF_8));
                        out.write(body);
                    } catch (IOException e) {
                        // the relay cut this one; the next comes
                    }
                }
            });
            HttpClient client = HttpClient.newBuilder()
                    .sslContext(context)
                    .connectTimeout(WAIT)
                    .build();
            HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + "/"))
                    .timeout(WAIT)
                    .build();
            assertArrayEquals(
                    body,
                    client.send(request, HttpResponse.BodyHandlers.ofByteArray())
                            .body());
            long boundary = recordBoundaryAfter(relay.recorded(Relay.Direction.TO_CLIENT), 50_000);

            relay.inject(Relay.Fault.CUT, Relay.Direction.TO_CLIENT, boundary + 100); // a FIN each way, mid-record
            assertThrows(IOException.class, () -> client.send(request, HttpResponse.BodyHandlers.ofByteArray()));

            relay.inject(Relay.Fault.CUT, Relay.Direction.TO_CLIENT, boundary); // a FIN each way, between records
            HttpResponse<byte[]> cut = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, cut.statusCode());
            assertTrue(
                    cut.body().length < body.length,
                    "a cut body, taken for whole: " + cut.body().length + " of " + body.length + " bytes");
        }
    }

    /** Returns the offset of the first record boundary at or after {@code offset} in a stream of TLS records. */
    private static long recordBoundaryAfter(byte[] records, long offset) {
        int at = 0;
        while (at < offset) {
            at += 5 + (((records[at + 3] & 0xff) << 8) | (records[at + 4] & 0xff));
        }
        assertTrue(at < records.length, "the stream is longer than the offset");
        return at;
    }

    @Test
    void httpClientWithAnotherKeyIsRefused() throws Exception {
        HttpsServer server = https(FernetPskProvider.sslContext(newKey()));
        try {
            HttpClient client = HttpClient.newBuilder()
                    .sslContext(FernetPskProvider.sslContext(newKey()))
                    .build();
            IOException e = assertThrows(
                    IOException.class,
                    () -> client.send(
                            HttpRequest.newBuilder(URI.create("https://localhost:"
                                            + server.getAddress().getPort() + "/echo"))
                                    .timeout(WAIT)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString()));
            // HttpsServer sends no alert when a handshake fails, so the client cannot know why; it is refused
            assertTrue(causes(e).contains("SSLHandshakeException"), causes(e));
        } finally {
            server.stop(0);
        }
    }

    /** An HttpsServer whose /echo answers with the session's protocol, suite and peer, then the request body. */
    private HttpsServer https(SSLContext context) throws IOException {
        HttpsServer server = HttpsServer.create(new InetSocketAddress(LOOPBACK, 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        server.createContext("/echo", exchange -> {
            try (InputStream in = exchange.getRequestBody();
                    OutputStream out = exchange.getResponseBody()) {
                var session = ((HttpsExchange) exchange).getSSLSession();
                byte[] body = (session.getProtocol() + " " + session.getCipherSuite() + " "
                                + session.getPeerPrincipal().getName() + ": " + new String(in.readAllBytes(), UTF_8))
                        .getBytes(UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                out.write(body);
            }
        });
        server.setExecutor(pool);
        server.start();
        return server;
    }

    private static void awaitFailures(NioEchoServer server, int count) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (server.failures.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(count, server.failures.size(), String.valueOf(server.failures));
    }

    private static void awaitCleanEnds(NioEchoServer server, int count) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (server.cleanEnds.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(count, server.cleanEnds.size(), String.valueOf(server.failures));
    }

    private static String causes(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            text.append(cause.getClass().getSimpleName())
                    .append(": ")
                    .append(cause.getMessage())
                    .append(" / ");
        }
        return text.toString();
    }

    static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] sha256(byte[] bytes) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }
}
