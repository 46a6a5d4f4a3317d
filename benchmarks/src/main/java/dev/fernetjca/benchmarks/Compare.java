package dev.fernetjca.benchmarks;

import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.crypto.KeyGenerator;

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
 * <p>Runs as a process of its own; not thread-safe.
 */
public final class Compare {
    static final List<String> SOCKETS = List.of("plain", "jsse-full", "jsse-resume", "fernet-tls", "fernet-tokens");
    static final List<String> TUNNELS = List.of("tunnel-fernet", "tunnel-stunnel", "tunnel-spiped");
    static final List<String> RMI = List.of("rmi-plain", "rmi-ssl", "rmi-fernet");
    static final List<String> CLI = List.of("cli-fernet", "cli-python", "cli-openssl");
    static final List<String> ENGINES = List.of("engine-fernet", "engine-jsse");
    private static final List<String> STREAM_MEASURES = List.of("stream", "duplex", "connect", "rtt");
    private static final List<String> ENGINE_MEASURES = List.of("stream", "connect", "rtt");
    private static final String PASSWORD = "benchmark";
    private static final String SHORT_INPUT = "attack at dawn\n";

    private final Path out;
    private final Path work;
    private final int rounds;
    private final boolean smoke;
    private final boolean jfr;
    private final Path cliJar;
    private final long streamBytes;
    private final int connections;
    private final int trips;
    private final int idle;
    private final long timeoutSeconds;
    private final List<String> only;
    /** contender → measure → one value per round. */
    private final Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();

    private final List<String> skipped = new ArrayList<>();
    private int children;

