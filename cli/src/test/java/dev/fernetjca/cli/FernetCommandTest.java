package dev.fernetjca.cli;

import static dev.fernetjca.cli.Cli.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetParameterSpec;
import dev.fernetjca.provider.FernetProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FernetCommandTest {
    private static final FernetProvider PROVIDER = new FernetProvider();

    @TempDir
    Path dir;

    private static String newKey() {
        Cli.Result keygen = Cli.run("keygen");
        assertEquals(0, keygen.status(), keygen.stderr());
        return keygen.out().trim();
    }

    /** Writes keys to a key file only its owner may read, as {@code chmod 600} would leave it. */
    private Path keyFile(String... lines) throws IOException {
        Path file = Files.createTempFile(dir, "fernet", ".key"); // created rw------- on POSIX
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    private static String encrypt(Map<String, String> env, byte[] plaintext, String... args) {
        Cli.Result result = Cli.run(env, plaintext, concat("encrypt", args));
        assertEquals(0, result.status(), result.stderr());
        return result.out();
    }

    private static String[] concat(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    /** Asserts the refusal contract: status 1, nothing on stdout, a message on stderr free of key and token. */
    private static void assertRefused(Cli.Result result, String message, String... secrets) {
        assertEquals(1, result.status(), result.stderr());
        assertEquals(0, result.stdout().length, "stdout must stay empty");
        assertTrue(result.stderr().contains(message), result.stderr());
        for (String secret : secrets) {
            assertFalse(result.stderr().contains(secret.trim()), "stderr repeats a key or token");
        }
    }

    @Test
    void keygenPrintsOneKeyPythonAccepts() {
        Cli.Result result = Cli.run("keygen");
        assertEquals(0, result.status());
        assertEquals("", result.stderr());
        String out = result.out();
        assertEquals(45, out.length());
        assertTrue(out.endsWith("\n"));
        String key = out.substring(0, 44);
        // Python's Fernet(key): urlsafe_b64decode to exactly 32 bytes
        assertTrue(key.matches("[A-Za-z0-9_-]{43}="), "not url-safe base64 with padding");
        assertEquals(32, Base64.getUrlDecoder().decode(key).length);
        assertNotEquals(key, newKey(), "two keys in a row are equal");
    }

    @Test
    void encryptWritesOneTokenAndANewline() throws IOException {
        String token = encrypt(Map.of(), bytes("hello"), "--key-file", keyFile(newKey()).toString());
        assertTrue(token.matches("gAAAAA[A-Za-z0-9_=-]+\n"), token);
    }

    @Test
    void roundTripsArbitraryBytesThroughKeyFile() throws IOException {
        byte[] plaintext = new byte[10_000];
        new Random(1).nextBytes(plaintext);
        plaintext[plaintext.length - 1] = '\n'; // trailing whitespace of the plaintext is kept
        String keyFile = keyFile(newKey()).toString();
        String token = encrypt(Map.of(), plaintext, "--key-file", keyFile);

        Cli.Result decrypted = Cli.run(Map.of(), bytes(token), "decrypt", "--key-file", keyFile);
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertArrayEquals(plaintext, decrypted.stdout());
        assertEquals("", decrypted.stderr());
    }

    @Test
    void roundTripsThroughEnvironment() {
        Map<String, String> env = Map.of("FERNET_KEY", newKey());
        String token = encrypt(env, bytes("from the environment"));
        Cli.Result decrypted = Cli.run(env, bytes(token), "decrypt");
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertEquals("from the environment", decrypted.out());
    }

    @Test
    void roundTripsEmptyInput() {
        Map<String, String> env = Map.of("FERNET_KEY", newKey());
        Cli.Result decrypted = Cli.run(env, bytes(encrypt(env, new byte[0])), "decrypt");
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertEquals(0, decrypted.stdout().length);
    }

    @Test
    void decryptAcceptsTokenOfOlderKeyInFile() throws IOException {
        String olderKey = newKey();
        String token = encrypt(Map.of("FERNET_KEY", olderKey), bytes("made before rotation"));
        Path ring = keyFile("# primary", newKey(), "", "# retired, still decrypts", olderKey);

        Cli.Result decrypted = Cli.run(Map.of(), bytes(token), "decrypt", "--key-file", ring.toString());
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertEquals("made before rotation", decrypted.out());
    }

    @Test
    void decryptAcceptsTokenOfOlderKeyInEnvironment() {
        String olderKey = newKey();
        String token = encrypt(Map.of("FERNET_KEY", olderKey), bytes("old"));
        Cli.Result decrypted = Cli.run(Map.of("FERNET_KEY", newKey() + ", " + olderKey), bytes(token), "decrypt");
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertEquals("old", decrypted.out());
    }

    @Test
    void encryptUsesTheFirstKey() throws IOException {
        String primary = newKey();
        String token = encrypt(Map.of(), bytes("new"), "--key-file", keyFile(primary, newKey()).toString());
        Cli.Result decrypted = Cli.run(Map.of("FERNET_KEY", primary), bytes(token), "decrypt");
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertEquals("new", decrypted.out());
    }

    @Test
    void decryptIgnoresSurroundingWhitespace() {
        Map<String, String> env = Map.of("FERNET_KEY", newKey());
        String token = encrypt(env, bytes("spaced")).trim();
        Cli.Result decrypted = Cli.run(env, bytes(" \t\r\n" + token + "\r\n\n "), "decrypt");
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertEquals("spaced", decrypted.out());
    }

    @Test
    void decryptWithTtlAcceptsFreshToken() {
        Map<String, String> env = Map.of("FERNET_KEY", newKey());
        Cli.Result decrypted = Cli.run(env, bytes(encrypt(env, bytes("fresh"))), "decrypt", "--ttl", "60");
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertEquals("fresh", decrypted.out());
    }

    @Test
    void decryptWithTtlRefusesExpiredToken() throws Exception {
        String key = newKey();
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        Clock hourAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        cipher.init(Cipher.ENCRYPT_MODE,
                SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(new FernetKeySpec(key)),
                FernetParameterSpec.defaults().withClock(hourAgo));
        String token = new String(cipher.doFinal(bytes("stale")), StandardCharsets.US_ASCII);
        Map<String, String> env = Map.of("FERNET_KEY", key);

        assertRefused(Cli.run(env, bytes(token), "decrypt", "--ttl", "60"), "fernet: token expired", key, token);
        // without a TTL, age does not matter, as in Python
        assertEquals("stale", Cli.run(env, bytes(token), "decrypt").out());
    }

    @Test
    void decryptRefusesTamperedToken() {
        String key = newKey();
        Map<String, String> env = Map.of("FERNET_KEY", key);
        String token = encrypt(env, bytes("do not touch")).trim();
        int where = token.length() / 2;
        String tampered = token.substring(0, where) + (token.charAt(where) == 'A' ? 'B' : 'A')
                + token.substring(where + 1);

        assertRefused(Cli.run(env, bytes(tampered), "decrypt"), "fernet: token authentication failed",
                key, token, tampered);
    }

    @Test
    void decryptRefusesTokenOfAnotherKey() {
        String token = encrypt(Map.of("FERNET_KEY", newKey()), bytes("not yours"));
        String key = newKey();
        assertRefused(Cli.run(Map.of("FERNET_KEY", key), bytes(token), "decrypt"),
                "token authentication failed", key, token);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "not a token", "gAAAAA"})
    void decryptRefusesMalformedInput(String input) {
        String key = newKey();
        assertRefused(Cli.run(Map.of("FERNET_KEY", key), bytes(input), "decrypt"), "fernet: malformed token", key);
    }

    @ParameterizedTest
    @ValueSource(strings = {"encrypt", "decrypt"})
    void refusesInputOverTheLimit(String command) {
        InputStream endless = new InputStream() {
            private long given;

            @Override
            public int read() {
                return given++ < FernetCommand.MAX_INPUT_BYTES + 1L ? 'A' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                long left = FernetCommand.MAX_INPUT_BYTES + 1L - given;
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 'A');
                given += n;
                return n;
            }
        };
        String key = newKey();
        assertRefused(Cli.run(Map.of("FERNET_KEY", key), endless, command), "exceeds the limit", key);
    }

    @Test
    void readAtMostStopsOneByteOverTheLimit() throws IOException {
        assertEquals(5, FernetCommand.readAtMost(new ByteArrayInputStream(new byte[5]), 5).length);
        assertEquals(6, FernetCommand.readAtMost(new ByteArrayInputStream(new byte[100]), 5).length);
        assertEquals(0, FernetCommand.readAtMost(new ByteArrayInputStream(new byte[0]), 5).length);
        assertEquals(20_000, FernetCommand.readAtMost(new ByteArrayInputStream(new byte[20_000]), 1 << 20).length);
    }

    @Test
    void failedWriteIsReported() {
        Map<String, String> env = Map.of("FERNET_KEY", newKey());
        PrintStream broken = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("broken pipe");
            }
        });
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int status = Main.run(new String[] {"encrypt"}, new ByteArrayInputStream(bytes("x")), broken,
                new PrintStream(err, true), env);
        assertEquals(1, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot write to standard output"));
    }

    @Test
    void missingKeyIsUsageErrorNamingBothSources() {
        for (String command : new String[] {"encrypt", "decrypt"}) {
            Cli.Result result = Cli.run(Map.of(), bytes("x"), command);
            assertEquals(2, result.status(), command);
            assertEquals(0, result.stdout().length);
            assertTrue(result.stderr().contains("--key-file"), result.stderr());
            assertTrue(result.stderr().contains("FERNET_KEY"), result.stderr());
        }
    }

    @Test
    void blankEnvironmentVariableCountsAsMissing() {
        assertEquals(2, Cli.run(Map.of("FERNET_KEY", " "), bytes("x"), "encrypt").status());
    }

    @Test
    void unknownOptionIsUsageError() {
        Cli.Result result = Cli.run(Map.of("FERNET_KEY", newKey()), bytes("x"), "encrypt", "--bogus");
        assertEquals(2, result.status());
        assertEquals(0, result.stdout().length);
        assertTrue(result.stderr().contains("unknown option '--bogus'"), result.stderr());
    }

    @Test
    void keyGivenAsArgumentIsRefusedWithoutRepeatingIt() {
        String key = newKey();
        String[][] misuses = {{"encrypt", key}, {"decrypt", "--key", key}, {"decrypt", "--key=" + key}};
        for (String[] args : misuses) {
            Cli.Result result = Cli.run(Map.of(), bytes("x"), args);
            assertEquals(2, result.status(), String.join(" ", args));
            assertFalse(result.stderr().contains(key), "stderr repeats the key: " + result.stderr());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5", "abc", "1.5", ""})
    void invalidTtlIsUsageError(String ttl) {
        Cli.Result result = Cli.run(Map.of("FERNET_KEY", newKey()), bytes("x"), "decrypt", "--ttl", ttl);
        assertEquals(2, result.status());
        assertTrue(result.stderr().contains("--ttl must be a positive whole number of seconds"), result.stderr());
        assertTrue(result.stderr().contains("fernet decrypt --help"), result.stderr());
    }

    @Test
    void noCommandIsUsageError() {
        Cli.Result result = Cli.run();
        assertEquals(2, result.status());
        assertTrue(result.stderr().contains("no command given"), result.stderr());
    }

    @Test
    void unknownCommandIsUsageError() {
        assertEquals(2, Cli.run("frobnicate").status());
    }

    @Test
    void helpListsEveryCommand() {
        Cli.Result result = Cli.run("--help");
        assertEquals(0, result.status());
        for (String command : new String[] {"keygen", "encrypt", "decrypt", "demo"}) {
            assertTrue(result.out().contains(command), result.out());
        }
        assertEquals(0, Cli.run("decrypt", "--help").status());
    }

    @Test
    void versionNamesTheBuild() {
        Cli.Result result = Cli.run("--version");
        assertEquals(0, result.status());
        assertTrue(result.out().startsWith("fernet (fernet-jca) "), result.out());
        assertFalse(result.out().contains("${"), "version.properties was not filtered");
    }
}
