package dev.fernetjca.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fernetjca.provider.Fernet;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShortcutTest {
    private static final String KEY = Fernet.generateKey();

    @TempDir
    Path dir;

    /** Standard input that fails the test when read: what Shortcut leaves to picocli it must leave unread. */
    private static final class Unread extends InputStream {
        @Override
        public int read() {
            throw new AssertionError("standard input was read");
        }
    }

    private record Outcome(Integer status, byte[] stdout, String stderr) {}

    private static Outcome shortcut(Map<String, String> env, InputStream in, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintWriter errWriter = new PrintWriter(err, true);
        Integer status =
                Shortcut.run(args, new FernetCommand(in, new PrintStream(out, true), errWriter, env), env, errWriter);
        return new Outcome(status, out.toByteArray(), err.toString());
    }

    private static Outcome picocli(Map<String, String> env, InputStream in, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintWriter errWriter = new PrintWriter(err, true);
        PrintStream outStream = new PrintStream(out, true);
        int status = Main.parseAndRun(
                args, new FernetCommand(in, outStream, errWriter, env), new PrintWriter(outStream, true), errWriter);
        return new Outcome(status, out.toByteArray(), err.toString());
    }

    private Path keyFile(String content, String permissions) throws IOException {
        Path file = dir.resolve("k" + content.hashCode() + permissions + ".key");
        if (Files.exists(file)) {
            return file;
        }
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        Files.writeString(
                posix
                        ? Files.createFile(
                                file,
                                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)))
                        : file,
                content);
        return file;
    }

    private String[] args(String commandLine) throws IOException {
        String keyFile = keyFile(KEY + "\n", "rw-------").toString();
        String line = commandLine
                .replace("KEYFILE", keyFile)
                .replace("MISSING", dir.resolve("missing").toString());
        return line.isEmpty() ? new String[0] : line.split(" ");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "--help",
                "--version",
                "-V",
                "keygen --help",
                "keygen extra",
                "encrpt",
                "psk",
                "demo",
                "psk --key-file KEYFILE",
                "tunnel --listen 127.0.0.1:0 --connect 127.0.0.1:1 --encrypt --key-file KEYFILE",
                "encrypt --help",
                "encrypt -h",
                "encrypt --key-file",
                "encrypt --key-file=",
                "encrypt --key-file -h",
                "encrypt --key-file KEYFILE --key-file KEYFILE",
                "encrypt --ttl 5",
                "encrypt --bogus x",
                "encrypt extra",
                "encrypt --key-file KEYFILE extra",
                "encrypt -- --key-file KEYFILE",
                "encrypt --key-file MISSING",
                "decrypt --ttl 0",
                "decrypt --ttl -1",
                "decrypt --ttl 1e3",
                "decrypt --ttl +5",
                "decrypt --ttl 5s",
                "decrypt --ttl 1234567890123456789",
                "decrypt --ttl 5 --ttl 6",
                "decrypt --key-file KEYFILE --ttl",
                "decrypt --key-file=MISSING",
                "decrypt --key KEYFILE"
            })
    void leavesAllButThePlainTokenCommandLinesToPicocli(String commandLine) throws IOException {
        Outcome outcome = shortcut(Map.of(KeyOptions.ENV_VARIABLE, KEY), new Unread(), args(commandLine));
        assertNull(outcome.status(), "Shortcut ran " + commandLine);
        assertEquals(0, outcome.stdout().length);
        assertEquals("", outcome.stderr());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "not a key", "KEY,", "KEY,,KEY"})
    void leavesAnUnusableKeyVariableToPicocli(String variable) {
        Map<String, String> env = Map.of(KeyOptions.ENV_VARIABLE, variable.replace("KEY", KEY));
        assertNull(shortcut(env, new Unread(), "encrypt").status());
        assertNull(shortcut(Map.of(), new Unread(), "decrypt", "--ttl", "60").status(), "no FERNET_KEY at all");
        // and picocli says why, as before
        assertEquals(Main.USAGE, picocli(env, new Unread(), "encrypt").status());
    }

    @Test
    void leavesAnUnusableKeyFileToPicocli() throws IOException {
        for (Path file : new Path[] {keyFile("not a key\n", "rw-------"), keyFile("", "rw-------"), dir}) {
            assertNull(
                    shortcut(Map.of(), new Unread(), "encrypt", "--key-file", file.toString())
                            .status(),
                    "" + file);
        }
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
        Path open = keyFile(KEY + "\n", "rw-r--r--");
        assertNull(shortcut(Map.of(), new Unread(), "decrypt", "--key-file=" + open)
                .status());
        assertEquals(
                Main.USAGE,
                picocli(Map.of(), new Unread(), "decrypt", "--key-file=" + open).status());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "encrypt --key-file KEYFILE",
                "encrypt --key-file=KEYFILE",
                "encrypt",
                "decrypt --key-file KEYFILE",
                "decrypt --ttl 60 --key-file KEYFILE",
                "decrypt --key-file=KEYFILE --ttl=60",
                "decrypt --ttl 999999999999999999",
                "decrypt"
            })
    void runsThePlainTokenCommandLinesAsPicocliDoes(String commandLine) throws Exception {
        Map<String, String> env = Map.of(KeyOptions.ENV_VARIABLE, KEY);
        Fernet fernet = Fernet.of(KEY);
        byte[] plaintext = "attack at dawn".getBytes(StandardCharsets.UTF_8);
        byte[] token = fernet.encrypt(plaintext);
        byte[] tampered = token.clone();
        tampered[tampered.length / 2] ^= 1;
        byte[][] inputs = commandLine.startsWith("encrypt")
                ? new byte[][] {plaintext, new byte[0]}
                : new byte[][] {
                    token,
                    (" \n" + new String(token, StandardCharsets.US_ASCII) + "\r\n").getBytes(StandardCharsets.US_ASCII),
                    tampered,
                    "hello".getBytes(StandardCharsets.US_ASCII),
                    new byte[0]
                };
        for (byte[] input : inputs) {
            Outcome quick = shortcut(env, new ByteArrayInputStream(input), args(commandLine));
            Outcome full = picocli(env, new ByteArrayInputStream(input), args(commandLine));
            assertNotNull(quick.status(), "Shortcut left " + commandLine + " to picocli");
            assertEquals(full.status(), quick.status(), commandLine);
            assertEquals(full.stderr(), quick.stderr(), commandLine);
            if (commandLine.startsWith("encrypt")) {
                // a token is dated and has a random IV: both must read back as the input
                String quickToken = new String(quick.stdout(), StandardCharsets.US_ASCII);
                assertEquals('\n', quickToken.charAt(quickToken.length() - 1));
                assertArrayEquals(input, fernet.decrypt(quickToken.trim().getBytes(StandardCharsets.US_ASCII)));
                assertArrayEquals(
                        input,
                        fernet.decrypt(new String(full.stdout(), StandardCharsets.US_ASCII)
                                .trim()
                                .getBytes(StandardCharsets.US_ASCII)));
            } else {
                assertArrayEquals(full.stdout(), quick.stdout(), commandLine);
            }
        }
    }

    @Test
    void keygenRunsWithoutPicocli() {
        Outcome outcome = shortcut(Map.of(), new Unread(), "keygen");
        assertEquals(Main.OK, outcome.status());
        assertEquals(45, outcome.stdout().length);
        assertNotNull(Fernet.of(new String(outcome.stdout(), StandardCharsets.US_ASCII).trim()));
    }
}