    private Compare(Map<String, String> options) throws IOException {
        this.out = Path.of(options.getOrDefault("out", "target/compare")).toAbsolutePath();
        this.smoke = options.containsKey("smoke");
        this.rounds = smoke ? 1 : Integer.parseInt(options.getOrDefault("rounds", "3"));
        this.jfr = options.containsKey("jfr");
        this.cliJar = Path.of(options.getOrDefault("cli-jar", "cli/target/fernet.jar"))
                .toAbsolutePath();
        this.streamBytes = smoke ? 4L << 20 : 256L << 20;
        this.connections = smoke ? 20 : 300;
        this.trips = smoke ? 200 : 20_000;
        this.idle = smoke ? 20 : 1_000;
        this.timeoutSeconds = smoke ? 60 : 600;
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
        List<String> failures = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (String group : groups) {
                List<String> contenders = available(group);
                List<String> order = new ArrayList<>(contenders);
                Collections.rotate(order, round);
                for (String contender : order) {
                    System.out.printf(Locale.ROOT, "round %d/%d: %s%n", round + 1, rounds, contender);
                    try {
                        switch (group) {
                            case "sockets" -> sockets(contender, keys);
                            case "tunnels" -> tunnel(contender, keys);
                            case "rmi" -> rmi(contender, keys);
                            case "cli" -> cli(contender, keys);
                            case "engines" -> engines(contender, keys);
                            default -> throw new IllegalArgumentException("unknown group: " + group);
                        }
                    } catch (IOException e) {
                        failures.add(contender + " (round " + (round + 1) + "): " + e.getMessage());
                        System.out.println("  failed: " + e.getMessage());
                    }
                }
            }
        }
        Report report = new Report(
                results,
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

    private void record(String contender, String measure, double value) {
        results.computeIfAbsent(contender, c -> new LinkedHashMap<>())
                .computeIfAbsent(measure, m -> new ArrayList<>())
                .add(value);
        System.out.printf(Locale.ROOT, "  %-14s %10.1f%n", measure, value);
    }

    // ---- sockets: one server JVM and one client JVM per contender and round

    private void sockets(String contender, Keys keys) throws Exception {
        try (Child server = java(contender, "server", keys, BenchServer.class, List.of(contender))) {
            int port = Integer.parseInt(server.expect("port ", timeoutSeconds));
            server.send("heap");
            long heapBefore = Long.parseLong(server.expect("heap ", timeoutSeconds));
            try (Child client = java(
                    contender,
                    "client",
                    keys,
                    BenchClient.class,
                    clientArgs(contender, port, "stream", "duplex", "connect", "rtt", "idle"))) {
                recordClientLines(contender, client, STREAM_MEASURES);
                client.expect("open", timeoutSeconds);
                server.send("heap");
                long heapOpen = Long.parseLong(server.expect("heap ", timeoutSeconds));
                record(contender, "heap_kib", (heapOpen - heapBefore) / 1024.0 / idle);
                client.send("close");
                client.expect("idle", timeoutSeconds);
            }
        }
    }

    /** Reads the client's result line of each of {@code measures}, in order. */
    private void recordClientLines(String contender, Child client, List<String> measures) throws Exception {
        for (String measure : measures) {
            String[] fields = client.expect(measure + " ", timeoutSeconds).split(" ");
            if (measure.equals("rtt")) {
                record(contender, "rtt_p50_us", Double.parseDouble(fields[0]));
                record(contender, "rtt_p99_us", Double.parseDouble(fields[1]));
            } else {
                record(
                        contender,
                        measure.equals("connect") ? "connect_per_s" : measure + "_mbs",
                        Double.parseDouble(fields[0]));
            }
        }
    }

    private List<String> clientArgs(String kind, int port, String... measures) {
        List<String> args = new ArrayList<>(List.of(
                kind,
                Integer.toString(port),
                Long.toString(streamBytes),
                Integer.toString(connections),
                Integer.toString(trips),
                Integer.toString(idle)));
        args.addAll(List.of(measures));
        return args;
    }

    /** A JVM running {@code main} with the configuration its contender's users would give it. */
    private Child java(String contender, String role, Keys keys, Class<?> main, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(
                List.of(Machine.javaExecutable(), "-Xmx1g", "-Xss512k", "-cp", System.getProperty("java.class.path")));
        if (Sockets.jsse(contender) || contender.equals("rmi-ssl")) {
            command.addAll(keys.jsseProperties());
        }
        if (Sockets.fernet(contender) || contender.equals("rmi-fernet")) {
            command.add("-Dfernet.keyFile=" + keys.fernetKeyFile());
        }
        if (contender.equals("fernet-tokens")) {
            command.add("-Dfernet.mode=fernet-tokens");
        }
        if (contender.equals("rmi-ssl")) {
            command.add("-Djavax.rmi.ssl.client.enabledCipherSuites=" + Sockets.AES_128_GCM);
            command.add("-Djavax.rmi.ssl.client.enabledProtocols=" + Sockets.TLS13);
        }
        if (jfr && contender.equals("fernet-tls")) {
            command.add("-XX:StartFlightRecording=filename="
                    + out.resolve(contender + "-" + role + "-" + children + ".jfr") + ",settings=profile");
        }
        command.add(main.getName());
        command.addAll(args);
        return Child.start(contender + " " + role, command, log(contender + "-" + role));
    }

    private Path log(String name) {
        return out.resolve(name + "-" + (children++) + ".log");
    }

    // ---- tunnels: a plain target server, a pair of tunnel processes, a plain client JVM

    private void tunnel(String contender, Keys keys) throws Exception {
        try (Child target = java("plain", "target", keys, BenchServer.class, List.of("plain"))) {
            int targetPort = Integer.parseInt(target.expect("port ", timeoutSeconds));
            List<Child> pair = new ArrayList<>();
            try {
                int entryPort = startPair(contender, keys, targetPort, pair);
                Thread.sleep(smoke ? 200 : 2_000);
                for (Child side : pair) {
                    record(contender, "rss_mb", Child.residentMegabytes(side.pid()));
                }
                try (Child client = java(
                        "plain",
                        "client",
                        keys,
                        BenchClient.class,
                        clientArgs("plain", entryPort, "stream", "duplex", "connect", "rtt"))) {
                    recordClientLines(contender, client, STREAM_MEASURES);
                    if (!client.waitFor(timeoutSeconds)) {
                        throw new IOException(contender + ": the client failed, see its log");
                    }
                }
            } finally {
                for (Child side : pair) {
                    side.close();
                }
            }
        }
    }

    /** Starts the decrypting then the encrypting side; returns the port plain clients connect to. */
    private int startPair(String contender, Keys keys, int targetPort, List<Child> pair) throws Exception {
        switch (contender) {
            case "tunnel-fernet" -> {
                int decryptPort = fernetTunnel("--decrypt", targetPort, keys, pair);
                return fernetTunnel("--encrypt", decryptPort, keys, pair);
            }
            case "tunnel-stunnel" -> {
                int decryptPort = Child.freePort();
                pair.add(Child.start(
                        "stunnel server",
                        List.of(
                                "stunnel",
                                keys.stunnelConfig(work, "server", false, decryptPort, targetPort)
                                        .toString()),
                        log("stunnel-server")));
                Child.awaitListening(decryptPort, 30);
                int encryptPort = Child.freePort();
                pair.add(Child.start(
                        "stunnel client",
                        List.of(
                                "stunnel",
                                keys.stunnelConfig(work, "client", true, encryptPort, decryptPort)
                                        .toString()),
                        log("stunnel-client")));
                Child.awaitListening(encryptPort, 30);
                return encryptPort;
            }
            case "tunnel-spiped" -> {
                int decryptPort = Child.freePort();
                pair.add(Child.start(
                        "spiped -d",
                        List.of(
                                "spiped",
                                "-F",
                                "-d",
                                "-s",
                                "[127.0.0.1]:" + decryptPort,
                                "-t",
                                "[127.0.0.1]:" + targetPort,
                                "-k",
                                keys.spipedKeyFile().toString(),
                                "-n",
                                "0"),
                        log("spiped-decrypt")));
                Child.awaitListening(decryptPort, 30);
                int encryptPort = Child.freePort();
                pair.add(Child.start(
                        "spiped -e",
                        List.of(
                                "spiped",
                                "-F",
                                "-e",
                                "-s",
                                "[127.0.0.1]:" + encryptPort,
                                "-t",
                                "[127.0.0.1]:" + decryptPort,
                                "-k",
                                keys.spipedKeyFile().toString(),
                                "-n",
                                "0"),
                        log("spiped-encrypt")));
                Child.awaitListening(encryptPort, 30);
                return encryptPort;
            }
            default -> throw new IllegalArgumentException("unknown tunnel: " + contender);
        }
    }

    private int fernetTunnel(String direction, int connectPort, Keys keys, List<Child> pair) throws Exception {
        Path log = log("tunnel-fernet" + direction);
        pair.add(Child.start(
                "fernet tunnel " + direction,
                fernet(
                        "tunnel",
                        "--listen",
                        "127.0.0.1:0",
                        "--connect",
                        "127.0.0.1:" + connectPort,
                        direction,
                        "--key-file",
                        keys.fernetKeyFile().toString()),
                log));
        String line = Child.awaitLogLine(log, "listening on 127.0.0.1:", 60);
        String rest = line.substring(line.indexOf("listening on 127.0.0.1:") + "listening on 127.0.0.1:".length());
        return Integer.parseInt(rest.replaceAll("[^0-9].*$", ""));
    }

    /** Returns the {@code fernet} command line: {@code java -jar} the jar, or the launcher (bin/fernet) itself. */
    private List<String> fernet(String... args) {
        List<String> command = new ArrayList<>();
        if (cliJar.getFileName().toString().endsWith(".jar")) {
            command.add(Machine.javaExecutable());
            command.add("-jar");
        }
        command.add(cliJar.toString());
        command.addAll(List.of(args));
        return command;
    }

    // ---- engines: a Netty server JVM with an SslHandler over one SSLEngine or the other, a blocking client JVM

    private void engines(String contender, Keys keys) throws Exception {
        try (Child server = java(contender, "server", keys, EngineServer.class, List.of(contender))) {
            int port = Integer.parseInt(server.expect("port ", timeoutSeconds));
            try (Child client = java(
                    contender,
                    "client",
                    keys,
                    BenchClient.class,
                    clientArgs(contender, port, ENGINE_MEASURES.toArray(String[]::new)))) {
                recordClientLines(contender, client, ENGINE_MEASURES);
                if (!client.waitFor(timeoutSeconds)) {
                    throw new IOException(contender + ": the client failed, see its log");
                }
            }
        }
    }

    // ---- RMI: a registry and an exported Echo in one JVM, a client JVM for the first and the warm calls

    private void rmi(String contender, Keys keys) throws Exception {
        try (Child server = java(contender, "server", keys, BenchServer.class, List.of(contender))) {
            int port = Integer.parseInt(server.expect("port ", timeoutSeconds));
            try (Child client =
                    java(contender, "client", keys, BenchClient.class, clientArgs(contender, port, "rmi"))) {
                String[] fields = client.expect("rmi ", timeoutSeconds).split(" ");
                record(contender, "first_call_ms", Double.parseDouble(fields[0]));
                record(contender, "call_p50_us", Double.parseDouble(fields[1]));
                record(contender, "call_p99_us", Double.parseDouble(fields[2]));
            }
        }
    }

    // ---- CLI: whole processes, each encrypting a short input, the commands alternated run by run

    private void cli(String contender, Keys keys) throws Exception {
        Path input = work.resolve("input.txt");
        Files.writeString(input, SHORT_INPUT);
        List<String> command = switch (contender) {
            case "cli-fernet" ->
                fernet("encrypt", "--key-file", keys.fernetKeyFile().toString());
            case "cli-python" ->
                List.of(
                        "python3",
                        "-c",
                        "import sys\n"
                                + "from cryptography.fernet import Fernet\n"
                                + "key = open(sys.argv[1], 'rb').read().strip()\n"
                                + "sys.stdout.buffer.write(Fernet(key).encrypt(sys.stdin.buffer.read()) + b'\\n')\n",
                        keys.fernetKeyFile().toString());
            case "cli-openssl" ->
                List.of("openssl", "enc", "-aes-128-cbc", "-a", "-K", keys.opensslKeyHex(), "-iv", keys.opensslIvHex());
            default -> throw new IllegalArgumentException("unknown command: " + contender);
        };
        int runs = smoke ? 1 : 5;
        List<Double> millis = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            long start = System.nanoTime();
            Process process = new ProcessBuilder(command)
                    .redirectInput(input.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(log(contender).toFile())
                    .start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IOException(contender + ": the command failed, see its log");
            }
            millis.add((System.nanoTime() - start) / 1e6);
        }
        Collections.sort(millis);
        record(contender, "wall_ms", millis.get(millis.size() / 2));
    }

