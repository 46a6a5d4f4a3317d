package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/** Child JVMs, key files and free ports for the ITs that run clients and servers as separate processes. */
final class Processes {
    /** How long one child JVM may take to do its job; it is killed after that. */
    static final long CHILD_SECONDS = 60;

    private Processes() {
    }

    /** The outcome of a child process run to completion. */
    record Result(int status, String stdout, String stderr) {
    }

    /** The JDK's {@code java} launcher, the one running this test. */
    static String javaLauncher() {
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A JVM that runs {@code main} on {@code classPath} with {@code options}, without the developer's own keys. */
    static ProcessBuilder java(String classPath, List<String> options, Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        command.add(javaLauncher());
        command.add("-cp");
        command.add(classPath);
        command.addAll(options);
        command.add(main.getName());
        command.addAll(List.of(args));
        return withoutKeys(new ProcessBuilder(command));
    }

    /** Removes from the child's environment every variable that could hand it keys or JVM flags. */
    static ProcessBuilder withoutKeys(ProcessBuilder builder) {
        return ExternalTools.clean(builder);
    }

    static String keyFileFlag(Path keyFile) {
        return "-Dfernet.keyFile=" + keyFile;
    }

    /** Runs a process to completion, its outputs to files so no pipe fills up; killed if it outlives its bound. */
    static Result run(ProcessBuilder builder, Path dir) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "stdout", "");
        Path err = Files.createTempFile(dir, "stderr", "");
        Process process = builder.redirectInput(ProcessBuilder.Redirect.PIPE).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        try {
            process.getOutputStream().close();
            assertTrue(process.waitFor(CHILD_SECONDS, TimeUnit.SECONDS), "child did not finish in " + CHILD_SECONDS
                    + " s: " + builder.command() + "\n" + Files.readString(err));
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            process.destroyForcibly();
        }
    }

    /** Writes a new Fernet key to a file as {@code fernet keygen > file && chmod 600 file} would. */
    static Path newKeyFile(Path dir, String name) throws Exception {
        SecretKey key = KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
        Path keyFile = dir.resolve(name);
        try {
            // a key file open to group or others is refused
            Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(keyFile);
        }
        byte[] raw = key.getEncoded();
        Files.writeString(keyFile, Base64.getUrlEncoder().encodeToString(raw) + "\n", US_ASCII);
        Arrays.fill(raw, (byte) 0);
        return keyFile;
    }

    /** A port free a moment ago on the loopback address; whoever binds it next may still lose a race. */
    static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    static boolean contains(byte[] haystack, String needle) {
        return new String(haystack, US_ASCII).contains(needle);
    }
}
