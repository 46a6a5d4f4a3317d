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
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    @ParameterizedTest
    @ValueSource(strings = {"rw-r--r--", "rw-r-----", "rw----r--", "rw--w----", "rw-------"})
    void refusesKeyFileOpenToGroupOrOthers(String permissions) throws IOException {
        String key = newKey();
        Path file = keyFile(key + "\n");
        assumeTrue(posix(file), "not a POSIX file system: key file permissions are not checked here");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        Cli.Result result = encrypt(Map.of(), "--key-file", file.toString());
        if (permissions.equals("rw-------")) {
            assertEquals(0, result.status(), result.stderr());
            return;
        }
        // root can read the file either way: the check is on the permission bits
        assertUsageError(result, "has permissions " + permissions, key);
        assertTrue(result.stderr().contains("chmod 600 " + file), result.stderr());
    }

    @Test
    void acceptsReadOnlyKeyFile() throws IOException {
        Path file = keyFile(newKey() + "\n");
        assumeTrue(posix(file), "not a POSIX file system: key file permissions are not checked here");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        assertEquals(0, encrypt(Map.of(), "--key-file", file.toString()).status());
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
    void keyFileWinsOverEnvironment() throws IOException {
        String fileKey = newKey();
        Cli.Result encrypted = encrypt(Map.of("FERNET_KEY", newKey()), "--key-file", keyFile(fileKey).toString());
        assertEquals(0, encrypted.status(), encrypted.stderr());
        assertEquals("plaintext", Cli.run(Map.of("FERNET_KEY", fileKey), encrypted.stdout(), "decrypt").out());
    }

    @Test
    void keyFileWithoutKeysIsUsageError() throws IOException {
        Path file = keyFile("# nothing yet\n\n");
        assertUsageError(encrypt(Map.of(), "--key-file", file.toString()), "key file " + file + " holds no key");
    }

    @Test
    void missingKeyFileIsUsageError() {
        Path file = dir.resolve("absent.key");
        assertUsageError(encrypt(Map.of(), "--key-file", file.toString()), "key file " + file + " does not exist");
    }

    @Test
    void oversizedKeyFileIsUsageError() throws IOException {
        Path file = keyFile("#".repeat(KeyOptions.MAX_KEY_FILE_BYTES + 1));
        assertUsageError(encrypt(Map.of(), "--key-file", file.toString()), "is over");
    }

    @Test
    void badKeyLineIsNamedButNotRepeated() throws IOException {
        String good = newKey();
        String wrongAlphabet = good.substring(0, 20) + "!" + good.substring(21);
        String tooShort = good.substring(0, 30);
        String standardBase64 = "+".repeat(43) + "=";
        String noPadding = good.substring(0, 43) + "A";

        assertUsageError(encrypt(Map.of(), "--key-file", keyFile(good + "\n\n" + wrongAlphabet).toString()),
                "line 3: a Fernet key must be url-safe base64", wrongAlphabet, good);
        assertUsageError(encrypt(Map.of(), "--key-file", keyFile(tooShort).toString()),
                "line 1: a Fernet key is 44 characters of url-safe base64, got 30", tooShort);
        assertUsageError(encrypt(Map.of(), "--key-file", keyFile(standardBase64).toString()),
                "line 1: a Fernet key must be url-safe base64");
        assertUsageError(encrypt(Map.of(), "--key-file", keyFile(noPadding).toString()),
                "line 1: a Fernet key must decode to 32 bytes, got 33", noPadding);
    }

    @Test
    void badEnvironmentKeyIsNamedButNotRepeated() {
        String good = newKey();
        String bad = good.substring(0, 43) + "!";
        assertUsageError(encrypt(Map.of("FERNET_KEY", good + "," + bad)),
                "FERNET_KEY entry 2: a Fernet key must be url-safe base64", bad, good);
    }

    @Test
    void emptyEnvironmentEntriesAreSkipped() {
        Cli.Result result = encrypt(Map.of("FERNET_KEY", " ," + newKey() + ",,"));
        assertEquals(0, result.status(), result.stderr());
    }
}
