package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.ExternalTools;
import dev.fernetjca.testing.KeyFiles;
import dev.fernetjca.testing.Processes;
import dev.fernetjca.testing.Processes.Result;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code bin/fernet}, the launcher that docs/cli.md and the README tell users to run, as a shell runs it: a real
 * round trip through {@code keygen}, {@code encrypt} and {@code decrypt}, with the class-data-sharing archive the cli
 * build makes and with an archive the JVM cannot use, so that neither a broken flag, a wrong path nor a stale archive
 * can break the launcher, or slow it down, without a failing test.
 */
class LauncherIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final byte[] MESSAGE = "attack at dawn\n".getBytes(StandardCharsets.UTF_8);

    private static Path launcher;

    @TempDir
    Path dir;

    @BeforeAll
    static void findLauncher() {
        ExternalTools.require("sh");
        String root = System.getProperty("fernet.repo.root");
        assertTrue(root != null, "the fernet.repo.root system property is not set; run through Maven failsafe");
        launcher = Path.of(root, "bin", "fernet").toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(launcher), launcher + " is missing or not executable");
    }

    /** Returns {@code LAUNCHER ARGS} with this JVM's JDK as JAVA_HOME (the one that made the archive). */
    private static ProcessBuilder run(Path launcher, String... args) {
        List<String> command = new ArrayList<>();
        command.add(launcher.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = Processes.scrub(new ProcessBuilder(command));
        builder.environment().remove("FERNET_JAVA_OPTS");
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return builder;
    }

    private static Result succeed(ProcessBuilder builder, byte[] stdin) throws IOException, InterruptedException {
        Result result = Processes.run(builder, stdin, TIMEOUT);
        assertEquals(0, result.status(), result.stderr());
        // the JVM's own warnings (an archive it cannot use, a flag) would go to standard error: there must be none
        assertEquals("", result.stderr());
        return result;
    }

    /** Runs keygen, encrypt and decrypt through {@code launcher} and checks that the message comes back. */
    private void roundTrip(Path launcher) throws IOException, InterruptedException {
        String key = succeed(run(launcher, "keygen"), new byte[0]).stdout();
        assertTrue(key.matches("[A-Za-z0-9_-]{43}=\n"), "keygen printed something else than a key");
        Path keyFile = KeyFiles.write(dir.resolve("fernet.key"), key.trim());
        byte[] token = succeed(run(launcher, "encrypt", "--key-file", keyFile.toString()), MESSAGE)
                .stdoutBytes();
        assertTrue(
                new String(token, StandardCharsets.US_ASCII).matches("gAAAAA[A-Za-z0-9_=-]+\n"),
                "encrypt printed something else than one token and a newline");
        byte[] plaintext = succeed(run(launcher, "decrypt", "--key-file", keyFile.toString(), "--ttl", "60"), token)
                .stdoutBytes();
        assertArrayEquals(MESSAGE, plaintext);
        // and a refused token still says so, with status 1, through the launcher
        token[token.length / 2] ^= 1;
        Result refused = Processes.run(run(launcher, "decrypt", "--key-file", keyFile.toString()), token, TIMEOUT);
        assertEquals(1, refused.status(), refused.stderr());
        assertEquals(0, refused.stdoutBytes().length);
    }

    @Test
    void roundTripsThroughTheLauncherAndItsArchive() throws IOException, InterruptedException {
        roundTrip(launcher);
        // the archive the build made beside the jar is the one the JVM maps: classes come from it, not the jar
        Path archive = FernetCli.jar().resolveSibling("fernet.jsa");
        assertTrue(Files.isRegularFile(archive), archive + " is missing: the cli build makes it (exec-maven-plugin)");
        Path classLog = dir.resolve("classes.log");
        ProcessBuilder logged = run(launcher, "--version");
        logged.environment().put("FERNET_JAVA_OPTS", "-Xlog:class+load=info:file=" + classLog);
        succeed(logged, new byte[0]);
        long fromArchive = Files.readAllLines(classLog).stream()
                .filter(line -> line.contains("dev.fernetjca.cli.Main source: shared objects file (top)"))
                .count();
        assertEquals(1, fromArchive, "dev.fernetjca.cli.Main did not come from fernet.jsa: the archive is not used");
    }

    @Test
    void runsWithoutAnArchiveItCannotUse() throws IOException, InterruptedException {
        // an installed copy: launcher and jar in one directory; the archive made for the jar's build path does not fit
        Path installed = Files.createDirectories(dir.resolve("opt"));
        Files.copy(launcher, installed.resolve("fernet"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(FernetCli.jar(), installed.resolve("fernet.jar"));
        Path archive = FernetCli.jar().resolveSibling("fernet.jsa");
        if (Files.isRegularFile(archive)) {
            Files.copy(archive, installed.resolve("fernet.jsa"));
            roundTrip(installed.resolve("fernet"));
        }
        // nor does a file that is no archive at all
        Files.deleteIfExists(installed.resolve("fernet.jsa"));
        Files.writeString(installed.resolve("fernet.jsa"), "not an archive\n");
        roundTrip(installed.resolve("fernet"));
    }

    @Test
    void runsThroughASymbolicLinkAndStartsATunnelJvm() throws IOException, InterruptedException {
        Path link;
        try {
            link = Files.createSymbolicLink(dir.resolve("fernet"), launcher);
        } catch (UnsupportedOperationException e) {
            ExternalTools.unavailable("symbolic links");
            return;
        }
        try {
            assertTrue(succeed(run(link, "--version"), new byte[0]).stdout().startsWith("fernet (fernet-jca) "));
            // the tunnel's own JVM flags: a JVM that refused one would not get as far as printing the help
            assertTrue(
                    succeed(run(link, "tunnel", "--help"), new byte[0]).stdout().contains("--listen"));
        } finally {
            Files.delete(link); // the link, not the launcher
        }
    }
}
