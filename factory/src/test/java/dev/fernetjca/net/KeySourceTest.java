package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fernetjca.provider.FernetKeyRing;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class KeySourceTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String PASSWORD = "keystore-Passw0rd-canary";

    @TempDir
    Path dir;

    private final Map<String, String> systemProperties = new HashMap<>();
    private final Map<String, String> securityProperties = new HashMap<>();
    private final Map<String, String> environment = new HashMap<>();
    /** Every key string and password a test used, for the canary checks. */
    private final List<String> secrets = new ArrayList<>();
    /** Every exception message and toString met. */
    private final List<String> seen = new ArrayList<>();

    private final Logger julLogger = Logger.getLogger(KeySource.class.getName());
    private final List<String> logged = new ArrayList<>();
    private final Handler capture = new Handler() {
        private final SimpleFormatter formatter = new SimpleFormatter();

        @Override
        public void publish(LogRecord record) {
            logged.add(formatter.formatMessage(record));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private Level previousLevel;

    @BeforeEach
    void captureLog() {
        previousLevel = julLogger.getLevel();
        julLogger.setLevel(Level.ALL);
        julLogger.addHandler(capture);
        secrets.add(PASSWORD);
    }

    @AfterEach
    void noSecretInAnyMessageToStringOrLog() {
        julLogger.removeHandler(capture);
        julLogger.setLevel(previousLevel);
        List<String> everything = new ArrayList<>(seen);
        everything.addAll(logged);
        for (String text : everything) {
            for (String secret : secrets) {
                assertFalse(text.contains(secret), () -> "a secret leaked into: " + text);
                // a key's base64 without padding, or its halves, would leak as much
                assertFalse(text.contains(secret.substring(0, secret.length() / 2)), () -> "half a secret in: " + text);
            }
        }
    }

    // ---- sources and precedence

    @Test
    void readsInlineKeyFromSystemProperty() {
        byte[] raw = rawKey();
        systemProperties.put("fernet.key", encode(raw));
        assertRing(load(), raw);
    }

    @Test
    void readsInlineKeyFromSecurityProperty() {
        byte[] raw = rawKey();
        securityProperties.put("fernet.key", encode(raw));
        assertRing(load(), raw);
    }

    @Test
    void readsInlineKeysFromEnvironmentPrimaryFirst() {
        byte[] primary = rawKey();
        byte[] older = rawKey();
        byte[] oldest = rawKey();
        environment.put("FERNET_KEY", " " + encode(primary) + " ,\t" + encode(older) + "," + encode(oldest) + "\n");
        assertRing(load(), primary, older, oldest);
        assertTrue(logged.contains("3 keys from environment variable FERNET_KEY"), logged::toString);
    }

    @Test
    void systemPropertyBeatsSecurityPropertyBeatsEnvironment() {
        byte[] fromSystem = rawKey();
        byte[] fromSecurity = rawKey();
        byte[] fromEnvironment = rawKey();
        systemProperties.put("fernet.key", encode(fromSystem));
        securityProperties.put("fernet.key", encode(fromSecurity));
        environment.put("FERNET_KEY", encode(fromEnvironment));
        assertRing(load(), fromSystem);
        systemProperties.clear();
        assertRing(load(), fromSecurity);
        securityProperties.clear();
        assertRing(load(), fromEnvironment);
    }

    @Test
    void keyFileBeatsInlineKeyBeatsKeyStore() throws Exception {
        byte[] inFile = rawKey();
        byte[] inline = rawKey();
        byte[] inStore = rawKey();
        // the key file from the environment still wins over an inline key from a system property
        environment.put("FERNET_KEY_FILE", keyFile(encode(inFile) + "\n").toString());
        systemProperties.put("fernet.key", encode(inline));
        configureKeyStore(keyStore("PKCS12", "fernet", new SecretKeySpec(inStore, "HmacSHA256")), "fernet");
        assertRing(load(), inFile);
        assertTrue(
                logged.contains("system property fernet.key is ignored: environment variable FERNET_KEY_FILE"
                        + " takes precedence"),
                logged::toString);
        environment.remove("FERNET_KEY_FILE");
        logged.clear();
        assertRing(load(), inline);
        assertTrue(
                logged.contains("environment variable FERNET_KEYSTORE is ignored: system property fernet.key"
                        + " takes precedence"),
                logged::toString);
        systemProperties.remove("fernet.key");
        assertRing(load(), inStore);
    }

    @Test
    void blankValueCountsAsNotSet() {
        byte[] raw = rawKey();
        systemProperties.put("fernet.key", "  ");
        systemProperties.put("fernet.keyFile", "");
        environment.put("FERNET_KEY", encode(raw));
        assertRing(load(), raw);
    }

    @Test
    void nothingConfiguredNamesEveryPropertyAndVariable() {
        environment.put("FERNET_KEYSTORE_PASSWORD", PASSWORD); // alone, it configures nothing
        String message = failure();
        for (String name : List.of(
                "fernet.keyFile",
                "fernet.key",
                "fernet.keyStore",
                "fernet.keyStoreType",
                "fernet.keyStorePassword",
                "fernet.keyAlias",
                "FERNET_KEY_FILE",
                "FERNET_KEY",
                "FERNET_KEYSTORE",
                "FERNET_KEYSTORE_TYPE",
                "FERNET_KEYSTORE_PASSWORD",
                "FERNET_KEY_ALIAS")) {
            assertTrue(message.contains(name), () -> message + " does not name " + name);
        }
        assertTrue(message.contains("system or security property"), message);
        assertTrue(message.contains("environment variable"), message);
    }

    @Test
    void configuredReadsSystemProperties() {
        assumeTrue(System.getenv("FERNET_KEY_FILE") == null, "FERNET_KEY_FILE is set in this environment");
        assumeTrue(System.getProperty("fernet.keyFile") == null, "fernet.keyFile is set in this JVM");
        byte[] raw = rawKey();
        System.setProperty("fernet.key", encode(raw));
        try {
            assertRing(KeySource.configured(), raw);
        } finally {
            System.clearProperty("fernet.key");
        }
    }

    // ---- key file and inline keys: the format is FernetKeyRing's (FernetKeyRingFilesTest); here, the delegation

    @Test
    void readsKeyFileSkippingCommentsBlankLinesAndWhitespace() throws IOException {
        byte[] primary = rawKey();
        byte[] older = rawKey();
        Path file = keyFile("\uFEFF# fernet keys, newest first\r\n"
                + "\r\n"
                + "   " + encode(primary) + "  \t\r\n"
                + "  # rotated out 2024-05\n"
                + "\t\n"
                + encode(older)); // no final newline
        systemProperties.put("fernet.keyFile", file.toString());
        assertRing(load(), primary, older);
        assertTrue(
                logged.contains("2 keys from key file " + file + " (system property fernet.keyFile)"),
                logged::toString);
    }

    @Test
    void keyFileFailureNamesTheFileLineAndSetting() throws IOException {
        String good = encode(rawKey());
        String bad = spoil(encode(rawKey()), "standard alphabet");
        Path file = keyFile("# keys\n" + good + "\n\n" + bad + "\n" + good + "\n");
        systemProperties.put("fernet.keyFile", file.toString());
        assertEquals(
                "key file " + file + " line 4: a Fernet key must be url-safe base64"
                        + " (system property fernet.keyFile)",
                failure());
    }

    @Test
    void refusesKeyFileAccessibleToGroupOrOthers() throws IOException {
        assumeTrue(
                FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
                "this file system has no POSIX permissions; the check is skipped there");
        Path file = keyFile(encode(rawKey()) + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        environment.put("FERNET_KEY_FILE", file.toString());
        assertEquals(
                "key file " + file + " has permissions rw-r-----, open to group or others; restrict it with"
                        + " chmod 600 " + file + " (environment variable FERNET_KEY_FILE)",
                failure());
    }

    @Test
    void reportsMissingKeyFileByPathAndSetting() {
        Path missing = dir.resolve("absent.key");
        environment.put("FERNET_KEY_FILE", missing.toString());
        assertEquals("key file " + missing + " does not exist (environment variable FERNET_KEY_FILE)", failure());
    }

    @Test
    void reportsBadInlineKeyByPositionNotContent() {
        String bad = spoil(encode(rawKey()), "truncated");
        environment.put("FERNET_KEY", encode(rawKey()) + "," + bad);
        String message = failure();
        assertEquals(
                "environment variable FERNET_KEY entry 2: a Fernet key is 44 characters of url-safe base64,"
                        + " got 40",
                message);
        assertFalse(message.contains(bad), message);
    }

    @Test
    void refusesEmptyInlineKey() {
        systemProperties.put("fernet.key", encode(rawKey()) + ",");
        assertEquals("system property fernet.key entry 2 is empty", failure());
    }

    // ---- keystore

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"HmacSHA256", "AES"})
    void readsRawKeyFromPkcs12KeyStore(String algorithm) throws Exception {
        byte[] raw = rawKey();
        Path store = keyStore("PKCS12", "fernet-2024", new SecretKeySpec(raw, algorithm));
        configureKeyStore(store, "fernet-2024");
        assertRing(load(), raw);
        assertTrue(
                logged.contains("1 key from keystore " + store + " entry fernet-2024"
                        + " (environment variable FERNET_KEYSTORE)"),
                logged::toString);
    }

    @Test
    void readsKeyStringStoredAsKeytoolImportpassDoes() throws Exception {
        byte[] raw = rawKey();
        // keytool -importpass stores the typed text as a PBE key: its encoding is the 44 characters
        SecretKey text = SecretKeyFactory.getInstance("PBE")
                .generateSecret(new PBEKeySpec(encode(raw).toCharArray()));
        Path store = keyStore("PKCS12", "fernet", text);
        configureKeyStore(store, "fernet");
        assertRing(load(), raw);
    }

    @Test
    void readsKeyImportedWithKeytool() throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        assumeTrue(Files.isExecutable(keytool), "no keytool in this Java runtime");
        byte[] raw = rawKey();
        Path store = dir.resolve("keytool.p12");
        // as docs/configuration.md shows; keytool reads the key twice, from standard input when not a terminal
        Process process = new ProcessBuilder(
                        keytool.toString(),
                        "-importpass",
                        "-alias",
                        "fernet",
                        "-keystore",
                        store.toString(),
                        "-storetype",
                        "PKCS12",
                        "-storepass",
                        PASSWORD)
                .redirectErrorStream(true)
                .start();
        try (OutputStream in = process.getOutputStream()) {
            in.write((encode(raw) + "\n" + encode(raw) + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), output);
        configureKeyStore(store, "fernet");
        assertRing(load(), raw);
    }

    @Test
    void readsJceksKeyStoreWhenTypeIsGiven() throws Exception {
        byte[] raw = rawKey();
        Path store = keyStore("JCEKS", "fernet", new SecretKeySpec(raw, "AES"));
        configureKeyStore(store, "fernet");
        securityProperties.put("fernet.keyStoreType", "JCEKS");
        assertRing(load(), raw);
    }

    @Test
    void reportsWrongKeyStorePassword() throws Exception {
        Path store = keyStore("PKCS12", "fernet", new SecretKeySpec(rawKey(), "AES"));
        configureKeyStore(store, "fernet");
        String wrong = "not-the-Passw0rd-canary";
        secrets.add(wrong);
        systemProperties.put("fernet.keyStorePassword", wrong);
        assertEquals("keystore " + store + ": wrong password (system property fernet.keyStorePassword)", failure());
    }

    @Test
    void reportsMissingAlias() throws Exception {
        Path store = keyStore("PKCS12", "fernet", new SecretKeySpec(rawKey(), "AES"));
        configureKeyStore(store, "other");
        assertEquals("keystore " + store + " has no entry other", failure());
    }

    @Test
    void requiresAliasEvenForASingleEntry() throws Exception {
        Path store = keyStore("PKCS12", "fernet", new SecretKeySpec(rawKey(), "AES"));
        configureKeyStore(store, "fernet");
        environment.remove("FERNET_KEY_ALIAS");
        String message = failure();
        assertTrue(message.contains("fernet.keyAlias") && message.contains("FERNET_KEY_ALIAS"), message);
    }

    @Test
    void requiresKeyStorePassword() throws Exception {
        Path store = keyStore("PKCS12", "fernet", new SecretKeySpec(rawKey(), "AES"));
        configureKeyStore(store, "fernet");
        environment.remove("FERNET_KEYSTORE_PASSWORD");
        String message = failure();
        assertTrue(
                message.contains("fernet.keyStorePassword") && message.contains("FERNET_KEYSTORE_PASSWORD"), message);
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {16, 24, 64})
    void refusesKeyStoreEntryOfWrongLength(int length) throws Exception {
        byte[] wrongLength = new byte[length];
        RANDOM.nextBytes(wrongLength);
        Path store = keyStore("PKCS12", "fernet", new SecretKeySpec(wrongLength, "HmacSHA256"));
        configureKeyStore(store, "fernet");
        assertEquals(
                "keystore " + store + " entry fernet is " + length
                        + " bytes; a Fernet key entry holds 32 raw bytes or the 44-character key string",
                failure());
    }

    @Test
    void refusesFortyFourByteEntryThatIsNotAKeyString() throws Exception {
        String notAKey = spoil(encode(rawKey()), "standard alphabet");
        secrets.add(notAKey);
        SecretKey text = SecretKeyFactory.getInstance("PBE").generateSecret(new PBEKeySpec(notAKey.toCharArray()));
        Path store = keyStore("PKCS12", "fernet", text);
        configureKeyStore(store, "fernet");
        assertEquals("keystore " + store + " entry fernet is 44 bytes but not a Fernet key string", failure());
    }

    @Test
    void reportsMissingKeyStoreAndUnknownType() throws Exception {
        Path missing = dir.resolve("absent.p12");
        configureKeyStore(missing, "fernet");
        assertEquals("keystore " + missing + " does not exist (environment variable FERNET_KEYSTORE)", failure());
        Path store = keyStore("PKCS12", "fernet", new SecretKeySpec(rawKey(), "AES"));
        configureKeyStore(store, "fernet");
        environment.put("FERNET_KEYSTORE_TYPE", "NO-SUCH-TYPE");
        assertEquals("keystore type NO-SUCH-TYPE is not available", failure());
    }

    @Test
    void reportsFileThatIsNotAKeyStore() throws Exception {
        Path notAStore = keyFile(encode(rawKey()) + "\n");
        configureKeyStore(notAStore, "fernet");
        assertEquals("keystore " + notAStore + " cannot be read as PKCS12", failure());
    }

    // ---- canary

    /** A key pasted into a setting that is not a key must not be repeated by the message that refuses it. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FERNET_KEY_FILE", "FERNET_KEYSTORE", "FERNET_KEYSTORE_TYPE", "FERNET_KEY_ALIAS"})
    void keyInAPathTypeOrAliasSettingIsNotRepeated(String variable) throws Exception {
        String key = encode(rawKey());
        if (!variable.equals("FERNET_KEY_FILE")) {
            configureKeyStore(keyStore("PKCS12", "fernet", new SecretKeySpec(rawKey(), "HmacSHA256")), "fernet");
        }
        environment.put(variable, key);
        String expected = switch (variable) {
            case "FERNET_KEY_FILE" -> "the path of a key file";
            case "FERNET_KEYSTORE" -> "the keystore's path";
            case "FERNET_KEYSTORE_TYPE" -> "a keystore type";
            default -> "an entry's alias";
        };
        assertEquals(
                "environment variable " + variable + " looks like a Fernet key (not repeated here); it should give "
                        + expected,
                failure());
    }

    @Test
    void keyInAKeyFileSettingBesideARealPathIsNotRepeated() {
        // a key pasted after a directory, or two keys with a comma: still a key in the wrong place
        String key = encode(rawKey());
        systemProperties.put("fernet.keyFile", dir + "/" + key + "," + encode(rawKey()));
        assertEquals(
                "system property fernet.keyFile looks like a Fernet key (not repeated here); it should give the"
                        + " path of a key file",
                failure());
    }

    /** The socket settings name the property and what it takes; a key set there is not repeated. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "fernet.mode, fernet.mode (or FERNET_MODE) must be tls or fernet-tokens",
        "fernet.ttl, fernet.ttl (or FERNET_TTL) must be a positive whole number of seconds",
        "fernet.handshakeTimeout, fernet.handshakeTimeout (or FERNET_HANDSHAKE_TIMEOUT) must be a positive whole"
                + " number of milliseconds"
    })
    void keyInASocketSettingIsNotRepeated(String property, String expected) {
        String key = encode(rawKey());
        String previous = System.setProperty(property, key);
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                Settings.configuredMode();
                Settings.configuredTtl();
                Settings.configuredHandshakeTimeout();
            });
            seen.add(e.getMessage());
            seen.add(e.toString());
            assertEquals(expected, e.getMessage());
        } finally {
            restore(property, previous);
        }
    }

    @Test
    void overflowingNumberSaysItIsTooLarge() {
        String previous = System.setProperty("fernet.ttl", "99999999999999999999");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, Settings::configuredTtl);
            assertEquals(
                    "fernet.ttl (or FERNET_TTL) is too large: at most 9223372036854775807 seconds", e.getMessage());
        } finally {
            restore("fernet.ttl", previous);
        }
    }

    private static void restore(String property, String previous) {
        if (previous == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, previous);
        }
    }

    @Test
    void ringToStringNamesOnlyTheCount() {
        systemProperties.put("fernet.key", encode(rawKey()) + "," + encode(rawKey()));
        FernetKeyRing ring = load();
        assertEquals("FernetKeyRing[2 keys]", ring.toString());
        ring.destroy();
    }

    // ---- helpers

    private FernetKeyRing load() {
        FernetKeyRing ring = KeySource.from(lookup(systemProperties), lookup(securityProperties), lookup(environment));
        seen.add(ring.toString());
        return ring;
    }

    private static Function<String, String> lookup(Map<String, String> values) {
        return values::get;
    }

    /** Returns the message of the IllegalStateException that loading throws, after the canary has seen it. */
    private String failure() {
        IllegalStateException e = assertThrows(IllegalStateException.class, this::load);
        for (Throwable t = e; t != null; t = t.getCause()) {
            seen.add(String.valueOf(t.getMessage()));
            seen.add(t.toString());
        }
        return e.getMessage();
    }

    private void assertRing(FernetKeyRing ring, byte[]... expected) {
        seen.add(ring.toString());
        List<SecretKey> keys = ring.keys();
        assertEquals(expected.length, keys.size());
        for (int i = 0; i < expected.length; i++) {
            seen.add(keys.get(i).toString());
            assertArrayEquals(expected[i], keys.get(i).getEncoded(), "key " + (i + 1));
        }
        ring.destroy();
    }

    private byte[] rawKey() {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        secrets.add(Base64.getUrlEncoder().encodeToString(raw));
        return raw;
    }

    private static String encode(byte[] raw) {
        return Base64.getUrlEncoder().encodeToString(raw);
    }

    /** Returns {@code key} spoiled as {@code defect} says; FernetKeyRingFilesTest covers every kind of line. */
    private String spoil(String key, String defect) {
        String bad = switch (defect) {
            case "truncated" -> key.substring(0, 40);
            case "standard alphabet" -> "+/" + key.substring(2);
            default -> throw new IllegalArgumentException(defect);
        };
        secrets.add(bad);
        return bad;
    }

    private Path keyFile(String text) throws IOException {
        Path file = Files.createTempFile(dir, "fernet", ".key");
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    private Path keyStore(String type, String alias, SecretKey key) throws Exception {
        KeyStore store = KeyStore.getInstance(type);
        store.load(null, null);
        KeyStore.PasswordProtection protection = new KeyStore.PasswordProtection(PASSWORD.toCharArray());
        store.setEntry(alias, new KeyStore.SecretKeyEntry(key), protection);
        Path file = Files.createTempFile(dir, "fernet", "." + type.toLowerCase(Locale.ROOT));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        store.store(bytes, PASSWORD.toCharArray());
        try (OutputStream out = Files.newOutputStream(file)) {
            bytes.writeTo(out);
        }
        return file;
    }

    private void configureKeyStore(Path store, String alias) {
        environment.put("FERNET_KEYSTORE", store.toString());
        environment.put("FERNET_KEYSTORE_PASSWORD", PASSWORD);
        environment.put("FERNET_KEY_ALIAS", alias);
    }
}
