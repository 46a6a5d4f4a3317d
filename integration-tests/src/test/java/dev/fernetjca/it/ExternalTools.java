package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Programs outside the JVM that these tests run ({@code python3} with {@code cryptography}, {@code openssl}, the
 * {@code fernet} jar) and the child processes they start.
 *
 * <p>A missing program skips the test with the reason shown in the report, except under {@code CI=true}, where it
 * fails: CI must install what its tests need, and a green run that skipped them all proves nothing. This is the rule
 * of the factory module's {@code ExternalTools}, repeated here because test classes do not cross modules.
 *
 * <p>Stateless; each {@link Child} is for one test thread.
 */
final class ExternalTools {
    /** Environment variables that must not reach a child: the developer's own keys and JVM options. */
    static final List<String> UNWANTED_VARIABLES = List.of("FERNET_KEY", "FERNET_KEY_FILE", "FERNET_KEYSTORE",
            "FERNET_KEYSTORE_PASSWORD", "FERNET_KEYSTORE_TYPE", "FERNET_KEY_ALIAS", "FERNET_MODE", "FERNET_TTL",
            "FERNET_HANDSHAKE_TIMEOUT", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS");

    private static final Pattern PYTHON_NAME = Pattern.compile("python3(\\.\\d+)?");

    private ExternalTools() {
    }

    /** Returns the path of {@code program} on {@code PATH}; skips the test, or fails it under {@code CI=true}. */
    static Path require(String program) {
        for (Path dir : pathDirectories()) {
            Path candidate = dir.resolve(program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        unavailable(program + " not found on PATH");
        throw new AssertionError("unreachable");
    }

    /** Returns {@code openssl}, version 3 or later (TLS 1.3 external PSKs); skips or fails if there is none. */
    static Path openssl() throws IOException, InterruptedException {
        Path openssl = require("openssl");
        Result version = run(new ProcessBuilder(openssl.toString(), "version"), new byte[0], Duration.ofSeconds(10));
        String text = version.stdoutText().trim();
        if (version.status() != 0 || !text.matches("OpenSSL [3-9]\\..*")) {
            unavailable("openssl 3 or later, found " + text);
        }
        return openssl;
    }

    /** A Python interpreter that imports {@code cryptography}. */
    record Python(Path executable, String realPath, String version, String cryptographyVersion) {
        @Override
        public String toString() {
            return "python " + version + ", cryptography " + cryptographyVersion + " (" + realPath + ")";
        }
    }

    /**
     * Returns every Python 3 on this machine that imports {@code cryptography}: each {@code python3} and
     * {@code python3.N} on {@code PATH}, and {@code /usr/bin/python3}, once per real interpreter (a pyenv shim and the
     * interpreter it runs count once). Never empty: with none found, the list holds the reason, and
     * {@link #requirePython(Object)} skips the test, or fails it under {@code CI=true}.
     */
    static List<Object> pythons() throws IOException, InterruptedException {
        Set<Path> candidates = new LinkedHashSet<>();
        for (Path dir : pathDirectories()) {
            try (var entries = Files.list(dir)) {
                entries.filter(p -> PYTHON_NAME.matcher(p.getFileName().toString()).matches())
                        .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p)).sorted().forEach(candidates::add);
            } catch (IOException e) {
                // a PATH entry that is not a readable directory holds no Python
            }
        }
        Path system = Path.of("/usr/bin/python3");
        if (Files.isExecutable(system)) {
            candidates.add(system);
        }
        Map<String, Python> byRealPath = new LinkedHashMap<>();
        List<String> refused = new ArrayList<>();
        for (Path candidate : candidates) {
            Result probe = run(new ProcessBuilder(candidate.toString(), "-c",
                    "import os, sys, cryptography; print(os.path.realpath(sys.executable)); "
                            + "print('%d.%d.%d' % sys.version_info[:3]); print(cryptography.__version__)"),
                    new byte[0], Duration.ofSeconds(30));
            String[] lines = probe.stdoutText().trim().split("\n");
            if (probe.status() != 0 || lines.length != 3) {
                refused.add(candidate + " (no cryptography, or not runnable)");
                continue;
            }
            byRealPath.putIfAbsent(lines[0].trim(),
                    new Python(candidate, lines[0].trim(), lines[1].trim(), lines[2].trim()));
        }
        if (byRealPath.isEmpty()) {
            return List.of("no python3 with the cryptography package; tried " + candidates + ", refused " + refused);
        }
        return List.copyOf(byRealPath.values());
    }

    /** Returns {@code argument} as a Python, or skips (fails under {@code CI=true}) if it is the reason for none. */
    static Python requirePython(Object argument) {
        if (argument instanceof Python python) {
            return python;
        }
        unavailable(String.valueOf(argument));
        throw new AssertionError("unreachable");
    }

    /** Skips the test because an external tool is unusable (missing, too old), or fails it under {@code CI=true}. */
    static void unavailable(String reason) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("external tool required under CI=true: " + reason);
        }
        Assumptions.abort("external tool required: " + reason + " (this test fails instead when CI=true)");
    }

    private static List<Path> pathDirectories() {
        List<Path> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                dirs.add(Path.of(dir.isEmpty() ? "." : dir));
            }
        }
        return dirs;
    }

    /** Returns {@code builder} with the developer's keys and JVM options removed from its environment. */
    static ProcessBuilder clean(ProcessBuilder builder) {
        for (String variable : UNWANTED_VARIABLES) {
            builder.environment().remove(variable);
        }
        return builder;
    }

    /** What a finished process left. */
    record Result(int status, byte[] stdout, String stderr) {
        String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    /**
     * Runs a process to its end with {@code stdin} as its input and its outputs kept in temporary files, so that no pipe
     * can fill up; kills it if it outlives {@code timeout}.
     */
    static Result run(ProcessBuilder builder, byte[] stdin, Duration timeout) throws IOException, InterruptedException {
        Path in = Files.createTempFile("fernet-it-stdin", "");
        Path out = Files.createTempFile("fernet-it-stdout", "");
        Path err = Files.createTempFile("fernet-it-stderr", "");
        try {
            Files.write(in, stdin);
            Process process = builder.redirectInput(in.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("still running after " + timeout.toMillis() + " ms: "
                            + builder.command().get(0) + "\n" + Files.readString(err));
                }
                return new Result(process.exitValue(), Files.readAllBytes(out), Files.readString(err));
            } finally {
                process.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * A long-running child process whose merged output is read line by line on a thread of its own, so that it never
     * blocks on a full pipe; closing it kills the process and its descendants.
     */
    static final class Child implements AutoCloseable {
        private final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> seen = new ArrayList<>();
        private final Thread reader;

        private Child(Process process) {
            this.process = process;
            this.reader = new Thread(this::pump, "output of pid " + process.pid());
            reader.setDaemon(true);
            reader.start();
        }

        static Child start(ProcessBuilder builder) throws IOException {
            return new Child(builder.redirectErrorStream(true).start());
        }

        private void pump() {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process was killed; what it printed before is kept
            }
        }

        OutputStream stdin() {
            return process.getOutputStream();
        }

        Process process() {
            return process;
        }

        /**
         * Returns the first line not yet consumed that matches, waiting at most {@code timeout}.
         *
         * @throws AssertionError on timeout, or if the process ends first, with everything it printed
         */
        synchronized String awaitLine(Predicate<String> wanted, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                String line = lines.poll(Math.max(0, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100))),
                        TimeUnit.NANOSECONDS);
                if (line != null) {
                    seen.add(line);
                    if (wanted.test(line)) {
                        return line;
                    }
                    continue;
                }
                if (!process.isAlive() && !reader.isAlive() && lines.isEmpty()) {
                    throw new AssertionError("process ended (status " + process.exitValue()
                            + ") before the expected line:\n" + String.join("\n", seen));
                }
                if (left <= 0) {
                    throw new AssertionError("no expected line within " + timeout.toMillis() + " ms:\n"
                            + String.join("\n", seen));
                }
            }
        }

        /** Waits for the process to end and its output to be read, at most {@code timeout}; returns its status. */
        int waitFor(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new AssertionError("process still running after " + timeout.toMillis() + " ms:\n" + output());
            }
            reader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            return process.exitValue();
        }

        /** Returns everything printed so far, consumed lines included. */
        synchronized String output() {
            List<String> all = new ArrayList<>(seen);
            all.addAll(lines);
            return String.join("\n", all);
        }

        @Override
        public void close() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    throw new AssertionError("process " + process.pid() + " survived destroyForcibly");
                }
                reader.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the process is killed either way
            }
        }
    }
}
