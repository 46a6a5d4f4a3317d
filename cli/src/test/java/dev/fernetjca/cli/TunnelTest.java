package dev.fernetjca.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.provider.FernetProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The tunnel's plumbing, in-process: plain client, encrypting tunnel, decrypting tunnel, plain server. */
@Timeout(60)
class TunnelTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final StringWriter logText = new StringWriter();
    private final PrintWriter log = new PrintWriter(logText, true);

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
    }

    private static SecretKey newKey() throws Exception {
        return KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
    }

    /** A plain server that answers each connection with what it read, reversed, after the client half-closes. */
    private ServerSocket reversingServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
        pool.submit(() -> {
            while (!server.isClosed()) {
                Socket socket = server.accept();
                pool.submit(() -> {
                    try (socket) {
                        byte[] got = socket.getInputStream().readAllBytes();
                        byte[] reversed = new byte[got.length];
                        for (int i = 0; i < got.length; i++) {
                            reversed[i] = got[got.length - 1 - i];
                        }
                        socket.getOutputStream().write(reversed);
                    }
                    return null;
                });
            }
            return null;
        });
        return server;
    }

    private static InetSocketAddress any() {
        return new InetSocketAddress(LOOPBACK, 0);
    }

    private static InetSocketAddress at(ServerSocket server) {
        return new InetSocketAddress(LOOPBACK, server.getLocalPort());
    }

    @Test
    void carriesBothDirectionsWithHalfCloseThroughTwoTunnels() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = reversingServer();
                Tunnel decrypting = Tunnel.start(
                        any(), new FernetServerSocketFactory(key), at(server), SocketFactory.getDefault(), 8, log);
                Tunnel encrypting = Tunnel.start(
                        any(),
                        ServerSocketFactory.getDefault(),
                        new InetSocketAddress(LOOPBACK, decrypting.port()),
                        new FernetSocketFactory(key),
                        8,
                        log);
                Socket client = new Socket(LOOPBACK, encrypting.port())) {
            byte[] message = new byte[300_000];
            new Random(4).nextBytes(message);
            client.getOutputStream().write(message);
            client.shutdownOutput(); // passes through both tunnels: the server reads to its end
            byte[] answer = client.getInputStream().readAllBytes();
            assertEquals(message.length, answer.length);
            assertEquals(message[0], answer[answer.length - 1]);
            assertEquals(message[message.length - 1], answer[0]);
        }
        String lines = logText.toString();
        assertTrue(lines.contains("up 300000 B, down 300000 B"), lines);
        assertTrue(lines.contains("closed cleanly"), lines);
        // one line per connection and tunnel, each with a timestamp
        assertEquals(2, lines.lines().count(), lines);
        assertTrue(
                lines.lines().allMatch(line -> line.matches("fernet tunnel: #1 \\d{4}-\\d\\d-\\d\\dT\\S+Z /.*")),
                lines);
    }

    @Test
    void aClientWithTheWrongKeyFailsOnlyItsOwnConnection() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = reversingServer();
                Tunnel decrypting = Tunnel.start(
                        any(), new FernetServerSocketFactory(key), at(server), SocketFactory.getDefault(), 8, log)) {
            try (Socket intruder = new FernetSocketFactory(newKey()).createSocket(LOOPBACK, decrypting.port())) {
                assertThrows(IOException.class, () -> {
                    intruder.getOutputStream().write(1);
                    intruder.getInputStream().read();
                });
            }
            try (Socket client = new FernetSocketFactory(key).createSocket(LOOPBACK, decrypting.port())) {
                client.getOutputStream().write("abc".getBytes(UTF_8));
                client.shutdownOutput();
                assertArrayEquals("cba".getBytes(UTF_8), client.getInputStream().readAllBytes());
            }
        }
        assertTrue(logText.toString().contains("does not hold a matching Fernet key"), logText.toString());
    }

    @Test
    void refusesConnectionsBeyondTheLimit() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket silent = new ServerSocket(0, 50, LOOPBACK);
                Tunnel encrypting = Tunnel.start(
                        any(), ServerSocketFactory.getDefault(), at(silent), new FernetSocketFactory(key), 1, log);
                Socket first = new Socket(LOOPBACK, encrypting.port())) {
            waitFor(() -> encrypting.activeConnections() == 1);
            try (Socket second = new Socket(LOOPBACK, encrypting.port())) {
                // refused with a reset: a clean end would look like a served connection that had nothing to say
                assertThrows(
                        SocketException.class, () -> second.getInputStream().read());
            }
            assertTrue(logText.toString().contains("refused: 1 connections already open"), logText.toString());
        }
    }

    @Test
    void shutdownLetsOpenConnectionsFinish() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket server = reversingServer();
                Tunnel decrypting = Tunnel.start(
                        any(), new FernetServerSocketFactory(key), at(server), SocketFactory.getDefault(), 8, log);
                Socket client = new FernetSocketFactory(key).createSocket(LOOPBACK, decrypting.port())) {
            client.getOutputStream().write("draining".getBytes(UTF_8));
            waitFor(() -> decrypting.activeConnections() == 1);
            Future<Integer> cut = pool.submit(() -> decrypting.shutdown(Duration.ofSeconds(10)));
            Thread.sleep(200);
            // no new connections once stopping
            assertThrows(IOException.class, () -> new Socket(LOOPBACK, decrypting.port()).close());
            client.shutdownOutput();
            assertArrayEquals(
                    "gniniard".getBytes(UTF_8), client.getInputStream().readAllBytes());
            assertEquals(0, cut.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void parsesHostAndPort() {
        assertEquals(new InetSocketAddress("127.0.0.1", 5432), TunnelCommand.parse("127.0.0.1:5432"));
        assertEquals(new InetSocketAddress("::1", 80), TunnelCommand.parse("[::1]:80"));
        assertThrows(IllegalArgumentException.class, () -> TunnelCommand.parse("5432"));
        assertThrows(IllegalArgumentException.class, () -> TunnelCommand.parse("host:99999"));
        assertThrows(IllegalArgumentException.class, () -> TunnelCommand.parse("host:"));
    }

    /** A plain server that hands each accepted connection to the test, which decides what it does. */
    private ServerSocket backend(BlockingQueue<Socket> accepted) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
        pool.submit(() -> {
            while (!server.isClosed()) {
                accepted.add(server.accept());
            }
            return null;
        });
        return server;
    }

    /** A client and server factory pair for {@code mode}, read as an application reads it: from configuration. */
    private record Factories(FernetServerSocketFactory server, FernetSocketFactory client, Tunnel.Gate gate) {
        static Factories of(String mode, SecretKey key) {
            if (mode.equals("tls")) {
                return new Factories(
                        new FernetServerSocketFactory(key), new FernetSocketFactory(key), Tunnel.Gate.HANDSHAKE);
            }
            return new Factories(
                    new FernetServerSocketFactory(key, FernetSocketOptions.fernetTokens(null)),
                    new FernetSocketFactory(key, FernetSocketOptions.fernetTokens(null)),
                    Tunnel.Gate.FIRST_TOKEN);
        }
    }

    private Tunnel decrypting(Factories factories, ServerSocket target, Tunnel.Limits limits) throws IOException {
        return Tunnel.start(
                any(), factories.server(), factories.gate(), at(target), SocketFactory.getDefault(), limits, log);
    }

    private Tunnel encrypting(Factories factories, Tunnel next) throws IOException {
        return Tunnel.start(
                any(),
                ServerSocketFactory.getDefault(),
                Tunnel.Gate.NONE,
                new InetSocketAddress(LOOPBACK, next.port()),
                factories.client(),
                Tunnel.Limits.defaults(),
                log);
    }

    /** Reads to the end and fails if the end is clean: what a program behind a tunnel must see of a failure. */
    private static IOException readUntilFailure(Socket socket, int atMost) throws IOException {
        socket.setSoTimeout(20_000);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        long total = 0;
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                total += n;
            }
        } catch (SocketException e) {
            assertTrue(total <= atMost, "read " + total + " bytes, more than were sent");
            return e; // a reset, or the TLS stream failed: the failure is visible
        } catch (IOException e) {
            assertTrue(!(e instanceof SocketTimeoutException), "no end within 20 s");
            return e;
        }
        return fail("a clean end of stream after " + total + " bytes: a failure was passed on as a clean close");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "fernet-tokens"})
    void aBackendResetReachesTheClientAsAResetNotACleanEnd(String mode) throws Exception {
        Factories factories = Factories.of(mode, newKey());
        BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        try (ServerSocket server = backend(accepted);
                Tunnel decrypting = decrypting(factories, server, Tunnel.Limits.defaults());
                Tunnel encrypting = encrypting(factories, decrypting);
                Socket client = new Socket(LOOPBACK, encrypting.port())) {
            client.getOutputStream().write("hello".getBytes(UTF_8)); // fernet-tokens: the first token opens the way
            Socket behind = accepted.poll(20, TimeUnit.SECONDS);
            behind.getOutputStream().write(new byte[5000]);
            behind.setSoLinger(true, 0);
            behind.close(); // a reset after 5,000 bytes
            readUntilFailure(client, 5000);
        }
        waitFor(() -> logText.toString()
                        .lines()
                        .filter(line -> line.contains(", failed: "))
                        .count()
                == 2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "fernet-tokens"})
    void aClientResetReachesTheBackendAsAResetNotACleanEnd(String mode) throws Exception {
        Factories factories = Factories.of(mode, newKey());
        BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        try (ServerSocket server = backend(accepted);
                Tunnel decrypting = decrypting(factories, server, Tunnel.Limits.defaults());
                Tunnel encrypting = encrypting(factories, decrypting);
                Socket client = new Socket(LOOPBACK, encrypting.port())) {
            client.getOutputStream().write(new byte[5000]);
            Socket behind = accepted.poll(20, TimeUnit.SECONDS);
            behind.getInputStream().readNBytes(5000);
            client.setSoLinger(true, 0);
            client.close();
            readUntilFailure(behind, 0);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "fernet-tokens"})
    void theDrainCutsOpenConnectionsWithAReset(String mode) throws Exception {
        Factories factories = Factories.of(mode, newKey());
        BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        try (ServerSocket server = backend(accepted);
                Tunnel decrypting = decrypting(factories, server, Tunnel.Limits.defaults());
                Tunnel encrypting = encrypting(factories, decrypting);
                Socket client = new Socket(LOOPBACK, encrypting.port())) {
            client.getOutputStream().write("open".getBytes(UTF_8));
            Socket behind = accepted.poll(20, TimeUnit.SECONDS);
            assertEquals("open", new String(behind.getInputStream().readNBytes(4), UTF_8));
            assertEquals(1, decrypting.shutdown(Duration.ofMillis(200)), "the open connection was not cut");
            readUntilFailure(behind, 0); // the service sees the cut, never a clean end of its client's input
            readUntilFailure(client, 0); // and so does the client, through the encrypting tunnel
            assertTrue(logText.toString().contains("failed: cut at shutdown"), logText.toString());
        }
    }

    @Test
    void silentSocketsDoNotLockOutAClientWithTheKey() throws Exception {
        SecretKey key = newKey();
        List<Socket> silent = new ArrayList<>();
        try (ServerSocket server = reversingServer();
                Tunnel decrypting = Tunnel.start(
                        any(), new FernetServerSocketFactory(key), at(server), SocketFactory.getDefault(), 64, log)) {
            // 64 silent sockets used to fill every slot, reopened as each deadline closed them
            InetAddress elsewhere = InetAddress.getByName("127.0.0.2");
            for (int i = 0; i < 64; i++) {
                Socket socket = new Socket();
                silent.add(socket);
                socket.bind(new InetSocketAddress(elsewhere, 0));
                socket.connect(new InetSocketAddress(LOOPBACK, decrypting.port()));
            }
            waitFor(() -> decrypting.pendingConnections() == Tunnel.Limits.DEFAULT_MAX_PENDING_PER_ADDRESS);
            try (Socket client = new FernetSocketFactory(key).createSocket(LOOPBACK, decrypting.port())) {
                client.getOutputStream().write("abc".getBytes(UTF_8));
                client.shutdownOutput();
                assertArrayEquals("cba".getBytes(UTF_8), client.getInputStream().readAllBytes());
            }
            assertTrue(logText.toString().contains("handshakes already pending from this address"), logText.toString());
        } finally {
            for (Socket socket : silent) {
                socket.close();
            }
        }
    }

    @Test
    void pendingHandshakesHaveTheirOwnBudgetAndAPerAddressLimit() throws Exception {
        SecretKey key = newKey();
        List<Socket> silent = new ArrayList<>();
        Tunnel.Limits limits = Tunnel.Limits.defaults().withMaxConnections(1).withPending(4, 2);
        try (ServerSocket server = reversingServer();
                Tunnel decrypting = Tunnel.start(
                        any(),
                        new FernetServerSocketFactory(key),
                        Tunnel.Gate.HANDSHAKE,
                        at(server),
                        SocketFactory.getDefault(),
                        limits,
                        log);
                Socket established = new FernetSocketFactory(key).createSocket(LOOPBACK, decrypting.port())) {
            FernetSocketFactory.handshake(established); // holds the one connection slot
            // a third from 127.0.0.2 is over its address's limit; one from 127.0.0.5 over the whole budget
            String[] sources = {
                "127.0.0.2", "127.0.0.2", "127.0.0.3", "refused 127.0.0.2", "127.0.0.4", "refused 127.0.0.5"
            };
            for (String source : sources) {
                Socket socket = new Socket();
                socket.bind(new InetSocketAddress(source.replace("refused ", ""), 0));
                socket.connect(new InetSocketAddress(LOOPBACK, decrypting.port()));
                if (source.startsWith("refused")) {
                    try (socket) {
                        assertThrows(
                                SocketException.class,
                                () -> socket.getInputStream().read(),
                                source);
                    }
                } else {
                    silent.add(socket);
                    waitFor(() -> decrypting.pendingConnections() == silent.size());
                }
            }
            assertEquals(4, decrypting.pendingConnections());
            // the established connection never noticed
            established.getOutputStream().write("still here".getBytes(UTF_8));
            established.shutdownOutput();
            assertArrayEquals(
                    "ereh llits".getBytes(UTF_8), established.getInputStream().readAllBytes());
            String lines = logText.toString();
            assertTrue(lines.contains("refused: 2 handshakes already pending from this address"), lines);
            assertTrue(lines.contains("refused: 4 handshakes already pending"), lines);
        } finally {
            for (Socket socket : silent) {
                socket.close();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "fernet-tokens"})
    void aSilentPeerIsClosedAtTheHandshakeDeadlineAndNeverReachesTheTarget(String mode) throws Exception {
        Factories factories = Factories.of(mode, newKey());
        BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        Tunnel.Limits limits =
                Tunnel.Limits.defaults().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(10), null);
        try (ServerSocket server = backend(accepted);
                Tunnel decrypting = decrypting(factories, server, limits);
                Socket silent = new Socket(LOOPBACK, decrypting.port())) {
            long start = System.nanoTime();
            silent.setSoTimeout(20_000);
            assertThrows(SocketException.class, () -> silent.getInputStream().read());
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            assertTrue(seconds < 15, "closed after " + seconds + " s");
            waitFor(() -> logText.toString()
                    .contains(mode.equals("tls") ? "failed: no handshake within 1 s" : "failed: no token within 1 s"));
            assertEquals(0, accepted.size(), "the target saw a connection from a peer that proved no key");
        }
    }

    @Test
    void fernetTokensModeConnectsToTheTargetOnlyAfterTheFirstToken() throws Exception {
        Factories factories = Factories.of("fernet-tokens", newKey());
        BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        try (ServerSocket server = backend(accepted);
                Tunnel decrypting = decrypting(factories, server, Tunnel.Limits.defaults());
                Socket client = factories.client().createSocket(LOOPBACK, decrypting.port())) {
            assertEquals(null, accepted.poll(500, TimeUnit.MILLISECONDS), "connected before any token");
            client.getOutputStream().write("first".getBytes(UTF_8));
            Socket behind = accepted.poll(20, TimeUnit.SECONDS);
            assertEquals("first", new String(behind.getInputStream().readNBytes(5), UTF_8));
            behind.close();
        }
    }

    @Test
    void fernetTokensModeClosesGarbageAtOnceWithoutConnecting() throws Exception {
        Factories factories = Factories.of("fernet-tokens", newKey());
        BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        try (ServerSocket server = backend(accepted);
                Tunnel decrypting = decrypting(
                        factories,
                        server,
                        Tunnel.Limits.defaults().withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(10), null));
                Socket garbage = new Socket(LOOPBACK, decrypting.port())) {
            garbage.getOutputStream().write("not a token\n".getBytes(UTF_8));
            garbage.setSoTimeout(20_000); // far less than the 60 s deadline, or the read times out and the test fails
            assertThrows(SocketException.class, () -> garbage.getInputStream().read());
            waitFor(() -> logText.toString().contains("rejected"));
            assertEquals(0, accepted.size(), "the target saw a connection from a peer that proved no key");
        }
    }

    @Test
    void idleTimeoutEndsAQuietPairAsAFailure() throws Exception {
        SecretKey key = newKey();
        BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        Tunnel.Limits limits = Tunnel.Limits.defaults()
                .withTimeouts(
                        Tunnel.Limits.DEFAULT_HANDSHAKE_TIMEOUT,
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(2)); // 2 s: room for a loaded machine before the first byte
        try (ServerSocket server = backend(accepted);
                Tunnel decrypting = Tunnel.start(
                        any(),
                        new FernetServerSocketFactory(key),
                        Tunnel.Gate.HANDSHAKE,
                        at(server),
                        SocketFactory.getDefault(),
                        limits,
                        log);
                Socket client = new FernetSocketFactory(key).createSocket(LOOPBACK, decrypting.port())) {
            client.getOutputStream().write("x".getBytes(UTF_8));
            Socket behind = accepted.poll(20, TimeUnit.SECONDS);
            assertEquals('x', behind.getInputStream().read());
            readUntilFailure(behind, 0);
            readUntilFailure(client, 0);
            waitFor(() -> logText.toString().contains("failed: idle for 2 s"));
        }
    }

    @Test
    void ipv6PeersAreCountedAndLimitedPerSlash64() throws Exception {
        InetAddress host = InetAddress.getByName("2001:db8:1:2::1");
        assertEquals(
                TunnelSlots.sourceKey(host), TunnelSlots.sourceKey(InetAddress.getByName("2001:db8:1:2:ffff:1:2:3")));
        assertTrue(
                !TunnelSlots.sourceKey(host).equals(TunnelSlots.sourceKey(InetAddress.getByName("2001:db8:1:3::1"))));
        InetAddress v4 = InetAddress.getByName("192.0.2.7");
        assertEquals(v4, TunnelSlots.sourceKey(v4));
    }

    @Test
    void logLinesAboutStrangersAreCappedInAllNotOnlyPerAddress() throws Exception {
        LogLimiter limiter = new LogLimiter();
        int allowed = 0;
        for (int host = 0; host < 200; host++) {
            InetAddress address = InetAddress.getByAddress(new byte[] {10, 0, (byte) (host >> 8), (byte) host});
            for (int line = 0; line < LogLimiter.LINES_PER_ADDRESS; line++) {
                allowed += limiter.allow(address) ? 1 : 0;
            }
        }
        assertEquals(LogLimiter.MAX_LINES, allowed);
        long[] reported = new long[1];
        limiter.drain((source, count) -> reported[0] += count);
        assertEquals(200L * LogLimiter.LINES_PER_ADDRESS - LogLimiter.MAX_LINES, reported[0]);
    }

    /** A cancelled deadline used to keep its connection reachable until the deadline would have come. */
    @Test
    void endedConnectionsLeaveNoTimerBehind() throws Exception {
        Factories factories = Factories.of("tls", newKey());
        try (ServerSocket server = reversingServer();
                Tunnel decrypting = decrypting(
                        factories,
                        server,
                        Tunnel.Limits.defaults()
                                .withTimeouts(
                                        Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(600)))) {
            for (int i = 0; i < 20; i++) {
                try (Socket garbage = new Socket(LOOPBACK, decrypting.port())) {
                    garbage.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(UTF_8));
                    garbage.setSoTimeout(20_000);
                    try {
                        garbage.getInputStream().readAllBytes(); // a TLS alert, then the end
                    } catch (SocketException reset) {
                        // or a reset: either way the tunnel is done with it
                    }
                }
            }
            waitFor(() -> decrypting.activeConnections() == 0);
            assertEquals(0, decrypting.scheduledTimers(), "ended connections are still held by their timers");
        }
    }

    @Test
    void failuresOfPeersWithoutTheKeyAreLoggedAFewTimesPerAddressThenCounted() throws Exception {
        Factories factories = Factories.of("fernet-tokens", newKey());
        int attempts = LogLimiter.LINES_PER_ADDRESS + 7;
        try (ServerSocket server = reversingServer();
                Tunnel decrypting = decrypting(factories, server, Tunnel.Limits.defaults())) {
            for (int i = 0; i < attempts; i++) {
                try (Socket garbage = new Socket(LOOPBACK, decrypting.port())) {
                    garbage.getOutputStream().write("x\n".getBytes(UTF_8));
                    garbage.setSoTimeout(20_000);
                    assertThrows(
                            IOException.class, () -> garbage.getInputStream().read());
                }
            }
            waitFor(() -> decrypting.activeConnections() == 0);
        }
        String lines = logText.toString();
        assertEquals(
                LogLimiter.LINES_PER_ADDRESS,
                lines.lines().filter(line -> line.contains(" failed: ")).count(),
                lines);
        assertTrue(lines.contains(" 7 more lines about 127.0.0.1 not logged in the last 60 s"), lines);
    }

    @Test
    void aTargetThatRefusesIsNamedAndTheClientIsReset() throws Exception {
        int closedPort;
        try (ServerSocket gone = new ServerSocket(0, 1, LOOPBACK)) {
            closedPort = gone.getLocalPort();
        }
        try (Tunnel plain = Tunnel.start(
                        any(),
                        ServerSocketFactory.getDefault(),
                        new InetSocketAddress(LOOPBACK, closedPort),
                        SocketFactory.getDefault(),
                        8,
                        log);
                Socket client = new Socket(LOOPBACK, plain.port())) {
            readUntilFailure(client, 0);
            waitFor(() -> logText.toString().contains("failed: target refused the connection"));
        }
    }

    /** Runs {@code fernet tunnel ARGS} that must fail before listening; returns standard error. */
    private static String tunnelUsageError(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = "tunnel";
        System.arraycopy(args, 0, all, 1, args.length);
        int status = Main.run(all, InputStream.nullInputStream(), new PrintStream(out), new PrintStream(err), Map.of());
        String text = err.toString(UTF_8);
        assertEquals(Main.USAGE, status, text);
        return text;
    }

    @Test
    void tunnelOptionsNameWhatTheyExpectAndNeverRepeatTheValue() throws Exception {
        String pasted = Base64.getUrlEncoder().encodeToString(newKey().getEncoded());
        String[][] cases = {
            {"--ttl", pasted, "--ttl applies to fernet-tokens mode only"},
            {"--mode", pasted, "--mode must be tls or fernet-tokens"},
            {"--max-connections", pasted, "--max-connections takes a whole number from 1 to"},
            {"--max-pending", pasted, "--max-pending takes a whole number from 1 to"},
            {"--max-pending-per-address", pasted, "--max-pending-per-address takes a whole number from 1 to"},
            {"--handshake-timeout", pasted, "--handshake-timeout takes a whole number from 1 to"},
            {"--connect-timeout", pasted, "--connect-timeout takes a whole number from 1 to"},
            {"--idle-timeout", pasted, "--idle-timeout takes a whole number from 1 to"},
            {"--idle-timeout", "0", "--idle-timeout takes a whole number from 1 to"},
        };
        for (String[] option : cases) {
            String err = tunnelUsageError(
                    "--listen", "127.0.0.1:0", "--connect", "127.0.0.1:1", "--decrypt", option[0], option[1]);
            assertTrue(err.contains(option[2]), err);
            assertTrue(!err.contains(pasted), "the message repeats the value: " + err);
        }
        String err = tunnelUsageError("--listen", "127.0.0.1:0", "--connect", pasted, "--decrypt");
        assertTrue(err.contains("--connect expects HOST:PORT"), err);
        assertTrue(!err.contains(pasted), "the message repeats the value: " + err);
        assertTrue(tunnelUsageError(
                        "--listen",
                        "127.0.0.1:0",
                        "--connect",
                        "ttl-in-fernet-tokens:1",
                        "--decrypt",
                        "--mode",
                        "fernet-tokens",
                        "--ttl",
                        "-5")
                .contains("--ttl takes a whole number from 1 to"));
    }

    @Test
    void aConnectHostThatDoesNotResolveFailsAtStart() {
        String err = tunnelUsageError("--listen", "127.0.0.1:0", "--connect", "no-such-host.invalid:5432", "--decrypt");
        assertTrue(err.contains("--connect has a host that does not resolve"), err);
    }

    private interface Condition {
        boolean holds();
    }

    private static void waitFor(Condition condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.holds()) {
            assertTrue(System.nanoTime() < deadline, "condition not reached in 10 s");
            Thread.sleep(10);
        }
    }
}
