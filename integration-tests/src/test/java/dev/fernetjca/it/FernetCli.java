package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.Child;
import dev.fernetjca.testing.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shaded {@code fernet.jar}, run as users run it ({@code java -jar}), and what the tests need around it: keys made
 * by {@code fernet keygen}, and {@code fernet tunnel} processes. Key files are {@code dev.fernetjca.testing.KeyFiles}.
 *
 * <p>Stateless; each {@link TunnelProcess} is for one test thread.
 */
final class FernetCli {
    private static final Duration STARTUP = Duration.ofSeconds(30);
    private static final Pattern LISTENING = Pattern.compile("fernet tunnel: listening on (\\S+):(\\d+), .*");

    private FernetCli() {}

    /** Returns the jar that failsafe's {@code fernet.cli.jar} names. */
    static Path jar() {
        String property = System.getProperty("fernet.cli.jar");
        assertTrue(property != null, "the fernet.cli.jar system property is not set; run through Maven failsafe");
        Path jar = Paths.get(property).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(jar), jar + " does not exist; build the cli module first");
        return jar;
    }

    /** Returns {@code java -jar fernet.jar ARGS}, without the developer's keys in its environment. */
    static ProcessBuilder fernet(String... args) {
        return Processes.javaJar(jar(), args);
    }

    /** Runs {@code fernet keygen} and returns the key it printed. */
    static String keygen() throws IOException, InterruptedException {
        Processes.Result result = Processes.run(fernet("keygen"), new byte[0], Duration.ofSeconds(60));
        assertEquals(0, result.status(), result.stderr());
        String key = result.stdout().trim();
        assertEquals(44, key.length(), "fernet keygen printed something else than a key");
        return key;
    }

    /** A running {@code fernet tunnel}; {@link #close()} kills it, {@link #terminate()} stops it as SIGTERM does. */
    static final class TunnelProcess implements AutoCloseable {
        private final Child child;
        private final int port;
        private final List<String> args;

        private TunnelProcess(Child child, int port, List<String> args) {
            this.child = child;
            this.port = port;
            this.args = args;
        }

        /**
         * Starts {@code fernet tunnel ARGS} and waits for its {@code listening on} line.
         *
         * @param args the tunnel's options; {@code --listen HOST:0} works, the port chosen is {@link #port()}
         */
        static TunnelProcess start(String... args) throws IOException, InterruptedException {
            return start(Map.of(), args);
        }

        /** Starts {@code fernet tunnel ARGS} as {@link #start(String...)} does, with {@code environment} added. */
        static TunnelProcess start(Map<String, String> environment, String... args)
                throws IOException, InterruptedException {
            List<String> all = new ArrayList<>();
            all.add("tunnel");
            all.addAll(List.of(args));
            ProcessBuilder builder = fernet(all.toArray(String[]::new));
            builder.environment().putAll(environment);
            Child child = Child.start(builder);
            try {
                String line = child.awaitLine(l -> LISTENING.matcher(l).matches(), STARTUP);
                Matcher matcher = LISTENING.matcher(line);
                assertTrue(matcher.matches());
                return new TunnelProcess(child, Integer.parseInt(matcher.group(2)), List.copyOf(all));
            } catch (RuntimeException | Error | InterruptedException e) {
                child.close();
                throw e;
            }
        }

        /** Starts {@code fernet tunnel --decrypt} on a free port of 127.0.0.1 in front of {@code 127.0.0.1:targetPort}. */
        static TunnelProcess decryptingTo(int targetPort, Path keyFile) throws IOException, InterruptedException {
            return start(
                    "--listen",
                    "127.0.0.1:0",
                    "--connect",
                    "127.0.0.1:" + targetPort,
                    "--decrypt",
                    "--key-file",
                    keyFile.toString());
        }

        int port() {
            return port;
        }

        /**
         * Returns the log line of connection {@code #number}, waiting up to 30 seconds: the tunnel writes it once both
         * sides have closed, a moment after the client is done. Reading it does not consume it.
         */
        String connectionLine(int number) throws InterruptedException {
            String prefix = "fernet tunnel: #" + number + " ";
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                for (String line : child.output().split("\n")) {
                    if (line.startsWith(prefix)) {
                        return line;
                    }
                }
                assertTrue(
                        System.nanoTime() < deadline && isAlive(),
                        "no log line for connection #" + number + (isAlive() ? " in 30 s" : ": the tunnel exited")
                                + "; its log:\n" + log());
                Thread.sleep(50);
            }
        }

        long pid() {
            return child.process().pid();
        }

        /** Sends SIGHUP, as {@code kill -HUP} or {@code systemctl reload} does: the tunnel re-reads its key file. */
        void hangup() throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(pid()))
                    .inheritIO()
                    .start();
            assertEquals(0, kill.waitFor(), "kill -HUP " + pid());
        }

        boolean isAlive() {
            return child.process().isAlive();
        }

        /** Returns the next log line not yet consumed that contains {@code text}, waiting at most 30 seconds. */
        String awaitLine(String text) throws InterruptedException {
            return child.awaitLine(line -> line.contains(text), Duration.ofSeconds(30));
        }

        /** Everything the tunnel printed so far. */
        String log() {
            return child.output();
        }

        /**
         * Sends SIGTERM, as a service manager stops the tunnel. Through {@link ProcessHandle#destroy()}: on Unix
         * {@link Process#destroy()} sends SIGTERM too, but also closes our end of the tunnel's output pipe, which
         * would lose every line it logs while it drains.
         */
        void terminate() {
            child.process().toHandle().destroy();
        }

        /** Waits for the tunnel to exit, at most {@code timeout}; returns its status. */
        int waitFor(Duration timeout) throws InterruptedException {
            return child.waitFor(timeout);
        }

        @Override
        public void close() {
            child.close();
        }

        @Override
        public String toString() {
            return "fernet " + String.join(" ", args) + " (pid " + pid() + ", port " + port + ")";
        }
    }
}
