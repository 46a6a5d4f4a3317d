package dev.fernetjca.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one contender of {@link Compare} for one round: starts its server and client JVMs (or its tunnel and CLI
 * processes) with the configuration its users would give them, reads the figures the client prints, and keeps them.
 * The sizes of each measure are set here, small in {@code --smoke} mode.
 *
 * <p>Not thread-safe; one instance serves one comparison, driven from one thread.
 */
final class Runner {
    private static final List<String> STREAM_MEASURES = List.of("stream", "duplex", "connect", "rtt");
    private static final List<String> ENGINE_MEASURES = List.of("stream", "connect", "rtt");
    private static final String SHORT_INPUT = "attack at dawn\n";

    private final Path out;
    private final Path work;
    private final boolean smoke;
    private final boolean jfr;
    private final Path cliJar;
    private final long streamBytes;
    private final int connections;
    private final int trips;
    private final int idle;
    private final long timeoutSeconds;
    /** contender → measure → one value per round. */
    private final Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();

    private int children;

    /**
     * Runs contenders with their logs (and {@code --jfr} recordings) in {@code out}, their temporary files in
     * {@code work}, and the CLI contenders from {@code cliJar}.
     */
    Runner(Path out, Path work, boolean smoke, boolean jfr, Path cliJar) {
        this.out = out;
        this.work = work;
        this.smoke = smoke;
        this.jfr = jfr;
        this.cliJar = cliJar;
        this.streamBytes = smoke ? 4L << 20 : 256L << 20;
        this.connections = smoke ? 20 : 300;
        this.trips = smoke ? 200 : 20_000;
        this.idle = smoke ? 20 : 1_000;
        this.timeoutSeconds = smoke ? 60 : 600;
    }

    /** Runs {@code contender} of {@code group} once and records its figures; an IOException fails only this run. */
    void run(String group, String contender, Keys keys) throws Exception {
        switch (group) {
            case "sockets" -> sockets(contender, keys);
            case "tunnels" -> tunnel(contender, keys);
            case "rmi" -> rmi(contender, keys);
            case "cli" -> cli(contender, keys);
            case "engines" -> engines(contender, keys);
            default -> throw new IllegalArgumentException("unknown group: " + group);
        }
    }

    /** Returns the figures so far: contender → measure → one value per round, in the order they were recorded. */
    Map<String, Map<String, List<Double>>> results() {
        return results;
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
}
