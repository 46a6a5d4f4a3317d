package dev.fernetjca.cli;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The {@code tunnel} command's options and its run: checks the options, starts a {@link Tunnel} keyed as the socket
 * factories' configuration says (and the metrics server, if asked), re-reads the keys on SIGHUP, and on SIGTERM or
 * SIGINT lets open connections finish for up to {@link #DRAIN} before the process exits. No message repeats a value
 * given: a key may have been pasted in the wrong place.
 *
 * <p>{@link FernetCommand} declares the command, its name and description, so that it keeps its place among the
 * others; picocli fills this class as a mixin of that declaration.
 *
 * <p>Not thread-safe; one instance serves one command line (only the drain runs on a thread of its own).
 */
final class TunnelCommand {
    @Option(
            names = "--listen",
            required = true,
            paramLabel = "HOST:PORT",
            description = "where to accept connections (port 0: any free port, printed at start)")
    String listen;

    @Option(
            names = "--connect",
            required = true,
            paramLabel = "HOST:PORT",
            description = "where to forward each connection; the host must resolve at start")
    String connect;

    @ArgGroup(exclusive = true, multiplicity = "1")
    TunnelDirection direction;

    @Option(
            names = "--mode",
            defaultValue = "tls",
            paramLabel = "tls|fernet-tokens",
            description = "wire format of the encrypted side (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--ttl", paramLabel = "SECONDS", description = "fernet-tokens mode: refuse tokens older than this")
    String ttl;

    @Option(
            names = "--max-connections",
            paramLabel = "N",
            description = "established connections open at once; more are refused (default: "
                    + Tunnel.Limits.DEFAULT_MAX_CONNECTIONS + ")")
    String maxConnections;

    @Option(
            names = "--max-pending",
            paramLabel = "N",
            description = "--decrypt: peers yet to prove their key, at once; more are refused (default: "
                    + Tunnel.Limits.DEFAULT_MAX_PENDING + ")")
    String maxPending;

    @Option(
            names = "--max-pending-per-address",
            paramLabel = "N",
            description = "--decrypt: of those, from one source address (default: "
                    + Tunnel.Limits.DEFAULT_MAX_PENDING_PER_ADDRESS + ")")
    String maxPendingPerAddress;

    @Option(
            names = "--handshake-timeout",
            paramLabel = "SECONDS",
            description = "how long a peer has to prove its key: the TLS handshake, or in fernet-tokens"
                    + " mode its first token (default: FERNET_HANDSHAKE_TIMEOUT, else "
                    + "5)")
    String handshakeTimeout;

    @Option(
            names = "--connect-timeout",
            paramLabel = "SECONDS",
            description = "how long connecting to --connect may take (default: 10)")
    String connectTimeout;

    @Option(
            names = "--idle-timeout",
            paramLabel = "SECONDS",
            description =
                    "end connections with no traffic either way for this long, as a failure" + " (default: never)")
    String idleTimeout;

    @Option(
            names = "--metrics",
            paramLabel = "HOST:PORT",
            description = "serve /metrics (Prometheus text format) and /healthz over plain HTTP here;"
                    + " bind it to 127.0.0.1 or a private address")
    String metrics;

    /**
     * Runs the tunnel until the process is told to stop, then returns {@link Main#OK}; returns {@link Main#REFUSED}
     * when it cannot listen or serve metrics. Unusable options are {@link ParameterException}s of {@code tunnelLine};
     * {@code log} takes the tunnel's lines.
     */
    int run(CommandLine tunnelLine, KeyOptions keys, Map<String, String> env, PrintWriter log)
            throws IOException, InterruptedException {
        // no message repeats a value given: a key may have been pasted in the wrong place
        if (!mode.equals("tls") && !mode.equals("fernet-tokens")) {
            throw new ParameterException(tunnelLine, "--mode must be tls or fernet-tokens");
        }
        if (ttl != null && !mode.equals("fernet-tokens")) {
            throw new ParameterException(tunnelLine, "--ttl applies to fernet-tokens mode only");
        }
        long ttlSeconds = tunnelNumber(tunnelLine, "--ttl", ttl, 0, 1, 100L * 365 * 86_400);
        Tunnel.Limits limits = Tunnel.Limits.defaults()
                .withMaxConnections((int) tunnelNumber(
                        tunnelLine,
                        "--max-connections",
                        maxConnections,
                        Tunnel.Limits.DEFAULT_MAX_CONNECTIONS,
                        1,
                        1_000_000))
                .withPending(
                        (int) tunnelNumber(
                                tunnelLine,
                                "--max-pending",
                                maxPending,
                                Tunnel.Limits.DEFAULT_MAX_PENDING,
                                1,
                                1_000_000),
                        (int) tunnelNumber(
                                tunnelLine,
                                "--max-pending-per-address",
                                maxPendingPerAddress,
                                Tunnel.Limits.DEFAULT_MAX_PENDING_PER_ADDRESS,
                                1,
                                1_000_000))
                .withTimeouts(
                        tunnelHandshakeTimeout(tunnelLine, handshakeTimeout, env),
                        Duration.ofSeconds(tunnelNumber(
                                tunnelLine,
                                "--connect-timeout",
                                connectTimeout,
                                Tunnel.Limits.DEFAULT_CONNECT_TIMEOUT.toSeconds(),
                                1,
                                MAX_TUNNEL_SECONDS)),
                        idleTimeout == null
                                ? null
                                : Duration.ofSeconds(tunnelNumber(
                                        tunnelLine, "--idle-timeout", idleTimeout, 0, 1, MAX_TUNNEL_SECONDS)));
        InetSocketAddress listenAddress;
        InetSocketAddress target;
        try {
            listenAddress = parse(listen);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(tunnelLine, "--listen " + e.getMessage());
        }
        try {
            target = parse(connect);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(tunnelLine, "--connect " + e.getMessage());
        }
        InetSocketAddress metricsAddress = null;
        try {
            metricsAddress = metrics == null ? null : parse(metrics);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(tunnelLine, "--metrics " + e.getMessage());
        }
        FernetSocketOptions options = (mode.equals("tls")
                        ? FernetSocketOptions.tls()
                        : FernetSocketOptions.fernetTokens(ttl == null ? null : Duration.ofSeconds(ttlSeconds)))
                .withHandshakeTimeout(limits.handshakeTimeout());
        // the keys as the factories' configuration gives them, so that a key file is watched and SIGHUP re-reads it
        ServerSocketFactory acceptSide;
        SocketFactory connectSide;
        Runnable reloadKeys;
        try {
            if (direction.decrypt) {
                FernetServerSocketFactory fernetSide =
                        FernetServerSocketFactory.configured(keys.environment(env), options);
                acceptSide = fernetSide;
                connectSide = SocketFactory.getDefault();
                reloadKeys = () -> reloaded(log, fernetSide.reloadKeys());
            } else {
                FernetSocketFactory fernetSide = FernetSocketFactory.configured(keys.environment(env), options);
                acceptSide = ServerSocketFactory.getDefault();
                connectSide = fernetSide;
                reloadKeys = () -> reloaded(log, fernetSide.reloadKeys());
            }
        } catch (IllegalStateException e) {
            throw keys.usage(e);
        }
        Tunnel.Gate gate = !direction.decrypt
                ? Tunnel.Gate.NONE
                : mode.equals("tls") ? Tunnel.Gate.HANDSHAKE : Tunnel.Gate.FIRST_TOKEN;
        Tunnel tunnel;
        try {
            tunnel = Tunnel.start(listenAddress, acceptSide, gate, target, connectSide, limits, log);
        } catch (IOException e) {
            log.println("fernet tunnel: cannot listen on " + listen + ": " + e.getMessage());
            return Main.REFUSED;
        }
        MetricsServer metricsServer = null;
        if (metricsAddress != null) {
            try {
                metricsServer = MetricsServer.start(metricsAddress, tunnel::isListening);
            } catch (IOException e) {
                tunnel.close();
                log.println("fernet tunnel: cannot serve metrics on " + metrics + ": " + e.getMessage());
                return Main.REFUSED;
            }
        }
        MetricsServer metricsToStop = metricsServer;
        if (!Hangup.handle(reloadKeys)) {
            log.println("fernet tunnel: this JVM has no SIGHUP handling; a key file is still checked every "
                    + "fernet.keyFile.refresh seconds");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                int cut = tunnel.shutdown(DRAIN);
                                if (metricsToStop != null) {
                                    metricsToStop.close();
                                }
                                log.println("fernet tunnel: stopped"
                                        + (cut == 0
                                                ? ""
                                                : ", " + cut + " connections cut after " + DRAIN.toSeconds() + " s"));
                                log.flush();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "fernet-tunnel-drain"));
        log.println("fernet tunnel: listening on " + listenAddress.getHostString() + ":" + tunnel.port() + ", "
                + (direction.decrypt ? "decrypting " + mode : "encrypting " + mode) + " to " + connect
                + (metricsServer == null
                        ? ""
                        : ", metrics on http://" + metricsAddress.getHostString() + ":" + metricsServer.port()
                                + "/metrics"));
        if (direction.decrypt && mode.equals("fernet-tokens") && ttl == null) {
            // a token proves only that its sender saw one: without a TTL, a recorded token opens the target for ever
            log.println("fernet tunnel: warning: fernet-tokens mode without --ttl: anyone who recorded one token can"
                    + " replay it to reach " + connect + " at any later time; set --ttl SECONDS");
        }
        log.flush();
        stopped.await();
        return Main.OK;
    }

    /** Says on standard error what a SIGHUP did; the library has logged why a key file could not be used. */
    private static void reloaded(PrintWriter log, boolean newKeys) {
        log.println(
                newKeys
                        ? "fernet tunnel: SIGHUP: keys reloaded for new connections"
                        : "fernet tunnel: SIGHUP: no new keys (no key file configured, or it cannot be used); the keys in force"
                                + " stay");
        log.flush();
    }

    /** The longest time a tunnel option takes: a day, in seconds. */
    static final long MAX_TUNNEL_SECONDS = 86_400;

    /**
     * Parses a tunnel option's whole number, {@code fallback} when absent. The message names the option and what it
     * takes, never the text given.
     */
    private static long tunnelNumber(CommandLine line, String option, String text, long fallback, long min, long max) {
        if (text == null) {
            return fallback;
        }
        String digits = text.trim();
        if (digits.matches("[0-9]{1,30}")) {
            // a number too long for a long is too large as well
            if (digits.length() > 18 || Long.parseLong(digits) > max) {
                throw new ParameterException(line, option + " is too large: at most " + max);
            }
            if (Long.parseLong(digits) >= min) {
                return Long.parseLong(digits);
            }
        }
        throw new ParameterException(line, option + " takes a whole number from " + min + " to " + max);
    }

    private static Duration tunnelHandshakeTimeout(CommandLine line, String option, Map<String, String> env) {
        if (option != null) {
            return Duration.ofSeconds(tunnelNumber(line, "--handshake-timeout", option, 0, 1, MAX_TUNNEL_SECONDS));
        }
        String millis = System.getProperty("fernet.handshakeTimeout", env.get("FERNET_HANDSHAKE_TIMEOUT"));
        if (millis == null || millis.isBlank()) {
            return Tunnel.Limits.DEFAULT_HANDSHAKE_TIMEOUT;
        }
        try {
            long value = Long.parseLong(millis.trim());
            if (value > 0) {
                return Duration.ofMillis(value);
            }
        } catch (NumberFormatException e) {
            // reported below, with what is accepted
        }
        throw new ParameterException(line, "FERNET_HANDSHAKE_TIMEOUT takes a positive whole number of milliseconds");
    }

    /** How long a stopping tunnel lets open connections finish. */
    static final Duration DRAIN = Duration.ofSeconds(10);

    /** Exactly one of {@code --encrypt} and {@code --decrypt}. */
    static final class TunnelDirection {
        @Option(names = "--encrypt", required = true, description = "plain in, encrypted out")
        boolean encrypt;

        @Option(names = "--decrypt", required = true, description = "encrypted in, plain out")
        boolean decrypt;
    }

    /**
     * Parses {@code HOST:PORT} (an IPv6 host in brackets) and resolves the host now, so that a name that does not
     * resolve fails at start. Messages name what is expected, never the text given: a key may have been pasted there.
     */
    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new IllegalArgumentException("expects HOST:PORT");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expects HOST:PORT with a port of 0 to 65535");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("expects HOST:PORT with a port of 0 to 65535");
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("has a host that does not resolve");
        }
        return address;
    }
}