    /**
     * The keys of one comparison, made fresh in a private temporary directory: a Fernet key file, a self-signed EC
     * P-256 certificate in a PKCS12 key store (and a trust store holding its certificate), a stunnel PSK file and an
     * spiped key file. They protect nothing but benchmark bytes.
     */
    record Keys(Path directory, byte[] raw) {
        static Keys make(Path directory) throws Exception {
            Keys keys = new Keys(directory, new byte[32]);
            new SecureRandom().nextBytes(keys.raw);
            String fernetKey = Base64.getUrlEncoder()
                    .encodeToString(KeyGenerator.getInstance("Fernet", new FernetProvider())
                            .generateKey()
                            .getEncoded());
            writePrivate(keys.fernetKeyFile(), fernetKey + "\n");
            writePrivate(
                    directory.resolve("stunnel.psk"), "bench:" + HexFormat.of().formatHex(keys.raw) + "\n");
            Files.write(keys.spipedKeyFile(), keys.raw);
            Path keyStore = directory.resolve("server.p12");
            keytool(
                    "-genkeypair",
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-sigalg",
                    "SHA256withECDSA",
                    "-alias",
                    "server",
                    "-dname",
                    "CN=localhost",
                    "-ext",
                    "SAN=dns:localhost,ip:127.0.0.1",
                    "-validity",
                    "2",
                    "-keystore",
                    keyStore.toString(),
                    "-storetype",
                    "PKCS12",
                    "-storepass",
                    PASSWORD,
                    "-keypass",
                    PASSWORD);
            Path certificate = directory.resolve("server.cer");
            keytool(
                    "-exportcert",
                    "-alias",
                    "server",
                    "-keystore",
                    keyStore.toString(),
                    "-storepass",
                    PASSWORD,
                    "-file",
                    certificate.toString());
            keytool(
                    "-importcert",
                    "-noprompt",
                    "-alias",
                    "server",
                    "-file",
                    certificate.toString(),
                    "-keystore",
                    directory.resolve("trust.p12").toString(),
                    "-storetype",
                    "PKCS12",
                    "-storepass",
                    PASSWORD);
            return keys;
        }

