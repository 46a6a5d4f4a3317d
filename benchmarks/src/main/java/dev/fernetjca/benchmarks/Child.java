package dev.fernetjca.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process of the comparison: its standard output read line by line with a deadline, its standard input for
 * control lines, its standard error into a log file (so that a chatty child can never block on a full pipe).
 *
 * <p>Not thread-safe: one owner thread.
 */
final class Child implements AutoCloseable {
    private static final String END = "\u0000end";
    private final Process process;
    private final PrintWriter input;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final String name;

    private Child(String name, Process process) {
        this.name = name;
        this.process = process;
        this.input = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader out = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line = out.readLine(); line != null; line = out.readLine()) {
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        // the process ended
                    }
                    lines.add(END);
                },
                "child-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code command}; its standard error goes to {@code log}. */
    static Child start(String name, List<String> command, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
        return new Child(name, builder.start());
    }

    /** The next line of standard output, waiting at most {@code seconds}. */
    String readLine(long seconds) throws IOException, InterruptedException {
        String line = lines.poll(seconds, TimeUnit.SECONDS);
        if (line == null || line.equals(END)) {
            throw new IOException(name + ": "
                    + (line == null
                            ? "no answer within " + seconds + " s"
                            : "ended without an answer (exit " + exitCode() + "), see its log"));
        }
        return line;
    }

    /** The next line of standard output that starts with {@code prefix}, without it. */
    String expect(String prefix, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            String line = readLine(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())));
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
    }

    void send(String line) {
        input.println(line);
    }

    long pid() {
        return process.pid();
    }

    private String exitCode() {
        return process.isAlive() ? "none yet" : Integer.toString(process.exitValue());
    }

    /** Waits up to {@code seconds} for the process to end; true if it ended with status 0. */
    boolean waitFor(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) && process.exitValue() == 0;
    }

    /** Ends the process: the end of its input and SIGTERM, then SIGKILL after 15 s. */
    @Override
    public void close() {
        input.close();
        try {
            if (!process.waitFor(1, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor();
                }
            }
        } catch (InterruptedException e) {
            // an interrupted benchmark leaves no child behind; the interrupt stays for the caller
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Resident memory of a process in MB, from {@code /proc/PID/status} (VmRSS); NaN where there is no /proc. */
    static double residentMegabytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // reported as NaN
        }
        return Double.NaN;
    }

    /** A port that was free a moment ago, for tools that cannot listen on port 0 and say which port they got. */
    static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** Waits until something accepts connections on {@code port}, or fails after {@code seconds}. */
    static void awaitListening(int port, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try {
                new Socket(InetAddress.getLoopbackAddress(), port).close();
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("nothing listens on port " + port + " after " + seconds + " s", e);
                }
                Thread.sleep(50);
            }
        }
    }

    /** Waits until {@code log} has a line containing {@code marker}; returns that line. */
    static String awaitLogLine(Path log, String marker, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    if (line.contains(marker)) {
                        return line;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new IOException("no line with '" + marker + "' in " + log + " after " + seconds + " s");
    }
}
