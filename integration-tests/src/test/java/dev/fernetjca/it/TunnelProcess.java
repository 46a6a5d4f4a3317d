package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code java -jar fernet.jar tunnel --listen 127.0.0.1:0 --connect 127.0.0.1:TARGET --decrypt --key-file KEY} in a
 * child process, as docs/guides give it: encrypted connections in, plain out to the target. Its log (standard error)
 * goes to a file, read for the port it printed and for its one line per connection.
 */
final class TunnelProcess implements AutoCloseable {
    private static final long STARTUP_SECONDS = 30;
    private static final Pattern LISTENING = Pattern.compile(
            "fernet tunnel: listening on 127\\.0\\.0\\.1:(\\d+), decrypting tls to .*");

    private final Process process;
    private final Path log;
    private final int port;

    private TunnelProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** The CLI jar the build made, from the {@code fernet.cli.jar} system property that failsafe sets. */
    static Path cliJar() {
        String property = System.getProperty("fernet.cli.jar");
        assertTrue(property != null, "the fernet.cli.jar system property is not set; run through Maven failsafe");
        Path jar = Paths.get(property).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(jar), jar + " does not exist; build the cli module first");
        return jar;
    }

    /** Starts a decrypting tunnel in front of {@code 127.0.0.1:targetPort}; returns once it listens. */
    static TunnelProcess decryptingTo(int targetPort, Path keyFile, Path log) throws IOException, InterruptedException {
        ProcessBuilder builder = Processes.withoutKeys(new ProcessBuilder(Processes.javaLauncher(), "-jar",
                cliJar().toString(), "tunnel", "--listen", "127.0.0.1:0", "--connect", "127.0.0.1:" + targetPort,
                "--decrypt", "--key-file", keyFile.toString()));
        Process process = builder.redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(log.toFile()).start();
        TunnelProcess tunnel = new TunnelProcess(process, log, 0);
        try {
            String listening = tunnel.awaitLine(line -> line.startsWith("fernet tunnel: listening on "),
                    STARTUP_SECONDS);
            Matcher matcher = LISTENING.matcher(listening);
            assertTrue(matcher.matches(), "unexpected first line: " + listening);
            return new TunnelProcess(process, log, Integer.parseInt(matcher.group(1)));
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            tunnel.close();
            throw e;
        }
    }

    int port() {
        return port;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    List<String> lines() throws IOException {
        return Files.readAllLines(log);
    }

    /**
     * Waits for a log line; the tunnel writes a connection's line only once both sides have closed, a moment after
     * the client is done.
     */
    String awaitLine(Predicate<String> wanted, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            Optional<String> line = lines().stream().filter(wanted).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                fail("the tunnel " + (process.isAlive() ? "did not log the line in " + seconds + " s"
                        : "exited with status " + process.exitValue()) + "; its log:\n" + String.join("\n", lines()));
            }
            Thread.sleep(50);
        }
    }

    /** The log line of connection {@code #number}, once written. */
    String connectionLine(int number) throws IOException, InterruptedException {
        return awaitLine(line -> line.startsWith("fernet tunnel: #" + number + " "), 30);
    }

    /** Stops the tunnel as a service manager would, SIGTERM, and kills it if it has not drained in 20 seconds. */
    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.destroyForcibly();
        }
    }
}