        private static void keytool(String... args) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>();
            command.add(
                    Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
            command.addAll(List.of(args));
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (process.waitFor() != 0) {
                throw new IOException("keytool " + args[0] + " failed");
            }
        }

        private static void writePrivate(Path file, String text) throws IOException {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, text, StandardCharsets.UTF_8);
        }

        Path fernetKeyFile() {
            return directory.resolve("fernet.key");
        }

        Path spipedKeyFile() {
            return directory.resolve("spiped.key");
        }

        String opensslKeyHex() {
            return HexFormat.of().formatHex(raw, 0, 16);
        }

        String opensslIvHex() {
            return HexFormat.of().formatHex(raw, 16, 32);
        }

        List<String> jsseProperties() {
            return List.of(
                    "-Djavax.net.ssl.keyStore=" + directory.resolve("server.p12"),
                    "-Djavax.net.ssl.keyStorePassword=" + PASSWORD,
                    "-Djavax.net.ssl.keyStoreType=PKCS12",
                    "-Djavax.net.ssl.trustStore=" + directory.resolve("trust.p12"),
                    "-Djavax.net.ssl.trustStorePassword=" + PASSWORD,
                    "-Djavax.net.ssl.trustStoreType=PKCS12");
        }

        /** An stunnel configuration: TLS 1.3 with the PSK, AES-128-GCM, in the foreground. */
        Path stunnelConfig(Path work, String name, boolean client, int accept, int connect) throws IOException {
            Path config = work.resolve("stunnel-" + name + ".conf");
            Files.writeString(
                    config,
                    String.join(
                            "\n",
                            "foreground = yes",
                            "pid =",
                            "debug = 5", // stunnel's default level, as deployed: a few lines per connection
                            "[" + name + "]",
                            "client = " + (client ? "yes" : "no"),
                            "accept = 127.0.0.1:" + accept,
                            "connect = 127.0.0.1:" + connect,
                            "sslVersionMin = TLSv1.3",
                            "ciphersuites = " + Sockets.AES_128_GCM,
                            "PSKsecrets = " + directory.resolve("stunnel.psk"),
                            ""));
            return config;
        }
    }
}
