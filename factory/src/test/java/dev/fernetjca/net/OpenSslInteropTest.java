package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.clientFactory;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static dev.fernetjca.net.SocketTestSupport.serverFactory;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.Child;
import dev.fernetjca.testing.ExternalTools;
import dev.fernetjca.testing.Processes;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our sockets against OpenSSL's {@code s_server} and {@code s_client}, with the PSK lines of
 * {@link FernetSocketFactory#externalPsks}: the commands here are those of docs/guides/openssl.md.
 */
@Timeout(60)
class OpenSslInteropTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(5);
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final int SO_TIMEOUT_MILLIS = 10_000;
    private static final Pattern ACCEPT = Pattern.compile("ACCEPT 127\\.0\\.0\\.1:(\\d+)");
    private static final String MISMATCH = "does not hold a matching Fernet key";
    private static final String NOT_OURS = "is not a fernet-jca peer";

    private Path openssl;
    private ExecutorService pool;

    @BeforeEach
    void findOpenssl() throws Exception {
        openssl = ExternalTools.openssl();
        pool = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopThreads() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "a server thread did not stop");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"})
    void javaClientTalksToOpensslServer(String suite) throws Exception {
        SecretKey key = newKey();
        Psk psk = Psk.of(key);
        try (Child server = sServer(psk, suite)) {
            int port = acceptedPort(server);
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, port)) {
                socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                OutputStream out = socket.getOutputStream();
                out.write("hello from java\n".getBytes(UTF_8));
                out.flush();
                // -rev: s_server answers each line reversed
                assertEquals("avaj morf olleh", readLine(socket.getInputStream()));
            }
            server.awaitLine("Protocol version: TLSv1.3"::equals, WAIT);
            server.awaitLine(("Ciphersuite: " + suite)::equals, WAIT);
            server.awaitLine("No peer certificate"::equals, WAIT);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"})
    void opensslClientTalksToJavaServer(String suite) throws Exception {
        SecretKey key = newKey();
        Psk psk = Psk.of(key);
        try (ServerSocket listener = serverFactory(key, HANDSHAKE).createServerSocket(0, 1, LOOPBACK)) {
            listener.setSoTimeout(SO_TIMEOUT_MILLIS);
            Future<String> received = pool.submit(() -> {
                try (Socket socket = listener.accept()) {
                    socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                    String line = readLine(socket.getInputStream());
                    OutputStream out = socket.getOutputStream();
                    out.write(("java heard: " + line + "\n").getBytes(UTF_8));
                    out.flush();
                    return line; // close sends close_notify, which ends s_client
                }
            });
            try (Child client = sClient(psk, suite, listener.getLocalPort())) {
                client.stdin().write("hello from openssl\n".getBytes(UTF_8));
                client.closeInput(); // -ign_eof: s_client stays until the server closes
                assertEquals("hello from openssl", received.get(WAIT.toSeconds(), TimeUnit.SECONDS));
                assertEquals(0, client.waitFor(WAIT), client.output());
                List<String> lines = client.output().lines().toList();
                assertTrue(lines.contains("java heard: hello from openssl"), client.output());
                assertTrue(lines.stream().anyMatch(l -> l.contains("TLSv1.3, Cipher is " + suite)), client.output());
            }
        }
    }

    /**
     * RFC 8446 4.6.3 against OpenSSL: {@code s_client}'s interactive {@code k} sends a KeyUpdate, {@code K} one that
     * asks for ours. Lines go on both ways after each, which needs our receiving key updated; with {@code -msg},
     * s_client shows that we answered {@code K} with a KeyUpdate of our own (and its next line decrypts with our new
     * sending key) and did not answer {@code k}.
     */
    @Test
    void keyUpdatesFromOpensslAreFollowedAndAnswered() throws Exception {
        SecretKey key = newKey();
        Psk psk = Psk.of(key);
        List<String> sent = List.of("before", "after k", "after K", "last");
        try (ServerSocket listener = serverFactory(key, HANDSHAKE).createServerSocket(0, 1, LOOPBACK)) {
            listener.setSoTimeout(SO_TIMEOUT_MILLIS);
            Future<List<String>> received = pool.submit(() -> {
                try (Socket socket = listener.accept()) {
                    socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                    List<String> lines = new ArrayList<>();
                    while (lines.size() < sent.size()) {
                        String line = readLine(socket.getInputStream());
                        lines.add(line);
                        socket.getOutputStream().write(("java heard: " + line + "\n").getBytes(UTF_8));
                        socket.getOutputStream().flush();
                    }
                    return lines;
                }
            });
            // no -ign_eof: s_client reads commands only without it
            try (Child client = Child.start(
                    openssl.toString(),
                    "s_client",
                    "-tls1_3",
                    "-psk",
                    psk.secretHex(),
                    "-psk_identity",
                    psk.identity(),
                    "-ciphersuites",
                    "TLS_AES_128_GCM_SHA256",
                    "-groups",
                    "X25519",
                    "-connect",
                    "127.0.0.1:" + listener.getLocalPort(),
                    "-msg")) {
                Pattern ourKeyUpdate = Pattern.compile("<<< TLS 1\\.3, Handshake \\[length 0005\\], KeyUpdate");
                say(client, sent.get(0));
                boolean[] answered = new boolean[1];
                command(client, "k");
                say(
                        client,
                        sent.get(1),
                        line -> answered[0] |= ourKeyUpdate.matcher(line).matches());
                assertTrue(!answered[0], "a KeyUpdate that asked for none was answered\n" + client.output());
                command(client, "K");
                client.awaitLine(line -> ourKeyUpdate.matcher(line).matches(), WAIT);
                say(client, sent.get(2));
                say(client, sent.get(3));
                assertEquals(sent, received.get(WAIT.toSeconds(), TimeUnit.SECONDS));
            }
        }
    }

    /** Sends a command line to s_client, on its own: s_client reads a command only at the start of what it reads. */
    private static void command(Child client, String letter) throws IOException, InterruptedException {
        Thread.sleep(200);
        client.stdin().write((letter + "\n").getBytes(UTF_8));
        client.stdin().flush();
        Thread.sleep(200);
    }

    /** Sends a line through s_client and waits for our server's answer to it. */
    private static void say(Child client, String line) throws IOException, InterruptedException {
        say(client, line, seen -> {});
    }

    private static void say(Child client, String line, Consumer<String> seen) throws IOException, InterruptedException {
        client.stdin().write((line + "\n").getBytes(UTF_8));
        client.stdin().flush();
        client.awaitLine(
                output -> {
                    seen.accept(output);
                    return output.equals("java heard: " + line);
                },
                WAIT);
    }

    /**
     * The two ways an OpenSSL peer can miss our key: a PSK of another key (its identity is unknown to us), or our
     * identity with a wrong secret, as when a secret is pasted wrongly. OpenSSL 3.0 answers a binder that does not
     * verify with {@code illegal_parameter} (RFC 8446 6.2 names {@code decrypt_error}), which proves the mismatch; an
     * {@code s_server} with another key answers {@code handshake_failure}, as any server that shares nothing with us
     * would, so our client names its keys without claiming a mismatch it cannot prove.
     */
    static Stream<Arguments> wrongPsks() {
        return Stream.of(
                Arguments.of(
                        "another key",
                        (WrongPsk) (ours, other) -> other,
                        "may hold none of the keys we offered",
                        "it offered "),
                Arguments.of(
                        "our identity, another key's secret",
                        (WrongPsk) (ours, other) -> new Psk(ours.identity(), other.secretHex()),
                        MISMATCH,
                        "with another secret"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongPsks")
    void opensslServerWithoutOurKeyIsRefused(String name, WrongPsk wrong, String clientSays, String serverSays)
            throws Exception {
        SecretKey key = newKey();
        Psk ours = Psk.of(key);
        Psk psk = wrong.choose(ours, Psk.of(newKey()));
        try (Child server = sServer(psk, "TLS_AES_128_GCM_SHA256")) {
            int port = acceptedPort(server);
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, port)) {
                socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                IOException e = assertThrows(IOException.class, () -> {
                    socket.getOutputStream().write("hello from java\n".getBytes(UTF_8));
                    readLine(socket.getInputStream());
                });
                String message = String.valueOf(e.getMessage());
                assertTrue(message.contains(clientSays), describe(e));
                assertTrue(message.contains(ours.identity()), "names the identity we offered: " + describe(e));
                assertTrue(!message.contains(NOT_OURS), describe(e));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongPsks")
    void opensslClientWithoutOurKeyIsRefused(String name, WrongPsk wrong, String clientSays, String serverSays)
            throws Exception {
        SecretKey key = newKey();
        Psk ours = Psk.of(key);
        Psk psk = wrong.choose(ours, Psk.of(newKey()));
        try (ServerSocket listener = serverFactory(key, HANDSHAKE).createServerSocket(0, 1, LOOPBACK)) {
            listener.setSoTimeout(SO_TIMEOUT_MILLIS);
            Future<String> received = pool.submit(() -> {
                try (Socket socket = listener.accept()) {
                    socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                    return readLine(socket.getInputStream());
                }
            });
            try (Child client = sClient(psk, "TLS_AES_128_GCM_SHA256", listener.getLocalPort())) {
                client.stdin().write("hello from openssl\n".getBytes(UTF_8));
                client.closeInput();
                ExecutionException e =
                        assertThrows(ExecutionException.class, () -> received.get(WAIT.toSeconds(), TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof IOException, describe(e.getCause()));
                String message = String.valueOf(e.getCause().getMessage());
                assertTrue(message.contains(MISMATCH) && message.contains(serverSays), describe(e.getCause()));
                assertTrue(message.contains(psk.identity()), "names the identity offered: " + describe(e.getCause()));
                assertNotEquals(0, client.waitFor(WAIT), client.output());
            }
        }
    }

    /** The reproduction of issue 8: a certificate server was reported as one that does not hold our key. */
    @Test
    void certificateServerIsNotAFernetPeer(@TempDir Path dir) throws Exception {
        Path cert = selfSignedCertificate(dir);
        try (Child server = Child.start(
                openssl.toString(),
                "s_server",
                "-tls1_3",
                "-cert",
                cert.toString(),
                "-key",
                dir.resolve("key.pem").toString(),
                "-accept",
                "127.0.0.1:0",
                "-naccept",
                "1")) {
            int port = acceptedPort(server);
            try (Socket socket = clientFactory(newKey(), HANDSHAKE).createSocket(LOOPBACK, port)) {
                socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                IOException e = assertThrows(
                        IOException.class, () -> socket.getOutputStream().write(1));
                String message = String.valueOf(e.getMessage());
                assertTrue(message.contains(NOT_OURS + ": it presented a certificate"), describe(e));
                assertTrue(!message.contains(MISMATCH), describe(e));
            }
        }
    }

    /** A certificate client, which offers no pre-shared key at all, is not told it has the wrong one. */
    @Test
    void certificateClientIsNotAFernetPeer() throws Exception {
        try (ServerSocket listener = serverFactory(newKey(), HANDSHAKE).createServerSocket(0, 1, LOOPBACK)) {
            listener.setSoTimeout(SO_TIMEOUT_MILLIS);
            Future<String> received = pool.submit(() -> {
                try (Socket socket = listener.accept()) {
                    socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                    return readLine(socket.getInputStream());
                }
            });
            try (Child client = Child.start(
                    openssl.toString(), "s_client", "-tls1_3", "-connect", "127.0.0.1:" + listener.getLocalPort())) {
                client.closeInput();
                ExecutionException e =
                        assertThrows(ExecutionException.class, () -> received.get(WAIT.toSeconds(), TimeUnit.SECONDS));
                String message = String.valueOf(e.getCause().getMessage());
                assertTrue(message.contains(NOT_OURS + ": it offered no pre-shared key"), describe(e.getCause()));
                assertTrue(!message.contains(MISMATCH), describe(e.getCause()));
            }
        }
    }

    private Path selfSignedCertificate(Path dir) throws IOException, InterruptedException {
        Path cert = dir.resolve("cert.pem");
        Processes.output(
                WAIT,
                openssl.toString(),
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                dir.resolve("key.pem").toString(),
                "-out",
                cert.toString(),
                "-subj",
                "/CN=localhost",
                "-days",
                "1");
        return cert;
    }

    /** {@code openssl s_server}: TLS 1.3, no certificate, our PSK only, one connection, lines answered reversed. */
    private Child sServer(Psk psk, String suite) throws IOException {
        return Child.start(
                openssl.toString(),
                "s_server",
                "-tls1_3",
                "-nocert",
                "-psk",
                psk.secretHex(),
                "-psk_identity",
                psk.identity(),
                "-ciphersuites",
                suite,
                "-groups",
                "X25519",
                "-accept",
                "127.0.0.1:0",
                "-naccept",
                "1",
                "-rev");
    }

    /** {@code openssl s_client}: TLS 1.3 with our PSK; {@code -ign_eof} keeps it until the server closes. */
    private Child sClient(Psk psk, String suite, int port) throws IOException {
        return Child.start(
                openssl.toString(),
                "s_client",
                "-tls1_3",
                "-psk",
                psk.secretHex(),
                "-psk_identity",
                psk.identity(),
                "-ciphersuites",
                suite,
                "-groups",
                "X25519",
                "-connect",
                "127.0.0.1:" + port,
                "-ign_eof");
    }

    /** Port 0 lets the kernel choose, so no other process can take the port between choosing and binding. */
    private static int acceptedPort(Child server) throws InterruptedException {
        Matcher matcher =
                ACCEPT.matcher(server.awaitLine(line -> ACCEPT.matcher(line).matches(), WAIT));
        assertTrue(matcher.matches());
        return Integer.parseInt(matcher.group(1));
    }

    /** Reads up to a newline, which is not returned; at most 1 KiB. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new EOFException("stream ended before a newline");
            }
            if (line.size() == 1024) {
                throw new IOException("line longer than 1 KiB");
            }
            line.write(b);
        }
        return line.toString(UTF_8);
    }

    private static String describe(Throwable e) {
        return e.getClass().getName() + ": " + e.getMessage();
    }

    /** One line of {@link FernetSocketFactory#externalPsks}. */
    record Psk(String identity, String secretHex) {
        static Psk of(SecretKey key) {
            String[] fields = FernetSocketFactory.externalPsks(key).get(0).split(" ");
            assertEquals(2, fields.length);
            return new Psk(fields[0], fields[1]);
        }

        @Override
        public String toString() {
            return "Psk[" + identity + "]";
        }
    }

    /** Which PSK the OpenSSL side is given instead of ours. */
    @FunctionalInterface
    interface WrongPsk {
        Psk choose(Psk ours, Psk other);
    }
}
