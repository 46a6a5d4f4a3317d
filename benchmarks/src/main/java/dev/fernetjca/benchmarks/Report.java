package dev.fernetjca.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The results of one comparison as JSON, as the Markdown tables of docs/benchmarks.md (medians with min–max, then
 * ratios of medians), and as bar charts of the ratios. A ratio is always {@code ours ÷ theirs} of the measure as
 * named: above 1 is better for rates (MB/s, connections/s), below 1 is better for times and memory.
 *
 * <p>Immutable once built; not shared between threads.
 */
final class Report {
    private record Column(String key, String header) {}

    private static final List<Column> STREAMS = List.of(
            new Column("stream_mbs", "one stream MB/s"),
            new Column("duplex_mbs", "both directions MB/s"),
            new Column("connect_per_s", "connections/s"),
            new Column("rtt_p50_us", "32 B round trip p50 µs"),
            new Column("rtt_p99_us", "p99 µs"));
    private static final List<Column> SOCKETS =
            concat(STREAMS, List.of(new Column("heap_kib", "heap per idle connection KiB")));
    private static final List<Column> TUNNELS = concat(STREAMS, List.of(new Column("rss_mb", "idle process RSS MB")));
    private static final List<Column> RMI = List.of(
            new Column("first_call_ms", "lookup + first call ms"),
            new Column("call_p50_us", "call p50 µs"),
            new Column("call_p99_us", "call p99 µs"));
    private static final List<Column> CLI = List.of(new Column("wall_ms", "wall time ms, whole process"));
    private static final List<Column> ENGINES = List.of(
            new Column("stream_mbs", "one stream MB/s"),
            new Column("connect_per_s", "connections/s"),
            new Column("rtt_p50_us", "32 B round trip p50 µs"),
            new Column("rtt_p99_us", "p99 µs"));

    private final Map<String, Map<String, List<Double>>> results;
    private final String machine;
    private final String loadBefore;
    private final String loadAfter;
    private final Instant started;
    private final int rounds;
    private final boolean smoke;
    private final List<String> skipped;
    private final List<String> failures;

    Report(
            Map<String, Map<String, List<Double>>> results,
            String machine,
            String loadBefore,
            String loadAfter,
            Instant started,
            int rounds,
            boolean smoke,
            List<String> skipped,
            List<String> failures) {
        this.results = results;
        this.machine = machine;
        this.loadBefore = loadBefore;
        this.loadAfter = loadAfter;
        this.started = started;
        this.rounds = rounds;
        this.smoke = smoke;
        this.skipped = List.copyOf(skipped);
        this.failures = List.copyOf(failures);
    }

    private static <T> List<T> concat(List<T> first, List<T> second) {
        List<T> all = new ArrayList<>(first);
        all.addAll(second);
        return List.copyOf(all);
    }

    String markdown() {
        StringBuilder md = new StringBuilder();
        md.append(String.format(
                Locale.ROOT,
                "Machine: %s. Started %s, %d round(s)%s; load average %s before, %s after.%n",
                machine,
                started,
                rounds,
                smoke ? " (SMOKE RUN: not a measurement)" : "",
                loadBefore,
                loadAfter));
        md.append("Each cell: median (min–max) over the rounds. Ratios: ours ÷ theirs of the medians; above 1 is better"
                + " for rates, below 1 for times and memory.\n\n");
        table(md, "Sockets, client and server in separate JVMs", Compare.SOCKETS, SOCKETS);
        ratios(
                md,
                SOCKETS,
                List.of(
                        List.of("fernet-tls", "jsse-full"),
                        List.of("fernet-tls", "jsse-resume"),
                        List.of("fernet-tokens", "jsse-full"),
                        List.of("fernet-tls", "plain")));
        table(md, "Tunnels, plain client → encrypting side → decrypting side → plain server", Compare.TUNNELS, TUNNELS);
        ratios(
                md,
                TUNNELS,
                List.of(List.of("tunnel-fernet", "tunnel-stunnel"), List.of("tunnel-fernet", "tunnel-spiped")));
        table(md, "RMI, int echo(int), a fresh client JVM against a server JVM", Compare.RMI, RMI);
        ratios(md, RMI, List.of(List.of("rmi-fernet", "rmi-ssl"), List.of("rmi-fernet", "rmi-plain")));
        table(md, "CLI, encrypting a short input", Compare.CLI, CLI);
        ratios(md, CLI, List.of(List.of("cli-fernet", "cli-python"), List.of("cli-fernet", "cli-openssl")));
        table(
                md,
                "SSLEngine, a Netty server with SslHandler and a blocking client in separate JVMs",
                Compare.ENGINES,
                ENGINES);
        ratios(md, ENGINES, List.of(List.of("engine-fernet", "engine-jsse")));
        for (String line : skipped) {
            md.append("- skipped ").append(line).append('\n');
        }
        for (String line : failures) {
            md.append("- FAILED ").append(line).append('\n');
        }
        return md.toString();
    }

