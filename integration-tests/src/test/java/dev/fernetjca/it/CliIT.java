package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.Processes;
import dev.fernetjca.testing.Processes.Result;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the shaded {@code fernet.jar} as users do, {@code java -jar}, in child processes connected by real pipes: the
 * manifest, the shading and {@code main}'s exit status are what this covers beyond the cli module's own tests.
 */
class CliIT {
    private static Path jar;

    @TempDir
    Path dir;

    @BeforeAll
    static void findJar() {
        String property = System.getProperty("fernet.cli.jar");
        assertTrue(property != null, "the fernet.cli.jar system property is not set; run through Maven failsafe");
        jar = Paths.get(property).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(jar), jar + " does not exist; build the cli module first");
    }

    /** Returns {@code java -jar fernet.jar ARGS}, without the developer's keys or JVM options in its environment. */
    private static ProcessBuilder fernet(String... args) {
        return Processes.javaJar(jar, args);
    }

    /** Runs one process with {@code stdin} as its input and its outputs kept in files, so no pipe can fill up. */
    private static Result run(ProcessBuilder builder, byte[] stdin) throws IOException, InterruptedException {
        return Processes.run(builder, stdin, Processes.CHILD_TIMEOUT);
    }

    private Path keygenToFile() throws IOException, InterruptedException {
        Path keyFile = dir.resolve("fernet.key");
        Files.deleteIfExists(keyFile);
        try {
            // as `chmod 600` would leave it: fernet refuses a key file open to group or others
            Files.createFile(
                    keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(keyFile); // not a POSIX file system: fernet does not check permissions there
        }
        Process keygen = fernet("keygen").redirectOutput(keyFile.toFile()).start();
        assertTrue(keygen.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, keygen.exitValue());
        String key = Files.readString(keyFile);
        assertEquals(45, key.length());
        assertEquals(32, Base64.getUrlDecoder().decode(key.trim()).length);
        return keyFile;
    }

    @Test
    void keygenEncryptDecryptRoundTripThroughPipes() throws Exception {
        Path keyFile = keygenToFile();
        byte[] plaintext = new byte[100_000];
        new Random(7).nextBytes(plaintext);
        Path in = dir.resolve("plaintext.bin");
        Files.write(in, plaintext);
        Path out = dir.resolve("decrypted.bin");

        // fernet encrypt --key-file K < plaintext | fernet decrypt --key-file K > decrypted
        List<Process> pipeline = ProcessBuilder.startPipeline(List.of(
                fernet("encrypt", "--key-file", keyFile.toString())
                        .redirectInput(in.toFile())
                        .redirectError(ProcessBuilder.Redirect.INHERIT),
                fernet("decrypt", "--key-file", keyFile.toString(), "--ttl", "60")
                        .redirectOutput(out.toFile())
                        .redirectError(ProcessBuilder.Redirect.INHERIT)));
        for (Process process : pipeline) {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "pipeline did not finish in 60 s");
            assertEquals(0, process.exitValue(), process.info().commandLine().orElse("fernet"));
        }
        assertArrayEquals(plaintext, Files.readAllBytes(out));
    }

    @Test
    void roundTripThroughEnvironment() throws Exception {
        String key = Files.readString(keygenToFile()).trim();
        ProcessBuilder encrypt = fernet("encrypt");
        encrypt.environment().put("FERNET_KEY", key);
        Result token = run(encrypt, "über ✓\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(0, token.status(), token.stderr());

        ProcessBuilder decrypt = fernet("decrypt");
        decrypt.environment().put("FERNET_KEY", key);
        Result plaintext = run(decrypt, token.stdoutBytes());
        assertEquals(0, plaintext.status(), plaintext.stderr());
        assertEquals("über ✓\n", new String(plaintext.stdoutBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void tamperedTokenExitsWithOneAndPrintsNothing() throws Exception {
        Path keyFile = keygenToFile();
        String key = Files.readString(keyFile).trim();
        Result encrypted =
                run(fernet("encrypt", "--key-file", keyFile.toString()), "secret".getBytes(StandardCharsets.UTF_8));
        assertEquals(0, encrypted.status(), encrypted.stderr());
        String token = new String(encrypted.stdoutBytes(), StandardCharsets.US_ASCII).trim();
        int where = token.length() / 2;
        String tampered =
                token.substring(0, where) + (token.charAt(where) == 'A' ? 'B' : 'A') + token.substring(where + 1);

        Result result =
                run(fernet("decrypt", "--key-file", keyFile.toString()), tampered.getBytes(StandardCharsets.US_ASCII));
        assertEquals(1, result.status());
        assertEquals(0, result.stdoutBytes().length, "stdout must stay empty");
        assertTrue(result.stderr().contains("token authentication failed"), result.stderr());
        assertFalse(result.stderr().contains(key), "stderr repeats the key");
        assertFalse(result.stderr().contains(tampered), "stderr repeats the token");
    }

    @Test
    void missingKeyExitsWithTwo() throws Exception {
        Result result = run(fernet("encrypt"), new byte[0]);
        assertEquals(2, result.status());
        assertTrue(result.stderr().contains("FERNET_KEY"), result.stderr());
    }

    @Test
    void demoAndVersionRun() throws Exception {
        Result demo = run(fernet("demo"), new byte[0]);
        assertEquals(0, demo.status(), demo.stderr());
        String demoOutput = new String(demo.stdoutBytes(), StandardCharsets.UTF_8);
        assertTrue(demoOutput.contains("rejected:  token authentication failed"), demoOutput);
        Result version = run(fernet("--version"), new byte[0]);
        assertEquals(0, version.status(), version.stderr());
        assertTrue(new String(version.stdoutBytes(), StandardCharsets.UTF_8).startsWith("fernet (fernet-jca) "));
    }
}
