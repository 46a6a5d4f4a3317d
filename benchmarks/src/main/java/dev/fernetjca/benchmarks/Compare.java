package dev.fernetjca.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The side-by-side comparison of issue 9: our sockets, tunnel, RMI factories and CLI against what users would pick
 * instead, and (issue 12) a Netty server over our {@code SSLEngine} against the same server over JSSE's, each server and
 * each client in a JVM (or process) of its own, the contenders alternated round by round so
 * that the machine's drift cancels. Every figure is the median of the rounds with their min and max.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.fernetjca.benchmarks.Compare --rounds 3 --out target/compare
 *     [--smoke] [--only sockets,tunnels,rmi,cli,engines] [--contenders fernet-tls,jsse-full,...]
 *     [--cli-jar cli/target/fernet.jar, or the launcher bin/fernet] [--jfr]
 * </pre>
 *
 * <p>Writes {@code results.json}, {@code tables.md} (the tables of docs/benchmarks.md), {@code sockets.png} and
 * {@code tunnels.png}, and one log per child process. {@code --smoke} runs every contender and measure once, very
 * briefly (a smoke test of the harness, not a measurement). {@code --jfr} records the server and client JVMs of the
 * {@code fernet-tls} contender with Java Flight Recorder. Needs {@code keytool}; the tunnel contenders need
 * {@code stunnel} and {@code spiped}, the CLI contenders {@code python3} with {@code cryptography} and {@code openssl};
 * a contender whose tool is missing is left out with a line saying so.
 *
 * <p>This class reads the options, picks and alternates the contenders, and writes the report: {@link Runner} runs
 * each contender, {@link Keys} makes the keys they share, {@link Report} lays out the tables and charts.
 *
 * <p>Runs as a process of its own; not thread-safe.
 */
public final class Compare {
    static final List<String> SOCKETS = List.of("plain", "jsse-full", "jsse-resume", "fernet-tls", "fernet-tokens");
    static final List<String> TUNNELS = List.of("tunnel-fernet", "tunnel-stunnel", "tunnel-spiped");
    static final List<String> RMI = List.of("rmi-plain", "rmi-ssl", "rmi-fernet");
    static final List<String> CLI = List.of("cli-fernet", "cli-python", "cli-openssl");
    static final List<String> ENGINES = List.of("engine-fernet", "engine-jsse");

    private final Path out;
    private final Path work;
    private final int rounds;
    private final boolean smoke;
    private final boolean jfr;
    private final Path cliJar;
    private final List<String> only;
    private final List<String> skipped = new ArrayList<>();

    private Compare(Map<String, String> options) throws IOException {
        this.out = Path.of(options.getOrDefault("out", "target/compare")).toAbsolutePath();
        this.smoke = options.containsKey("smoke");
        this.rounds = smoke ? 1 : Integer.parseInt(options.getOrDefault("rounds", "3"));
        this.jfr = options.containsKey("jfr");
        this.cliJar = Path.of(options.getOrDefault("cli-jar", "cli/target/fernet.jar"))
                .toAbsolutePath();
        this.only = options.containsKey("contenders")
                ? List.of(options.get("contenders").split(","))
                : null;
        Files.createDirectories(out);
        this.work = Files.createTempDirectory("fernet-compare");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + args[i]);
            }
            String name = args[i].substring(2);
            boolean flag = name.equals("smoke") || name.equals("jfr");
            options.put(name, flag ? "" : args[++i]);
        }
        List<String> groups = List.of(
                options.getOrDefault("only", "sockets,tunnels,rmi,cli,engines").split(","));
        Compare compare = new Compare(options);
        boolean passed;
        try {
            passed = compare.run(groups);
        } finally {
            compare.deleteWork();
        }
        System.exit(passed ? 0 : 1);
    }

    private boolean run(List<String> groups) throws Exception {
        String loadBefore = Machine.loadAverage();
        Instant started = Instant.now();
        Keys keys = Keys.make(work);
        Runner runner = new Runner(out, work, smoke, jfr, cliJar);
        List<String> failures = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (String group : groups) {
                List<String> contenders = available(group);
                List<String> order = new ArrayList<>(contenders);
                Collections.rotate(order, round);
                for (String contender : order) {
                    System.out.printf(Locale.ROOT, "round %d/%d: %s%n", round + 1, rounds, contender);
                    try {
                        runner.run(group, contender, keys);
                    } catch (IOException e) {
                        failures.add(contender + " (round " + (round + 1) + "): " + e.getMessage());
                        System.out.println("  failed: " + e.getMessage());
                    }
                }
            }
        }
        Report report = new Report(
                runner.results(),
                Machine.describe(),
                loadBefore,
                Machine.loadAverage(),
                started,
                rounds,
                smoke,
                skipped,
                failures);
        Files.writeString(out.resolve("results.json"), report.json());
        Files.writeString(out.resolve("tables.md"), report.markdown());
        report.charts(out);
        System.out.println(report.markdown());
        System.out.println("written: " + out);
        return failures.isEmpty();
    }

    /** Deletes the temporary keys; they protected nothing but benchmark bytes, but they are keys. */
    private void deleteWork() throws IOException {
        try (Stream<Path> files = Files.walk(work)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }

    private List<String> available(String group) {
        List<String> contenders = switch (group) {
            case "sockets" -> SOCKETS;
            case "tunnels" -> TUNNELS;
            case "rmi" -> RMI;
            case "cli" -> CLI;
            case "engines" -> ENGINES;
            default -> throw new IllegalArgumentException("unknown group: " + group);
        };
        List<String> available = new ArrayList<>();
        for (String contender : contenders) {
            if (only != null && !only.contains(contender)) {
                continue;
            }
            String missing = switch (contender) {
                case "tunnel-stunnel" -> Machine.onPath("stunnel") ? null : "stunnel";
                case "tunnel-spiped" -> Machine.onPath("spiped") ? null : "spiped";
                case "tunnel-fernet", "cli-fernet" -> Files.isRegularFile(cliJar) ? null : cliJar.toString();
                case "cli-python" -> Machine.pythonCryptography() ? null : "python3 with cryptography";
                case "cli-openssl" -> Machine.onPath("openssl") ? null : "openssl";
                default -> null;
            };
            if (missing == null) {
                available.add(contender);
            } else if (!skipped.contains(contender + ": " + missing + " not found")) {
                skipped.add(contender + ": " + missing + " not found");
                System.out.println("skipped " + contender + ": " + missing + " not found");
            }
        }
        return available;
    }
}