    private void table(StringBuilder md, String title, List<String> contenders, List<Column> columns) {
        if (contenders.stream().noneMatch(results::containsKey)) {
            return;
        }
        md.append("#### ").append(title).append("\n\n| |");
        columns.forEach(column -> md.append(' ').append(column.header()).append(" |"));
        md.append("\n|---|");
        columns.forEach(column -> md.append("---:|"));
        md.append('\n');
        for (String contender : contenders) {
            if (!results.containsKey(contender)) {
                continue;
            }
            md.append("| ").append(contender).append(" |");
            for (Column column : columns) {
                List<Double> values = values(contender, column.key());
                md.append(' ')
                        .append(
                                values.isEmpty()
                                        ? "–"
                                        : format(median(values))
                                                + (values.size() > 1
                                                        ? " (" + format(Collections.min(values)) + "–"
                                                                + format(Collections.max(values)) + ")"
                                                        : ""))
                        .append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }

    private void ratios(StringBuilder md, List<Column> columns, List<List<String>> pairs) {
        List<List<String>> present = pairs.stream()
                .filter(pair -> results.containsKey(pair.get(0)) && results.containsKey(pair.get(1)))
                .toList();
        if (present.isEmpty()) {
            return;
        }
        md.append("| ratio |");
        columns.forEach(column -> md.append(' ').append(column.header()).append(" |"));
        md.append("\n|---|");
        columns.forEach(column -> md.append("---:|"));
        md.append('\n');
        for (List<String> pair : present) {
            md.append("| ")
                    .append(pair.get(0))
                    .append(" ÷ ")
                    .append(pair.get(1))
                    .append(" |");
            for (Column column : columns) {
                double ratio = ratio(pair.get(0), pair.get(1), column.key());
                md.append(' ')
                        .append(Double.isNaN(ratio) ? "–" : String.format(Locale.ROOT, "%.2fx", ratio))
                        .append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }

    private double ratio(String ours, String theirs, String measure) {
        List<Double> a = values(ours, measure);
        List<Double> b = values(theirs, measure);
        return a.isEmpty() || b.isEmpty() ? Double.NaN : median(a) / median(b);
    }

    private List<Double> values(String contender, String measure) {
        return results.getOrDefault(contender, Map.of()).getOrDefault(measure, List.of());
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int middle = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(middle) : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
    }

    private static String format(double value) {
        if (Double.isNaN(value)) {
            return "–";
        }
        double magnitude = Math.abs(value);
        return String.format(Locale.ROOT, magnitude >= 100 ? "%,.0f" : magnitude >= 10 ? "%.1f" : "%.2f", value);
    }

    String json() {
        StringBuilder json = new StringBuilder("{\n");
        json.append("  \"machine\": ").append(quote(machine)).append(",\n");
        json.append("  \"started\": ").append(quote(started.toString())).append(",\n");
        json.append("  \"rounds\": ").append(rounds).append(",\n");
        json.append("  \"smoke\": ").append(smoke).append(",\n");
        json.append("  \"loadAverageBefore\": ").append(quote(loadBefore)).append(",\n");
        json.append("  \"loadAverageAfter\": ").append(quote(loadAfter)).append(",\n");
        json.append("  \"skipped\": ").append(strings(skipped)).append(",\n");
        json.append("  \"failures\": ").append(strings(failures)).append(",\n");
        json.append("  \"results\": {");
        String contenderSeparator = "\n";
        for (Map.Entry<String, Map<String, List<Double>>> contender : results.entrySet()) {
            json.append(contenderSeparator)
                    .append("    ")
                    .append(quote(contender.getKey()))
                    .append(": {");
            String measureSeparator = "\n";
            for (Map.Entry<String, List<Double>> measure : contender.getValue().entrySet()) {
                List<Double> values = measure.getValue();
                json.append(measureSeparator)
                        .append("      ")
                        .append(quote(measure.getKey()))
                        .append(String.format(
                                Locale.ROOT,
                                ": {\"median\": %s, \"min\": %s, \"max\": %s, \"rounds\": [",
                                number(median(values)),
                                number(Collections.min(values)),
                                number(Collections.max(values))));
                for (int i = 0; i < values.size(); i++) {
                    json.append(i == 0 ? "" : ", ").append(number(values.get(i)));
                }
                json.append("]}");
                measureSeparator = ",\n";
            }
            json.append("\n    }");
            contenderSeparator = ",\n";
        }
        return json.append("\n  }\n}\n").toString();
    }

    private static String number(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.3f", value) : "null";
    }

    private static String strings(List<String> values) {
        return values.stream().map(Report::quote).toList().toString();
    }

    private static String quote(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /**
     * Writes sockets.png (relative to JSSE with a full handshake; plain TCP, tens of times faster, would flatten the
     * rest) and tunnels.png (relative to stunnel).
     */
    void charts(Path directory) throws IOException {
        System.setProperty("java.awt.headless", "true");
        chart(
                directory.resolve("sockets.png"),
                "Sockets relative to JSSE TLS 1.3, full handshake (higher is better; plain TCP, the ceiling, left out)",
                Compare.SOCKETS,
                "jsse-full");
        chart(
                directory.resolve("tunnels.png"),
                "Tunnels relative to stunnel with a PSK (higher is better)",
                Compare.TUNNELS,
                "tunnel-stunnel");
    }

    private void chart(Path file, String title, List<String> contenders, String base) throws IOException {
        if (!results.containsKey(base)) {
            return;
        }
        List<String> categories =
                List.of("one stream", "both directions", "connections/s", "1 / round trip p50", "1 / round trip p99");
        List<String> keys = List.of("stream_mbs", "duplex_mbs", "connect_per_s", "rtt_p50_us", "rtt_p99_us");
        CategoryChart chart = new CategoryChartBuilder()
                .width(1000)
                .height(520)
                .title(title)
                .yAxisTitle("ratio to " + base)
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setAvailableSpaceFill(0.85);
        for (String contender : contenders) {
            if (!results.containsKey(contender) || contender.equals("plain")) {
                continue;
            }
            List<Double> ratios = new ArrayList<>();
            for (String key : keys) {
                double ratio = ratio(contender, base, key);
                ratios.add(Double.isNaN(ratio) ? 0.0 : key.startsWith("rtt") ? 1 / ratio : ratio);
            }
            chart.addSeries(contender, categories, ratios);
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
