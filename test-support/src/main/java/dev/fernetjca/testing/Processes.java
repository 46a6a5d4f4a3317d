package dev.fernetjca.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Child processes for tests: a JVM or program run to its end with its outputs kept, the environment a child must not
 * inherit, and free ports. Long-running children are {@link Child}.
 *
 * <p>Stateless; safe to use from any thread.
 */
public final class Processes {
    /** JVM options a developer may have set for their own programs: a child must run as the test says, not as they. */
    private static final List<String> JVM_OPTION_VARIABLES =
            List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");

    /** How long a child JVM may take to do one job before it is killed: generous, for a loaded machine. */
    public static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);

    private Processes() {}

    /** What a finished process left: its status, its standard output as bytes, and its standard error as text. */
    public record Result(int status, byte[] stdoutBytes, String stderr) {
        /** Returns the standard output as UTF-8 text. */
        public String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }
    }

    /**
     * Returns {@code builder} without the developer's own configuration in its environment: every {@code FERNET_*}
     * variable (keys, key files, KeyStores, mode, TTL, timeouts, and any added later) and every JVM options variable.
     * A test that wants one of them sets it again after this.
     */
    public static ProcessBuilder scrub(ProcessBuilder builder) {
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(name -> name.startsWith("FERNET_") || JVM_OPTION_VARIABLES.contains(name));
        return builder;
    }

    /** The JDK's {@code java} launcher, the one running this test. */
    public static String javaLauncher() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A scrubbed JVM that runs {@code main} on {@code classPath} with {@code options}. */
    public static ProcessBuilder java(String classPath, List<String> options, Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        command.add(javaLauncher());
        command.add("-cp");
        command.add(classPath);
        command.addAll(options);
        command.add(main.getName());
        command.addAll(List.of(args));
        return scrub(new ProcessBuilder(command));
    }

    /** A scrubbed {@code java -jar jar ARGS}. */
    public static ProcessBuilder javaJar(Path jar, String... args) {
        List<String> command = new ArrayList<>();
        command.add(javaLauncher());
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(List.of(args));
        return scrub(new ProcessBuilder(command));
    }

    /**
     * Runs a process to its end with {@code stdin} as its input and its outputs kept in temporary files, so that no
     * pipe can fill up; kills it, and fails, if it outlives {@code timeout}.
     */
    public static Result run(ProcessBuilder builder, byte[] stdin, Duration timeout)
            throws IOException, InterruptedException {
        Path in = Files.createTempFile("fernet-test-stdin", "");
        Path out = Files.createTempFile("fernet-test-stdout", "");
        Path err = Files.createTempFile("fernet-test-stderr", "");
        try {
            Files.write(in, stdin);
            Process process = builder.redirectInput(in.toFile())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("still running after " + timeout.toMillis() + " ms: "
                            + builder.command().get(0) + "\n" + Files.readString(err));
                }
                return new Result(process.exitValue(), Files.readAllBytes(out), Files.readString(err));
            } finally {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * Runs {@code command} to its end within {@code timeout}, no input, and returns its standard output and error
     * merged; fails if it exits with a status other than 0, naming the program and its subcommand only (later
     * arguments may carry a test key).
     */
    public static String output(Duration timeout, String... command) throws IOException, InterruptedException {
        Result result = run(new ProcessBuilder(command).redirectErrorStream(true), new byte[0], timeout);
        if (result.status() != 0) {
            throw new AssertionError(command[0] + (command.length > 1 ? " " + command[1] : "") + " exited with status "
                    + result.status() + ":\n" + result.stdout());
        }
        return result.stdout();
    }

    /** A port free a moment ago on the loopback address; whoever binds it next may still lose a race. */
    public static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }
}
