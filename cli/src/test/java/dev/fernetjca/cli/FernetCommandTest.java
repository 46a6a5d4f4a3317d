package dev.fernetjca.cli;

import static dev.fernetjca.cli.Cli.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetParameterSpec;
import dev.fernetjca.provider.FernetProvider;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
        String token = encrypt(
                Map.of(), bytes("hello"), "--key-file", keyFile(newKey()).toString());
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
        String token = encrypt(
                Map.of(), bytes("new"), "--key-file", keyFile(primary, newKey()).toString());
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
        cipher.init(
                Cipher.ENCRYPT_MODE,
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
        String tampered =
                token.substring(0, where) + (token.charAt(where) == 'A' ? 'B' : 'A') + token.substring(where + 1);

        assertRefused(
                Cli.run(env, bytes(tampered), "decrypt"), "fernet: token authentication failed", key, token, tampered);
    }

    @Test
    void decryptRefusesTokenOfAnotherKey() {
        String token = encrypt(Map.of("FERNET_KEY", newKey()), bytes("not yours"));
        String key = newKey();
        assertRefused(
                Cli.run(Map.of("FERNET_KEY", key), bytes(token), "decrypt"), "token authentication failed", key, token);
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
        // one byte more than the command reads: a plaintext over 64 MiB, or more than the largest token and its spaces
        long over = command.equals("encrypt")
                ? FernetCommand.MAX_INPUT_BYTES + 1L
                : FernetCommand.MAX_TOKEN_BYTES + 2L * FernetCommand.MAX_SURROUNDING_WHITESPACE + 1L;
        InputStream endless = new InputStream() {
            private long given;

            @Override
            public int read() {
                return given++ < over ? 'A' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                long left = over - given;
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                Arrays.fill(b, off, off + n, (byte) 'A');
                given += n;
                return n;
            }
        };
        String key = newKey();
        assertRefused(Cli.run(Map.of("FERNET_KEY", key), endless, command), "exceeds the limit", key);
    }

    /** Encrypt caps plaintext at 64 MiB; its token is a third larger, and decrypt must read it back. */
    @Test
    void decryptReadsBackTheLargestTokenEncryptMakes() {
        Map<String, String> env = Map.of("FERNET_KEY", newKey());
        byte[] plaintext = new byte[FernetCommand.MAX_INPUT_BYTES];
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < plaintext.length; i += 4096) {
            plaintext[i] = (byte) random.nextInt(); // enough to tell one 64 MiB input from another, cheaply
        }
        Cli.Result encrypted = Cli.run(env, plaintext, "encrypt");
        assertEquals(0, encrypted.status(), encrypted.stderr());
        assertEquals(FernetCommand.MAX_TOKEN_BYTES + 1, encrypted.stdout().length, "the largest token and a newline");
        Cli.Result decrypted = Cli.run(env, encrypted.stdout(), "decrypt");
        assertEquals(0, decrypted.status(), decrypted.stderr());
        assertArrayEquals(plaintext, decrypted.stdout(), "seed " + seed);
    }

    @Test
    void decryptRefusesATokenLongerThanEncryptMakes() {
        String key = newKey();
        byte[] input = new byte[FernetCommand.MAX_TOKEN_BYTES + 4];
        Arrays.fill(input, (byte) 'A');
        assertRefused(
                Cli.run(Map.of("FERNET_KEY", key), input, "decrypt"),
                "fernet: input exceeds the limit of " + FernetCommand.MAX_TOKEN_BYTES
                        + " bytes (the token of 64 MiB of plaintext)",
                key);
    }

    /**
     * Runs the real {@code fernet} in a child JVM through {@code shell -c}, with {@code FERNET_KEY} set to {@code key}
     * and the command line ending in {@code rest}, for what only a shell can set up: a closed standard input, a
     * directory as standard input, a process substitution.
     */
    private static Cli.Result runInShell(String shell, String key, String rest) throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "these checks use /proc (Linux)");
        Path javaBinary = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(
                shell,
                "-c",
                "exec \"$0\" -cp \"$1\" dev.fernetjca.cli.Main " + rest,
                javaBinary.toString(),
                System.getProperty("java.class.path"));
        builder.environment().clear();
        builder.environment().put("FERNET_KEY", key);
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process = builder.start();
        byte[] stdout = process.getInputStream().readAllBytes();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(20, TimeUnit.SECONDS), "fernet did not end");
        return new Cli.Result(process.exitValue(), stdout, stderr);
    }

    @Test
    void processSubstitutionAsKeyFileSaysItIsAPipe() throws Exception {
        Path bash = Path.of("/bin/bash");
        assumeTrue(Files.isExecutable(bash), "no /bin/bash here: <(...) is bash's");
        String key = newKey();
        Cli.Result result = runInShell(bash.toString(), "", "encrypt --key-file <(printf '%s\\n' " + key + ")");
        assertEquals(2, result.status(), result.stderr());
        assertTrue(result.stderr().startsWith("fernet: key file /dev/fd/"), result.stderr());
        assertTrue(
                result.stderr()
                        .contains(" is a pipe, not a regular file; give the path of a key file (chmod 600),"
                                + " not <(...) or a pipe\n"),
                result.stderr());
        assertFalse(result.stderr().contains(key), result.stderr());
    }

    @ParameterizedTest
    @ValueSource(strings = {"encrypt", "decrypt"})
    void closedStandardInputIsSaidToBeClosed(String command) throws Exception {
        // with descriptor 0 closed, the JVM's own lib/modules takes it: that must not be encrypted or called too large
        String key = newKey();
        assertRefused(
                runInShell("/bin/sh", key, command + " <&-"),
                "fernet: standard input is closed; give the input with < FILE or a pipe",
                key);
    }

    @ParameterizedTest
    @ValueSource(strings = {"encrypt", "decrypt"})
    void directoryAsStandardInputIsSaidToBeADirectory(String command) throws Exception {
        String key = newKey();
        assertRefused(
                runInShell("/bin/sh", key, command + " < '" + dir + "'"),
                "fernet: standard input is a directory; give a file with < FILE or a pipe",
                key);
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
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(
                new String[] {"encrypt"},
                new ByteArrayInputStream(bytes("x")),
                broken,
                new PrintStream(err, true),
                env);
        assertEquals(1, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot write to standard output"));
    }

    @Test
    void keygenOutCreatesAnOwnerOnlyKeyFileAndPrintsNothing(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fernet.key");
        Cli.Result result = Cli.run("keygen", "--out", file.toString());
        assertEquals(0, result.status(), result.stderr());
        assertEquals(0, result.stdout().length, "the key goes to the file only");
        assertEquals("", result.stderr());
        if (Files.getFileAttributeView(file, PosixFileAttributeView.class) != null) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
        String key = Files.readString(file);
        assertTrue(key.matches("[A-Za-z0-9_-]{43}=\n"), "one key and a line end");
        assertFalse(result.stderr().contains(key.trim()));
        String token = encrypt(Map.of(), bytes("from the new file"), "--key-file", file.toString());
        assertEquals(
                "from the new file",
                Cli.run(Map.of("FERNET_KEY", key.trim()), bytes(token), "decrypt")
                        .out());
    }

    @Test
    void keygenOutNeverReplacesAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fernet.key");
        assertEquals(0, Cli.run("keygen", "--out", file.toString()).status());
        String first = Files.readString(file);
        Cli.Result again = Cli.run("keygen", "--out", file.toString());
        assertEquals(1, again.status());
        assertEquals(0, again.stdout().length);
        assertEquals(
                "fernet: " + file + " already exists; keygen --out never replaces a file (a key in use would be"
                        + " lost): remove it first or choose another name\n",
                again.stderr());
        assertEquals(first, Files.readString(file));
        // nor writes through a link, dangling or not, to a file elsewhere
        Path link = Files.createSymbolicLink(dir.resolve("link.key"), dir.resolve("elsewhere.key"));
        assertEquals(1, Cli.run("keygen", "--out", link.toString()).status());
        assertFalse(Files.exists(dir.resolve("elsewhere.key")));
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
        assertEquals(
                2, Cli.run(Map.of("FERNET_KEY", " "), bytes("x"), "encrypt").status());
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
    void noCommandIsUsageErrorListingEveryCommand() {
        Cli.Result result = Cli.run();
        assertEquals(2, result.status());
        assertTrue(
                result.stderr()
                        .startsWith(
                                "fernet: no command given; use one of demo, decrypt, encrypt, keygen, psk, tunnel\n"),
                result.stderr());
    }

    @Test
    void unknownCommandSaysSoAndSuggestsTheNearest() {
        Cli.Result misspelt = Cli.run("encrpt");
        assertEquals(2, misspelt.status());
        assertTrue(
                misspelt.stderr().startsWith("fernet: unknown command 'encrpt'; did you mean 'encrypt'?\n"),
                misspelt.stderr());
        Cli.Result unlike = Cli.run("frobnicate");
        assertEquals(2, unlike.status());
        assertTrue(
                unlike.stderr()
                        .startsWith("fernet: unknown command 'frobnicate'; the commands are demo, decrypt,"
                                + " encrypt, keygen, psk, tunnel\n"),
                unlike.stderr());
    }

    @Test
    void overflowingTtlIsTooLarge() {
        Cli.Result result =
                Cli.run(Map.of("FERNET_KEY", newKey()), bytes("x"), "decrypt", "--ttl", "99999999999999999999");
        assertEquals(2, result.status());
        assertTrue(
                result.stderr().startsWith("fernet: --ttl is too large: at most 9223372036854775807 seconds\n"),
                result.stderr());
    }

    /**
     * The canary: a real key typed where a setting's value belongs is refused, and neither the key nor either half of
     * its base64 reaches standard output or error, whichever way the value was refused (our checks, picocli's type
     * conversion, an unknown command or argument).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "decrypt --ttl KEY",
                "decrypt --ttl=KEY",
                "encrypt --key-file KEY",
                "encrypt KEY",
                "decrypt --key KEY",
                "KEY",
                "tunnel --listen 127.0.0.1:0 --connect 127.0.0.1:1 --encrypt --mode KEY",
                "tunnel --listen 127.0.0.1:0 --connect 127.0.0.1:1 --encrypt --mode fernet-tokens --ttl KEY",
                "tunnel --listen 127.0.0.1:0 --connect 127.0.0.1:1 --encrypt --max-connections KEY",
                "tunnel --listen 127.0.0.1:0 --connect 127.0.0.1:1 --encrypt --max-connections=KEY",
                "tunnel --listen KEY --connect 127.0.0.1:1 --encrypt"
            })
    void keyTypedForASettingIsNeverRepeated(String commandLine) {
        String key = newKey();
        String[] args = commandLine.replace("KEY", key).split(" ");
        Cli.Result result = Cli.run(Map.of("FERNET_KEY", newKey()), bytes("x"), args);
        assertEquals(2, result.status(), result.stderr());
        assertEquals(0, result.stdout().length, "stdout must stay empty");
        assertFalse(result.stderr().isBlank(), "a refusal says why");
        for (String secret : new String[] {key, key.substring(0, 22), key.substring(22), key.substring(0, 43)}) {
            assertFalse(result.stderr().contains(secret), "stderr repeats the key: " + result.stderr());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--ttl", "--max-connections"})
    void typeConversionErrorNamesTheOptionAndWhatItTakes(String option) {
        Cli.Result result = Cli.run(
                Map.of("FERNET_KEY", newKey()),
                bytes("x"),
                "tunnel",
                "--listen",
                "127.0.0.1:0",
                "--connect",
                "127.0.0.1:1",
                "--encrypt",
                "--mode",
                "fernet-tokens",
                option,
                "twelve");
        assertEquals(2, result.status());
        assertTrue(
                result.stderr().startsWith("fernet: " + option + " takes a whole number from 1 to "), result.stderr());
        assertFalse(result.stderr().contains("twelve"), result.stderr());
    }

    @Test
    void overflowingNumberOptionIsTooLarge() {
        Cli.Result result = Cli.run(
                Map.of("FERNET_KEY", newKey()),
                bytes("x"),
                "tunnel",
                "--listen",
                "127.0.0.1:0",
                "--connect",
                "127.0.0.1:1",
                "--encrypt",
                "--max-connections",
                "99999999999");
        assertEquals(2, result.status());
        assertTrue(
                result.stderr().startsWith("fernet: --max-connections is too large: at most 1000000\n"),
                result.stderr());
        assertFalse(result.stderr().contains("99999999999"), result.stderr());
    }

    @Test
    void helpListsEveryCommand() {
        Cli.Result result = Cli.run("--help");
        assertEquals(0, result.status());
        for (String command : new String[] {"keygen", "encrypt", "decrypt", "tunnel", "psk", "demo"}) {
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
