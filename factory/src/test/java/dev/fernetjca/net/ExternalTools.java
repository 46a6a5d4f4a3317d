package dev.fernetjca.net;

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
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * Programs outside the JVM that interop tests run, such as {@code openssl}, and the child processes they start.
 *
 * <p>A missing program skips the test with the reason shown in the report, except under {@code CI=true}, where it
 * fails: CI must install what its tests need, and a green run that skipped them all proves nothing.
 *
 * <p>Stateless; each {@link Child} is for one test thread.
 */
final class ExternalTools {
    private ExternalTools() {
    }

    /** Returns the path of {@code program} on {@code PATH}; skips the test, or fails it under {@code CI=true}. */
    static Path require(String program) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        unavailable(program + " not found on PATH");
        throw new AssertionError("unreachable");
    }

    /**
     * Returns the path of {@code openssl}, version 3 or later (for {@code openssl kdf} and TLS 1.3 external PSKs);
     * skips the test, or fails it under {@code CI=true}, if there is none.
     */
    static Path openssl() throws IOException, InterruptedException {
        Path openssl = require("openssl");
        String version = run(Duration.ofSeconds(10), openssl.toString(), "version").trim();
        if (!version.matches("OpenSSL [3-9]\\..*")) {
            unavailable("openssl 3 or later, found " + version);
        }
        return openssl;
    }

    /**
     * Skips the test because an external tool is unusable (missing, too old), or fails it under {@code CI=true}.
     */
    static void unavailable(String reason) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("external tool required under CI=true: " + reason);
        }
        Assumptions.abort("external tool required: " + reason + " (this test fails instead when CI=true)");
    }

    /** Runs a program to its end within {@code timeout} and returns its standard output and error, merged. */
    static String run(Duration timeout, String... command) throws IOException, InterruptedException {
        try (Child child = Child.start(command)) {
            child.closeInput();
            int status = child.waitFor(timeout);
            String output = child.output();
            if (status != 0) {
                // the program and its subcommand only: later arguments may carry a test key
                throw new AssertionError(command[0] + (command.length > 1 ? " " + command[1] : "") + " exited with status " + status + ":\n" + output);
            }
            return output;
        }
    }

    /**
     * A child process whose merged output is read line by line on a thread of its own, so that it never blocks on a
     * full pipe; closing it kills the process and its descendants.
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

        static Child start(String... command) throws IOException {
            return new Child(new ProcessBuilder(command).redirectErrorStream(true).start());
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

        /** Returns the process's standard input. */
        OutputStream stdin() {
            return process.getOutputStream();
        }

        void closeInput() throws IOException {
            process.getOutputStream().close();
        }

        /**
         * Returns the first line not yet consumed that matches, waiting at most {@code timeout}.
         *
         * @throws AssertionError on timeout, or if the process ends first, with everything it printed
         */
        String awaitLine(Predicate<String> wanted, Duration timeout) throws InterruptedException {
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

        /**
         * Waits for the process to end and its output to be read, at most {@code timeout}, and returns its status.
         *
         * @throws AssertionError if it is still running then; {@link #close()} kills it
         */
        int waitFor(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new AssertionError("process still running after " + timeout.toMillis() + " ms:\n" + output());
            }
            reader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            return process.exitValue();
        }

        /** Returns everything printed so far, consumed lines included. */
        String output() {
            List<String> all = new ArrayList<>(seen);
            all.addAll(lines);
            return String.join("\n", all);
        }

        @Override
        public void close() throws InterruptedException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                throw new AssertionError("process " + process.pid() + " survived destroyForcibly");
            }
            reader.join(TimeUnit.SECONDS.toMillis(5));
        }
    }
}
