package dev.fernetjca.cli;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.provider.FernetKeyRing;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;

/**
 * The training run of the class-data-sharing archive that the build makes next to {@code fernet.jar}: the cli
 * module's package phase runs {@code java -XX:ArchiveClassesAtExit=fernet.jsa -cp fernet.jar
 * dev.fernetjca.cli.Training}, and the JVM archives every class this run loaded, so that the {@code bin/fernet}
 * launcher's JVMs map them instead of reading, parsing and verifying them again (docs/cli.md, "Running").
 *
 * <p>It runs the commands users run most, in this process, as {@code main} would: {@code keygen}, {@code encrypt} and
 * {@code decrypt} with a key file and with {@code FERNET_KEY}, a refused token, then {@code --version},
 * {@code tunnel --help} and {@code psk} through picocli, and builds the socket factories a tunnel builds at start. No
 * tunnel runs, and nothing touches the network; a throwaway key lives in a temporary directory of the owner only, deleted at the end. It ends
 * with an exception (status 1) if any command did not do what it should, so that the build notices.
 *
 * <p>Stateless; for the build, not for users.
 */
final class Training {
    private static final byte[] MESSAGE = "attack at dawn".getBytes(StandardCharsets.UTF_8);

    private Training() {}

    /** Runs the training commands; throws {@link IllegalStateException} on any unexpected result. */
    public static void main(String[] args) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        Path dir = posix
                ? Files.createTempDirectory(
                        "fernet-training",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
                : Files.createTempDirectory("fernet-training");
        Path keyFile = dir.resolve("training.key");
        try {
            byte[] key = run(Map.of(), new byte[0], "keygen");
            // as chmod 600 leaves it: fernet refuses a key file open to group or others
            Files.write(
                    posix
                            ? Files.createFile(
                                    keyFile,
                                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                            : keyFile,
                    key);
            String keyText = new String(key, StandardCharsets.US_ASCII).trim();
            byte[] token = run(Map.of(), MESSAGE, "encrypt", "--key-file", keyFile.toString());
            check(Arrays.equals(
                    MESSAGE, run(Map.of(), token, "decrypt", "--key-file", keyFile.toString(), "--ttl", "60")));
            byte[] fromEnvironment = run(Map.of(KeyOptions.ENV_VARIABLE, keyText), MESSAGE, "encrypt");
            check(Arrays.equals(MESSAGE, run(Map.of(KeyOptions.ENV_VARIABLE, keyText), fromEnvironment, "decrypt")));
            // a refused token loads the failure path too
            token[token.length / 2] ^= 1;
            check(status(Map.of(KeyOptions.ENV_VARIABLE, keyText), token, "decrypt") == Main.REFUSED);
            // picocli's path, which every other command takes (the tunnel, psk, help): the JDK's reflection and
            // annotation classes it needs are archived, though picocli's own (Java 5 class files) cannot be
            run(Map.of(), new byte[0], "--version");
            run(Map.of(), new byte[0], "tunnel", "--help");
            run(Map.of(), new byte[0], "psk", "--key-file", keyFile.toString());
            // what a tunnel builds at start, either direction: the socket factories and their TLS crypto
            FernetKeyRing ring = FernetKeyRing.readKeyFile(keyFile);
            try {
                new FernetServerSocketFactory(ring, FernetSocketOptions.fromConfiguration());
                new FernetSocketFactory(ring, FernetSocketOptions.fromConfiguration());
            } finally {
                ring.destroy();
            }
        } finally {
            Files.deleteIfExists(keyFile);
            Files.deleteIfExists(dir);
        }
    }

    /** Runs one command line, fails the training unless it succeeds, and returns what it wrote. */
    private static byte[] run(Map<String, String> env, byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = new PrintStream(out, true, StandardCharsets.UTF_8);
        check(Main.run(args, new ByteArrayInputStream(stdin), stdout, discard(), env) == Main.OK);
        return out.toByteArray();
    }

    private static int status(Map<String, String> env, byte[] stdin, String... args) {
        InputStream in = new ByteArrayInputStream(stdin);
        return Main.run(args, in, discard(), discard(), env);
    }

    private static PrintStream discard() {
        return new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    }

    private static void check(boolean expected) {
        if (!expected) {
            throw new IllegalStateException("a training command did not give the expected result");
        }
    }
}
