package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fernetjca.testing.EchoServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Factories built from the configuration follow their key file while they run: an edit, a replace-by-rename, a
 * Kubernetes {@code ..data} symlink swap; a file that cannot be used leaves the keys in force; mounted-secret modes
 * with {@code fernet.keyFile.permissions=readable}. Each factory here is given its environment, so nothing is set for
 * the JVM.
 */
class KeyWatchTest {
    @TempDir
    Path dir;

    private final SecretKey oldKey = newKey();
    private final SecretKey newKey = newKey();
    private final Map<String, String> environment = new HashMap<>();
    private final List<String> secrets = new ArrayList<>();
    private final List<String> logged = new ArrayList<>();
    private final List<Logger> loggers =
            List.of(Logger.getLogger(KeyWatch.class.getName()), Logger.getLogger(KeySource.class.getName()));
    private final Handler capture = new Handler() {
        private final SimpleFormatter formatter = new SimpleFormatter();

        @Override
        public synchronized void publish(LogRecord record) {
            logged.add(record.getLevel() + " " + formatter.formatMessage(record));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void setUp() {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "no POSIX permissions");
        loggers.forEach(logger -> {
            logger.setLevel(Level.ALL);
            logger.addHandler(capture);
        });
        secrets.add(text(oldKey));
        secrets.add(text(newKey));
        environment.put("FERNET_KEY_FILE_REFRESH", "0");
    }

    @AfterEach
    void noKeyInTheLog() {
        loggers.forEach(logger -> logger.removeHandler(capture));
        synchronized (capture) {
            for (String line : logged) {
                for (String secret : secrets) {
                    assertFalse(line.contains(secret.substring(0, 20)), () -> "a key in the log: " + line);
                }
            }
        }
    }

    @Test
    void editedKeyFileAppliesToNewConnectionsAndEstablishedOnesStayUp() throws Exception {
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        environment.put("FERNET_KEY_FILE", keyFile.toString());
        try (Echo server = echo(FernetServerSocketFactory.configured(
                environment, FernetSocketOptions.fromConfiguration())::createServerSocket)) {
            Socket established = connect(server, oldKey);
            assertEcho(established);

            Files.writeString(keyFile, text(newKey) + "\n"); // in place, as an editor without a backup does

            assertEcho(connect(server, newKey));
            assertRefused(server, oldKey);
            assertEcho(established);
            established.close();
        }
        assertEquals(1, count("INFO keys reloaded from key file " + keyFile));
    }

    @Test
    void defaultFactoryIsSharedUntilItsKeyFileOrASettingChanges() throws Exception {
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        environment.put("FERNET_KEY_FILE", keyFile.toString());
        Lookup lookup = Lookup.withEnvironment(environment);
        FernetSocketFactory first = FernetSocketFactory.shared(lookup);
        assertSame(first, FernetSocketFactory.shared(lookup), "read and derived again with nothing changed");

        Files.writeString(keyFile, text(newKey) + "\n");
        FernetSocketFactory afterEdit = FernetSocketFactory.shared(lookup);
        assertNotSame(first, afterEdit);
        try (Echo server = echo(SocketTestSupport.serverFactory(newKey, Duration.ofSeconds(10))::createServerSocket)) {
            assertEcho(opened(afterEdit.createSocket(LOOPBACK, server.port())));
        }
        assertSame(afterEdit, FernetSocketFactory.shared(lookup));

        environment.put("FERNET_HANDSHAKE_TIMEOUT", "5000");
        assertNotSame(afterEdit, FernetSocketFactory.shared(Lookup.withEnvironment(environment)));
    }

    @Test
    void defaultFactoryOfInlineKeysIsMadeAnew() {
        environment.put("FERNET_KEY", text(oldKey));
        Lookup lookup = Lookup.withEnvironment(environment);
        assertNotSame(FernetSocketFactory.shared(lookup), FernetSocketFactory.shared(lookup));
    }

    @Test
    void replaceByRenameIsSeen() throws Exception {
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        environment.put("FERNET_KEY_FILE", keyFile.toString());
        try (Echo server = echo(FernetServerSocketFactory.configured(
                environment, FernetSocketOptions.fromConfiguration())::createServerSocket)) {
            assertEcho(connect(server, oldKey));
            // what Vault Agent and the Secrets Store CSI driver do: write a new file, rename it over the old one
            Path next = keyFile(dir.resolve(".fernet.key.tmp"), oldKey, newKey);
            Files.move(next, keyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            assertEcho(connect(server, newKey));
            assertEcho(connect(server, oldKey)); // the staged convention: the old key decrypts until dropped
        }
    }

    @Test
    void kubernetesSymlinkSwapIsSeen() throws Exception {
        Path mount = Files.createDirectory(dir.resolve("secret"));
        keyFile(Files.createDirectory(mount.resolve("..2026_11_30_01")).resolve("key"), oldKey);
        Files.createSymbolicLink(mount.resolve("..data"), Path.of("..2026_11_30_01"));
        Files.createSymbolicLink(mount.resolve("key"), Path.of("..data/key"));
        environment.put("FERNET_KEY_FILE", mount.resolve("key").toString());
        FernetSocketFactory client =
                FernetSocketFactory.configured(environment, FernetSocketOptions.fromConfiguration());
        try (Echo oldServer =
                        echo(SocketTestSupport.serverFactory(oldKey, Duration.ofSeconds(10))::createServerSocket);
                Echo newServer =
                        echo(SocketTestSupport.serverFactory(newKey, Duration.ofSeconds(10))::createServerSocket)) {
            assertEcho(opened(client.createSocket(LOOPBACK, oldServer.port())));

            swap(mount, "..2026_11_30_02", newKey);

            assertEcho(opened(client.createSocket(LOOPBACK, newServer.port())));
            Socket refused = opened(client.createSocket(LOOPBACK, oldServer.port()));
            assertThrows(IOException.class, () -> FernetSocketFactory.handshake(refused));
        }
    }

    @Test
    void unusableNewFileKeepsTheKeysInForceAndLogsOneError() throws Exception {
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        environment.put("FERNET_KEY_FILE", keyFile.toString());
        try (Echo server = echo(FernetServerSocketFactory.configured(
                environment, FernetSocketOptions.fromConfiguration())::createServerSocket)) {
            String half = text(newKey).substring(0, 30);
            Files.writeString(keyFile, half + "\n"); // a key cut short: a bad line
            assertEcho(connect(server, oldKey));
            assertEcho(connect(server, oldKey));
            assertEquals(
                    1,
                    count("SEVERE key file " + keyFile + " changed but cannot be used, so the keys read before"
                            + " stay in force: key file " + keyFile + " line 1: "),
                    () -> String.join("\n", logged));

            Files.writeString(keyFile, text(newKey) + "\n");
            Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
            assertEcho(connect(server, oldKey));
            assertEquals(1, count("has permissions rw-r--r--, open to group or others"));

            Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
            assertEcho(connect(server, newKey));
            assertRefused(server, oldKey);
        }
    }

    @Test
    void refreshIntervalBoundsTheChecksAndReloadKeysReadsAtOnce() throws Exception {
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        environment.put("FERNET_KEY_FILE", keyFile.toString());
        environment.put("FERNET_KEY_FILE_REFRESH", "3600");
        FernetServerSocketFactory factory =
                FernetServerSocketFactory.configured(environment, FernetSocketOptions.fromConfiguration());
        try (Echo server = echo(factory::createServerSocket)) {
            Files.writeString(keyFile, text(newKey) + "\n");
            assertEcho(connect(server, oldKey)); // not looked at for an hour
            assertTrue(factory.reloadKeys()); // what the tunnel does on SIGHUP
            assertEcho(connect(server, newKey));
            assertRefused(server, oldKey);
        }
    }

    /** What the Java agent and RMI exports use: the no-argument constructors, configured by system properties. */
    @Test
    void rmiServerFactoryConfiguredBySystemPropertiesFollowsItsKeyFile() throws Exception {
        assumeTrue(
                System.getProperty(KeySource.KEY_FILE) == null && System.getProperty(KeyWatch.REFRESH_PROPERTY) == null,
                "a key file is configured for this JVM");
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        System.setProperty(KeySource.KEY_FILE, keyFile.toString());
        System.setProperty(KeyWatch.REFRESH_PROPERTY, "0");
        try {
            FernetRMIServerSocketFactory rmi = new FernetRMIServerSocketFactory();
            try (Echo server = echo((port, backlog, address) -> rmi.createServerSocket(0))) {
                assertEcho(connect(server, oldKey));
                Files.writeString(keyFile, text(newKey) + "\n");
                assertEcho(connect(server, newKey));
                assertRefused(server, oldKey);
            }
        } finally {
            System.clearProperty(KeySource.KEY_FILE);
            System.clearProperty(KeyWatch.REFRESH_PROPERTY);
        }
    }

    @Test
    void factoriesWithAKeyInCodeOrInlineKeysWatchNothing() {
        assertFalse(new FernetServerSocketFactory(oldKey).reloadKeys());
        assertFalse(new FernetSocketFactory(oldKey).reloadKeys());
        assertFalse(FernetSocketFactory.configured(
                        Map.of("FERNET_KEY", text(oldKey)), FernetSocketOptions.fromConfiguration())
                .reloadKeys());
    }

    @Test
    void refreshMustBeAWholeNumberOfSeconds() {
        environment.put("FERNET_KEY", text(oldKey));
        environment.put("FERNET_KEY_FILE_REFRESH", "1.5");
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> FernetSocketFactory.configured(environment, FernetSocketOptions.fromConfiguration()));
        assertEquals(
                "fernet.keyFile.refresh (or FERNET_KEY_FILE_REFRESH) must be a whole number of seconds,"
                        + " 0 to 999999999",
                e.getMessage());
    }

    // ---- mounted secrets

    /** Kubernetes Secret volumes (0644; 0440 with fsGroup) and Docker secrets (0444). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rw-r--r--", "r--r-----", "r--r--r--"})
    void readableSettingAcceptsMountedSecretModes(String permissions) throws Exception {
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString(permissions));
        environment.put("FERNET_KEY_FILE", keyFile.toString());
        IllegalStateException strict = assertThrows(
                IllegalStateException.class,
                () -> FernetServerSocketFactory.configured(environment, FernetSocketOptions.fromConfiguration()));
        assertTrue(strict.getMessage().contains("open to group or others"), strict.getMessage());

        environment.put("FERNET_KEY_FILE_PERMISSIONS", "readable");
        try (Echo server = echo(FernetServerSocketFactory.configured(
                environment, FernetSocketOptions.fromConfiguration())::createServerSocket)) {
            assertEcho(connect(server, oldKey));
        }
    }

    @Test
    void readableSettingStillRefusesAFileOthersMayWrite() throws IOException {
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-rw-r--"));
        environment.put("FERNET_KEY_FILE", keyFile.toString());
        environment.put("FERNET_KEY_FILE_PERMISSIONS", "readable");
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> FernetServerSocketFactory.configured(environment, FernetSocketOptions.fromConfiguration()));
        assertTrue(e.getMessage().contains("writable by group or others"), e.getMessage());
    }

    @Test
    void permissionsSettingIsStrictOrReadable() throws IOException {
        environment.put(
                "FERNET_KEY_FILE", keyFile(dir.resolve("fernet.key"), oldKey).toString());
        environment.put("FERNET_KEY_FILE_PERMISSIONS", "world");
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> FernetServerSocketFactory.configured(environment, FernetSocketOptions.fromConfiguration()));
        assertEquals("environment variable FERNET_KEY_FILE_PERMISSIONS must be strict or readable", e.getMessage());
        environment.put("FERNET_KEY_FILE_PERMISSIONS", "strict");
        assertEquals(
                "FernetServerSocketFactory[1 key]",
                FernetServerSocketFactory.configured(environment, FernetSocketOptions.fromConfiguration())
                        .toString());
    }

    /**
     * systemd's {@code LoadCredential=}: a 0400 file in {@code $CREDENTIALS_DIRECTORY}, owned by root for a service
     * that runs as root, else by the service's user; the strict default reads it as it is.
     */
    @Test
    void systemdCredentialWorksAsItIs() throws Exception {
        Path credentials = Files.createDirectory(dir.resolve("credentials"));
        Path keyFile = keyFile(dir.resolve("fernet.key"), oldKey);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("r--------"));
        Files.move(keyFile, credentials.resolve("fernet.key"));
        // as systemd leaves it: the directory closed for writing once the credential is in it (a normal user could
        // not have moved the file into it otherwise)
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("r-x------"));
        Path credential = credentials.resolve("fernet.key");
        assertEquals(Files.getAttribute(dir, "unix:uid"), Files.getAttribute(credential, "unix:uid"));
        environment.put("FERNET_KEY_FILE", credential.toString());
        try (Echo server = echo(FernetServerSocketFactory.configured(
                environment, FernetSocketOptions.fromConfiguration())::createServerSocket)) {
            assertEcho(connect(server, oldKey));
        }
    }

    // ---- helpers

    private final List<Socket> opened = new ArrayList<>();

    private Socket opened(Socket socket) {
        opened.add(socket);
        return socket;
    }

    private Echo echo(EchoServer.Listener factory) throws IOException {
        return new Echo(new EchoServer(factory));
    }

    /** An echo server that closes the test's client sockets first, so that its threads end at once. */
    private final class Echo implements AutoCloseable {
        private final EchoServer server;

        Echo(EchoServer server) {
            this.server = server;
        }

        int port() {
            return server.port();
        }

        @Override
        public void close() throws Exception {
            for (Socket socket : opened) {
                socket.close();
            }
            server.close();
        }
    }

    /** Replaces the {@code ..data} link of a Kubernetes-style mount by a new directory, atomically, as kubelet does. */
    static void swap(Path mount, String version, SecretKey... keys) throws IOException {
        keyFile(Files.createDirectory(mount.resolve(version)).resolve("key"), keys);
        Path next = Files.createSymbolicLink(mount.resolve("..data_tmp"), Path.of(version));
        Files.move(next, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static Path keyFile(Path file, SecretKey... keys) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        StringBuilder text = new StringBuilder();
        for (SecretKey key : keys) {
            text.append(text(key)).append('\n');
        }
        Files.writeString(file, text);
        return file;
    }

    static String text(SecretKey key) {
        return Base64.getUrlEncoder().encodeToString(key.getEncoded());
    }

    private Socket connect(Echo server, SecretKey key) throws IOException {
        return opened(
                SocketTestSupport.clientFactory(key, Duration.ofSeconds(10)).createSocket(LOOPBACK, server.port()));
    }

    private void assertRefused(Echo server, SecretKey key) throws IOException {
        try (Socket socket = connect(server, key)) {
            assertThrows(IOException.class, () -> FernetSocketFactory.handshake(socket));
        }
    }

    /** Sends a line and reads it back, leaving the connection open. */
    private static void assertEcho(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        byte[] sent = ("ping " + System.nanoTime() + "\n").getBytes(StandardCharsets.US_ASCII);
        OutputStream out = socket.getOutputStream();
        out.write(sent);
        out.flush();
        InputStream in = socket.getInputStream();
        assertArrayEquals(sent, in.readNBytes(sent.length));
    }

    private long count(String prefix) {
        synchronized (capture) {
            return logged.stream().filter(line -> line.contains(prefix)).count();
        }
    }
}
