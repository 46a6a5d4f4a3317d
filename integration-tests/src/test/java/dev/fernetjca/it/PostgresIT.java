package dev.fernetjca.it;

import static dev.fernetjca.testing.KeyFiles.flag;
import static dev.fernetjca.testing.Relay.contains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.it.db.JdbcClient;
import dev.fernetjca.testing.KeyFiles;
import dev.fernetjca.testing.Processes;
import dev.fernetjca.testing.Processes.Result;
import dev.fernetjca.testing.Relay;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real PostgreSQL behind {@code fernet tunnel --decrypt}, and pgjdbc reaching it through
 * {@code socketFactory=dev.fernetjca.net.FernetSocketFactory}, as docs/guides/jdbc.md sets it up.
 *
 * <p>The JDBC client runs in a child JVM ({@link JdbcClient}) whose only fernet-jca configuration is
 * {@code -Dfernet.keyFile}: pgjdbc creates the factory by class name, so its keys can come from nowhere else, and this
 * JVM's system properties stay untouched. PostgreSQL runs as a child process too; see {@link PostgresServer} for how
 * it runs when the tests run as root.
 */
@Timeout(300)
class PostgresIT {
    private static final int ROWS = 5000;

    @TempDir
    static Path serverDir;

    private static PostgresServer postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = PostgresServer.start(serverDir);
    }

    @AfterAll
    static void stopPostgres() {
        if (postgres != null) {
            postgres.close();
        }
    }

    /** The URL of docs/guides/jdbc.md. */
    private static String url(int port) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres"
                + "?socketFactory=dev.fernetjca.net.FernetSocketFactory&sslmode=disable";
    }

    private Result jdbc(Path keyFile, String url, String... args) throws Exception {
        String[] all = new String[args.length + 1];
        all[0] = url;
        System.arraycopy(args, 0, all, 1, args.length);
        List<String> options = keyFile == null ? List.of() : List.of(flag(keyFile));
        return Processes.run(
                Processes.java(System.getProperty("java.class.path"), options, JdbcClient.class, all),
                new byte[0],
                Processes.CHILD_TIMEOUT);
    }

    /** The client's {@code failure: CLASS: MESSAGE} lines, the exception first, then its causes. */
    private static List<String> failures(String stderr) {
        List<String> lines =
                stderr.lines().filter(line -> line.startsWith("failure: ")).collect(Collectors.toList());
        assertFalse(lines.isEmpty(), stderr);
        return lines;
    }

    @Test
    void rowsGoThroughTheTunnelAndNoSqlCrossesTheWire() throws Exception {
        Path keyFile = KeyFiles.newKeyFile(dir, "fernet.key");
        try (TunnelProcess tunnel = TunnelProcess.decryptingTo(postgres.port(), keyFile);
                Relay relay = Relay.to(tunnel.port())) {
            Result result = jdbc(keyFile, url(relay.port()), "ledger", String.valueOf(ROWS));
            assertEquals(0, result.status(), result.stderr());
            long amounts = 0;
            for (int i = 1; i <= ROWS; i++) {
                amounts += i * 37L % 1000;
            }
            long ids = (long) ROWS * (ROWS + 1) / 2;
            assertTrue(
                    result.stdout()
                            .contains("rows=" + ROWS + " ids=" + ids + " amounts=" + amounts
                                    + " label=ledger-entry-00042\n"),
                    result.stdout());
            assertTrue(result.stdout().contains("version=PostgreSQL 14."), result.stdout());

            String line = tunnel.connectionLine(1);
            assertTrue(line.endsWith("closed cleanly"), line);

            // the capture between the client and the tunnel: TLS records, thousands of rows' worth, none of it legible
            assertEquals(1, relay.connections());
            byte[] request = relay.connection(0).upstream();
            byte[] response = relay.connection(0).downstream();
            assertTrue(request.length > ROWS * 18, "the rows did not go through the relay: " + request.length + " B");
            assertEquals(0x16, request[0], "the client's first record is not a TLS handshake record");
            assertEquals(0x03, request[1]);
            assertEquals(0x16, response[0], "the server's first record is not a TLS handshake record");
            for (String clear : List.of(
                    "CREATE TABLE",
                    "INSERT",
                    "SELECT",
                    "fernet_ledger",
                    "ledger-entry",
                    "version",
                    "postgres",
                    "PostgreSQL",
                    "user",
                    "database",
                    "client_encoding")) {
                assertFalse(contains(request, clear), "the client sent " + clear + " in clear");
                assertFalse(contains(response, clear), "the server sent " + clear + " in clear");
            }
        }
    }

    @Test
    void clientWithAnotherKeyIsRefusedAndTheTunnelKeepsServing() throws Exception {
        Path serverKey = KeyFiles.newKeyFile(dir, "server.key");
        Path otherKey = KeyFiles.newKeyFile(dir, "other.key");
        try (TunnelProcess tunnel = TunnelProcess.decryptingTo(postgres.port(), serverKey)) {
            Result stranger = jdbc(otherKey, url(tunnel.port()), "ping");
            assertEquals(1, stranger.status(), stranger.stdout());
            assertEquals("", stranger.stdout());
            // the SQLException pgjdbc throws, and in its cause chain our handshake failure
            List<String> chain = failures(stranger.stderr());
            assertTrue(chain.get(0).startsWith("failure: org.postgresql.util.PSQLException: "), stranger.stderr());
            assertTrue(
                    chain.stream()
                            .anyMatch(cause -> cause.startsWith("failure: javax.net.ssl.SSLHandshakeException: ")
                                    && cause.contains("does not hold a matching Fernet key")),
                    stranger.stderr());
            String otherKeyString = Files.readString(otherKey).trim();
            assertFalse(stranger.stderr().contains(otherKeyString), "the client's key is in its error output");
            assertTrue(tunnel.connectionLine(1).contains(" failed: "), tunnel.connectionLine(1));

            // pgjdbc without the socket factory: its plaintext startup message is no TLS handshake
            Result plain =
                    jdbc(null, "jdbc:postgresql://127.0.0.1:" + tunnel.port() + "/postgres?sslmode=disable", "ping");
            assertEquals(1, plain.status(), plain.stdout());
            assertTrue(
                    failures(plain.stderr()).get(0).startsWith("failure: org.postgresql.util.PSQLException: "),
                    plain.stderr());
            assertTrue(tunnel.connectionLine(2).contains(" failed: "), tunnel.connectionLine(2));

            Result friend = jdbc(serverKey, url(tunnel.port()), "ping");
            assertEquals(0, friend.status(), friend.stderr());
            assertEquals("ping=1\n", friend.stdout());
            assertTrue(tunnel.connectionLine(3).endsWith("closed cleanly"), tunnel.connectionLine(3));
            assertTrue(tunnel.isAlive(), "the tunnel died");
            assertTrue(postgres.isAlive(), "postgres died");
        }
    }

    /** The URL of docs/guides/jdbc.md's "Two databases, two keys": the key file named by socketFactoryArg. */
    private static String url(int port, Path keyFile) {
        return url(port) + "&socketFactoryArg=" + URLEncoder.encode(keyFile.toString(), StandardCharsets.UTF_8);
    }

    @Test
    void twoDatabasesInOneJvmUseTheTwoKeysTheirUrlsName() throws Exception {
        Path firstKey = KeyFiles.newKeyFile(dir, "first.key");
        Path secondKey = KeyFiles.newKeyFile(dir, "second.key");
        try (TunnelProcess first = TunnelProcess.decryptingTo(postgres.port(), firstKey);
                TunnelProcess second = TunnelProcess.decryptingTo(postgres.port(), secondKey)) {
            // no fernet.keyFile in the client JVM: each connection's key comes from its own URL
            Result both = jdbc(null, url(first.port(), firstKey), "ping", url(second.port(), secondKey));
            assertEquals(0, both.status(), both.stderr());
            assertEquals("ping=1\nping=1\n", both.stdout());
            assertTrue(first.connectionLine(1).endsWith("closed cleanly"), first.connectionLine(1));
            assertTrue(second.connectionLine(1).endsWith("closed cleanly"), second.connectionLine(1));

            // the first database's key does not open the second
            Result crossed = jdbc(null, url(first.port(), firstKey), "ping", url(second.port(), firstKey));
            assertEquals(1, crossed.status(), crossed.stdout());
            assertEquals("ping=1\n", crossed.stdout());
            assertTrue(
                    failures(crossed.stderr()).stream()
                            .anyMatch(cause -> cause.contains("does not hold a matching Fernet key")),
                    crossed.stderr());
        }
    }
}
