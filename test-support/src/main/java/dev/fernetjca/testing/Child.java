package dev.fernetjca.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A long-running child process whose merged output is read line by line on a thread of its own, so that it never
 * blocks on a full pipe; closing it kills the process and its descendants. For a process run to its end, use
 * {@link Processes#run(ProcessBuilder, byte[], Duration)}.
 *
 * <p>For one test thread; {@link #close()} from any thread.
 */
public final class Child implements AutoCloseable {
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

    /** Starts {@code builder} with standard error merged into standard output. */
    public static Child start(ProcessBuilder builder) throws IOException {
        return new Child(builder.redirectErrorStream(true).start());
    }

    /** Starts {@code command} as it is, environment included: scrub it first if it must not see the developer's keys. */
    public static Child start(String... command) throws IOException {
        return start(new ProcessBuilder(command));
    }

    private void pump() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                lines.add(line);
            }
        } catch (IOException e) {
            // the process was killed; what it printed before is kept
        }
    }

    /** Returns the process's standard input. */
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    public void closeInput() throws IOException {
        process.getOutputStream().close();
    }

    public Process process() {
        return process;
    }

    /**
     * Returns the first line not yet consumed that matches, waiting at most {@code timeout}.
     *
     * @throws AssertionError on timeout, or if the process ends first, with everything it printed
     */
    public synchronized String awaitLine(Predicate<String> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line =
                    lines.poll(Math.max(0, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100))), TimeUnit.NANOSECONDS);
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
                throw new AssertionError(
                        "no expected line within " + timeout.toMillis() + " ms:\n" + String.join("\n", seen));
            }
        }
    }

    /**
     * Waits for the process to end and its output to be read, at most {@code timeout}, and returns its status.
     *
     * @throws AssertionError if it is still running then; {@link #close()} kills it
     */
    public int waitFor(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new AssertionError("process still running after " + timeout.toMillis() + " ms:\n" + output());
        }
        reader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        return process.exitValue();
    }

    /** Returns everything printed so far, consumed lines included. */
    public synchronized String output() {
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
