package dev.fernetjca.cli;

import static dev.fernetjca.cli.Cli.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.Base64;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyOptionsTest {
    @TempDir
    Path dir;

    private static String newKey() {
        return Cli.run("keygen").out().trim();
    }

    private Path keyFile(String content) throws IOException {
        Path file = Files.createTempFile(dir, "fernet", ".key"); // rw------- on POSIX
        Files.writeString(file, content);
        return file;
    }

    /** A key file of {@code key} with {@code permissions}; the test is skipped where there are none. */
    private Path keyFile(String key, String permissions) throws IOException {
        Path file = keyFile(key + "\n");
        assumeTrue(posix(file), "not a POSIX file system: key file permissions are not checked here");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        return file;
    }

    private static boolean posix(Path file) {
        return Files.getFileAttributeView(file, PosixFileAttributeView.class) != null;
    }

    private static Cli.Result encrypt(Map<String, String> env, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "encrypt";
        System.arraycopy(args, 0, all, 1, args.length);
        return Cli.run(env, bytes("plaintext"), all);
    }

    private static void assertUsageError(Cli.Result result, String message, String... secrets) {
        assertEquals(2, result.status(), result.stderr());
        assertEquals(0, result.stdout().length, "stdout must stay empty");
        assertTrue(result.stderr().contains(message), result.stderr());
        for (String secret : secrets) {
            assertFalse(result.stderr().contains(secret), "stderr repeats key material");
        }
    }

    // The key file and FERNET_KEY formats are FernetKeyRing's (provider FernetKeyRingFilesTest); here, where keys
    // come from, and how a refusal becomes a usage error.

    @Test
    void noKeyIsUsageErrorNamingBoth() {
        String noKey = "no key: give --key-file FILE or set the FERNET_KEY environment variable (or FERNET_KEY_FILE, or"
                + " FERNET_KEYSTORE with FERNET_KEYSTORE_PASSWORD and FERNET_KEY_ALIAS)";
        assertUsageError(encrypt(Map.of()), noKey);
        assertUsageError(encrypt(Map.of("FERNET_KEY", " \t")), noKey);
    }

    @Test
    void keyFileWinsOverEnvironment() throws IOException {
        String fileKey = newKey();
        Cli.Result encrypted = encrypt(
                Map.of("FERNET_KEY", newKey()), "--key-file", keyFile(fileKey).toString());
        assertEquals(0, encrypted.status(), encrypted.stderr());
        assertEquals(
                "plaintext",
                Cli.run(Map.of("FERNET_KEY", fileKey), encrypted.stdout(), "decrypt")
                        .out());
    }

    @Test
    void keyFileIgnoresCommentsBlankLinesAndCarriageReturns() throws IOException {
        String key = newKey();
        Path file = keyFile("# keys for the demo service\r\n\r\n   \r\n  " + key + "  \r\n# end\r\n");
        Cli.Result encrypted = encrypt(Map.of(), "--key-file", file.toString());
        assertEquals(0, encrypted.status(), encrypted.stderr());
        Cli.Result decrypted = Cli.run(Map.of("FERNET_KEY", key), encrypted.stdout(), "decrypt");
        assertEquals("plaintext", decrypted.out());
    }

    @Test
    void keyFileOpenToGroupOrOthersIsUsageError() throws IOException {
        String key = newKey();
        Path file = keyFile(key, "rw-r--r--");
        // root can read the file either way: the check is on the permission bits
        assertUsageError(
                encrypt(Map.of(), "--key-file", file.toString()),
                "fernet: key file " + file
                        + " has permissions rw-r--r--, open to group or others; restrict it with chmod 600 " + file,
                key);
    }

    @Test
    void missingKeyFileIsUsageError() {
        Path file = dir.resolve("absent.key");
        assertUsageError(encrypt(Map.of(), "--key-file", file.toString()), "key file " + file + " does not exist");
    }

    @Test
    void directoryAsKeyFileIsUsageError() {
        assertUsageError(
                encrypt(Map.of(), "--key-file", dir.toString()),
                "fernet: key file " + dir + " is a directory, not a regular file");
    }

    @Test
    void keyGivenAsKeyFileIsNotRepeated() {
        String key = newKey();
        assertUsageError(
                encrypt(Map.of(), "--key-file", key),
                "fernet: --key-file looks like a Fernet key (not"
                        + " repeated here); it should give the path of a key file",
                key,
                key.substring(0, 22),
                key.substring(22));
    }

    @Test
    void badKeyLineIsNamedButNotRepeated() throws IOException {
        String good = newKey();
        String wrongAlphabet = good.substring(0, 20) + "!" + good.substring(21);
        Path file = keyFile(good + "\n\n" + wrongAlphabet);
        assertUsageError(
                encrypt(Map.of(), "--key-file", file.toString()),
                "key file " + file + " line 3: a Fernet key must be url-safe base64",
                wrongAlphabet,
                good);
    }

    @Test
    void badEnvironmentKeyIsNamedButNotRepeated() {
        String good = newKey();
        String bad = good.substring(0, 43) + "!";
        assertUsageError(
                encrypt(Map.of("FERNET_KEY", good + "," + bad)),
                "FERNET_KEY entry 2: a Fernet key must be url-safe base64",
                bad,
                good);
    }

    @Test
    void emptyEnvironmentEntryIsUsageError() {
        // "$NEW,$OLD" with NEW unset must not make the old key the primary
        String key = newKey();
        assertUsageError(encrypt(Map.of("FERNET_KEY", " ," + key)), "FERNET_KEY entry 1 is empty", key);
        assertUsageError(encrypt(Map.of("FERNET_KEY", key + ",,")), "FERNET_KEY entry 2 is empty", key);
    }

    // ---- one key policy with the socket factories: --key-file, else their configuration

    /** Asserts that {@code encrypted} succeeded with {@code key} as its primary. */
    private static void assertMadeWith(String key, Cli.Result encrypted) {
        assertEquals(0, encrypted.status(), encrypted.stderr());
        assertEquals(
                "plaintext",
                Cli.run(Map.of("FERNET_KEY", key), encrypted.stdout(), "decrypt")
                        .out());
    }

    @Test
    void keyFileVariableIsHonoured() throws IOException {
        String key = newKey();
        Map<String, String> env = Map.of("FERNET_KEY_FILE", keyFile(key + "\n").toString());
        Cli.Result encrypted = encrypt(env);
        assertMadeWith(key, encrypted);
        Cli.Result psk = Cli.run(env, new byte[0], "psk");
        assertEquals(Cli.run(Map.of("FERNET_KEY", key), new byte[0], "psk").out(), psk.out(), psk.stderr());
    }

    @Test
    void keyFileOptionWinsOverTheKeyFileVariable() throws IOException {
        String optionKey = newKey();
        Map<String, String> env =
                Map.of("FERNET_KEY_FILE", keyFile(newKey() + "\n").toString());
        Cli.Result encrypted =
                encrypt(env, "--key-file", keyFile(optionKey + "\n").toString());
        assertEquals(0, encrypted.status(), encrypted.stderr());
        assertEquals("", encrypted.stderr(), "--key-file overrides the variables quietly");
        assertEquals(
                "plaintext",
                Cli.run(Map.of("FERNET_KEY", optionKey), encrypted.stdout(), "decrypt")
                        .out());
    }

    @Test
    void keyFileVariableWinsOverInlineKeysAsForTheFactories() throws IOException {
        String fileKey = newKey();
        Map<String, String> env =
                Map.of("FERNET_KEY_FILE", keyFile(fileKey + "\n").toString(), "FERNET_KEY", newKey());
        Cli.Result encrypted = encrypt(env);
        assertMadeWith(fileKey, encrypted);
    }

    @Test
    void keystoreIsHonoured() throws Exception {
        String key = newKey();
        byte[] raw = Base64.getUrlDecoder().decode(key);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "store-password".toCharArray();
        store.setEntry(
                "fernet",
                new KeyStore.SecretKeyEntry(new SecretKeySpec(raw, "HmacSHA256")),
                new KeyStore.PasswordProtection(password));
        Path file = dir.resolve("keys.p12");
        try (var out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
        Map<String, String> env = Map.of(
                "FERNET_KEYSTORE",
                file.toString(),
                "FERNET_KEYSTORE_PASSWORD",
                "store-password",
                "FERNET_KEY_ALIAS",
                "fernet");
        Cli.Result encrypted = encrypt(env);
        assertMadeWith(key, encrypted);
        assertUsageError(
                encrypt(Map.of("FERNET_KEYSTORE", file.toString(), "FERNET_KEYSTORE_PASSWORD", "store-password")),
                "no fernet.keyAlias or FERNET_KEY_ALIAS names the entry to use",
                key);
    }

    /** A Docker secret (0444) given with --key-file, accepted once the permissions setting says so. */
    @Test
    void readablePermissionsSettingAppliesToKeyFileOption() throws IOException {
        String key = newKey();
        Path file = keyFile(key, "r--r--r--");
        assertUsageError(encrypt(Map.of(), "--key-file", file.toString()), "open to group or others", key);
        Cli.Result encrypted =
                encrypt(Map.of("FERNET_KEY_FILE_PERMISSIONS", "readable"), "--key-file", file.toString());
        assertMadeWith(key, encrypted);
    }
}
