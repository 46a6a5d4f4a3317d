package dev.fernetjca.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

/**
 * Serves {@code fernet tunnel --metrics}: {@code /metrics}, the figures of the MBean {@code dev.fernetjca:type=Sockets}
 * (docs/configuration.md) in the Prometheus text format, and {@code /healthz}, 200 while the tunnel listens and 503
 * after. It reads the MBean through the platform MBean server, the way any JMX client does, so it needs nothing of
 * the library but its public contract. The JDK's HTTP server, one thread; GET and HEAD only; no request is logged.
 *
 * <p>Thread-safe; {@link #close()} stops it.
 */
final class MetricsServer implements AutoCloseable {
    static final String MBEAN = "dev.fernetjca:type=Sockets";
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Key reloads done by the tunnel itself, beside those the library's factories count. */
    private final HttpServer server;

    private final ExecutorService thread;

    private MetricsServer(HttpServer server, ExecutorService thread) {
        this.server = server;
        this.thread = thread;
    }

    /**
     * Serves on {@code address}; {@code listening} tells {@code /healthz} whether the tunnel still accepts.
     *
     * @throws IOException if {@code address} cannot be bound
     */
    static MetricsServer start(InetSocketAddress address, BooleanSupplier listening) throws IOException {
        HttpServer server = HttpServer.create(address, 16);
        server.createContext("/metrics", exchange -> answer(exchange, 200, prometheus()));
        server.createContext(
                "/healthz",
                exchange -> answer(
                        exchange,
                        listening.getAsBoolean() ? 200 : 503,
                        listening.getAsBoolean() ? "ok\n" : "not listening\n"));
        ExecutorService thread = Executors.newSingleThreadExecutor(runnable -> {
            Thread worker = new Thread(runnable, "fernet-tunnel-metrics");
            worker.setDaemon(true);
            return worker;
        });
        server.setExecutor(thread);
        server.start();
        return new MetricsServer(server, thread);
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            exchange.sendResponseHeaders(status, method.equals("HEAD") ? -1 : bytes.length);
            if (method.equals("GET")) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    /**
     * Returns the figures in the Prometheus text format. Before the JVM's first Fernet socket the MBean does not exist
     * yet: every unlabelled figure is then 0, and labelled ones have no series.
     */
    static String prometheus() {
        MBeanServer beans = ManagementFactory.getPlatformMBeanServer();
        ObjectName name;
        try {
            name = new ObjectName(MBEAN);
        } catch (MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder text = new StringBuilder(1024);
        counter(
                text,
                "fernet_connections_total",
                "counter",
                "Fernet sockets that got a connection",
                number(beans, name, "ConnectionsOpened"));
        counter(
                text,
                "fernet_connections_active",
                "gauge",
                "Fernet sockets connected and not yet closed",
                number(beans, name, "ConnectionsActive"));
        counter(
                text,
                "fernet_handshakes_total",
                "counter",
                "TLS handshakes completed",
                number(beans, name, "HandshakesSucceeded"));
        header(text, "fernet_handshake_failures_total", "counter", "TLS handshakes that failed, by reason");
        for (CompositeData row : rows(beans, name, "HandshakeFailures")) {
            series(text, "fernet_handshake_failures_total", "reason", (String) row.get("reason"), (Long)
                    row.get("count"));
        }
        header(text, "fernet_bytes_total", "counter", "application bytes through Fernet sockets, by direction");
        series(text, "fernet_bytes_total", "direction", "in", number(beans, name, "BytesIn"));
        series(text, "fernet_bytes_total", "direction", "out", number(beans, name, "BytesOut"));
        header(
                text,
                "fernet_key_connections_total",
                "counter",
                "completed handshakes by the PSK identity (public) of the key that matched");
        for (CompositeData row : rows(beans, name, "KeyConnections")) {
            series(text, "fernet_key_connections_total", "identity", (String) row.get("identity"), (Long)
                    row.get("count"));
        }
        counter(
                text,
                "fernet_keys_reloaded_total",
                "counter",
                "key reloads that took effect",
                number(beans, name, "KeysReloaded"));
        return text.toString();
    }

    private static long number(MBeanServer beans, ObjectName name, String attribute) {
        try {
            return (Long) beans.getAttribute(name, attribute);
        } catch (InstanceNotFoundException e) {
            return 0;
        } catch (JMException e) {
            throw new IllegalStateException("cannot read " + attribute + " of " + MBEAN, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Collection<CompositeData> rows(MBeanServer beans, ObjectName name, String attribute) {
        try {
            return (Collection<CompositeData>) ((TabularData) beans.getAttribute(name, attribute)).values();
        } catch (InstanceNotFoundException e) {
            return List.of();
        } catch (JMException e) {
            throw new IllegalStateException("cannot read " + attribute + " of " + MBEAN, e);
        }
    }

    private static void header(StringBuilder text, String metric, String type, String help) {
        text.append("# HELP ").append(metric).append(' ').append(help).append('\n');
        text.append("# TYPE ").append(metric).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder text, String metric, String type, String help, long value) {
        header(text, metric, type, help);
        text.append(metric).append(' ').append(value).append('\n');
    }

    private static void series(StringBuilder text, String metric, String label, String value, long count) {
        String escaped = value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        text.append(metric)
                .append('{')
                .append(label)
                .append("=\"")
                .append(escaped)
                .append("\"} ")
                .append(count)
                .append('\n');
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
