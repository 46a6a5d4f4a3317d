package dev.fernetjca.cli;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;

/**
 * Forwards every connection accepted on one side to a new connection on the other, both directions at once, with
 * half-close passed through: spiped's and stunnel's job. One side is encrypted (a Fernet factory), the other plain.
 *
 * <p>Only a clean end is passed on as a clean end (close_notify on the encrypted side, FIN on the plain side). Any
 * other end of one side (a cut without close_notify, a bad record, a reset, a timeout, the drain's cut) aborts the
 * other: a TCP reset on the plain side, no close_notify on the encrypted side, so truncation stays visible end to end.
 *
 * <p>On the encrypted accepting side, nothing reaches the target before the peer has proved its key (the TLS
 * handshake, or in fernet-tokens mode its first token), within the handshake timeout. Peers still proving it hold
 * pending slots, bounded in all and per source address, never the slots of established connections.
 *
 * <p>Logs one line per connection, with a timestamp: the peer, bytes each way, duration, and how it ended; lines about
 * peers that never proved a key are rate-limited per source address. Never logs data.
 *
 * <p>This class owns the listener, the accept loop and the threads: each accepted connection is a
 * {@link TunnelConnection}, counted by {@link TunnelSlots} and logged through {@link TunnelLog}.
 *
 * <p>Thread-safe; {@link #close()} drains.
 */
final class Tunnel implements AutoCloseable {
    /** What a connection accepted on the encrypted side must do before the target is connected. */
    enum Gate {
        /** Plain accepting side: connect at once. */
        NONE,
        /** TLS: complete the handshake. */
        HANDSHAKE,
        /** fernet-tokens mode, which has no handshake: send a first token that authenticates. */
        FIRST_TOKEN
    }

    /**
     * The bounds of a tunnel's connections. Immutable; safe to share.
     *
     * @param idleTimeout null: connections may stay idle for ever (TCP keep-alive still finds dead peers)
     */
    record Limits(
            int maxConnections,
            int maxPending,
            int maxPendingPerAddress,
            Duration handshakeTimeout,
            Duration connectTimeout,
            Duration idleTimeout) {
        static final int DEFAULT_MAX_CONNECTIONS = 64;
        static final int DEFAULT_MAX_PENDING = 128;
        /** Generous, since honest clients behind one NAT, or on loopback, share one address. */
        static final int DEFAULT_MAX_PENDING_PER_ADDRESS = 32;
        /** Shorter than the library's 10 s: a peer that holds the key needs one round trip. */
        static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

        static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

        static Limits defaults() {
            return new Limits(
                    DEFAULT_MAX_CONNECTIONS,
                    DEFAULT_MAX_PENDING,
                    DEFAULT_MAX_PENDING_PER_ADDRESS,
                    DEFAULT_HANDSHAKE_TIMEOUT,
                    DEFAULT_CONNECT_TIMEOUT,
                    null);
        }

        Limits withMaxConnections(int max) {
            return new Limits(max, maxPending, maxPendingPerAddress, handshakeTimeout, connectTimeout, idleTimeout);
        }

        Limits withPending(int max, int perAddress) {
            return new Limits(maxConnections, max, perAddress, handshakeTimeout, connectTimeout, idleTimeout);
        }

        Limits withTimeouts(Duration handshake, Duration connect, Duration idle) {
            return new Limits(maxConnections, maxPending, maxPendingPerAddress, handshake, connect, idle);
        }
    }

    // what connections read: where they go, how, within which bounds, on which threads
    final InetSocketAddress target;
    final SocketFactory connectSide;
    final Gate gate;
    final Limits limits;
    final TunnelLog log;
    final TunnelSlots slots;
    // a cached pool whose idle threads go after 5 s, not 60: a burst of connections leaves no army of threads behind
    final ExecutorService threads =
            new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "fernet-tunnel");
                thread.setDaemon(true);
                return thread;
            });
    final ScheduledThreadPoolExecutor timers = timers();

    private final ServerSocket listener;
    private final Set<TunnelConnection> active = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionNumber = new AtomicInteger();

    private Tunnel(
            ServerSocket listener,
            Gate gate,
            InetSocketAddress target,
            SocketFactory connectSide,
            Limits limits,
            PrintWriter log) {
        this.listener = listener;
        this.gate = gate;
        this.target = target;
        this.connectSide = connectSide;
        this.limits = limits;
        this.log = new TunnelLog(log);
        this.slots = new TunnelSlots(limits);
    }

    /** Starts a TLS-mode tunnel (or a plain-accepting one) with the default limits but {@code maxConnections}. */
    static Tunnel start(
            InetSocketAddress listen,
            ServerSocketFactory acceptSide,
            InetSocketAddress target,
            SocketFactory connectSide,
            int maxConnections,
            PrintWriter log)
            throws IOException {
        return start(
                listen,
                acceptSide,
                acceptSide instanceof FernetServerSocketFactory ? Gate.HANDSHAKE : Gate.NONE,
                target,
                connectSide,
                Limits.defaults().withMaxConnections(maxConnections),
                log);
    }

    /**
     * Binds {@code listen} with {@code acceptSide} and starts accepting; connections go to {@code target} once they
     * have passed {@code gate}.
     */
    static Tunnel start(
            InetSocketAddress listen,
            ServerSocketFactory acceptSide,
            Gate gate,
            InetSocketAddress target,
            SocketFactory connectSide,
            Limits limits,
            PrintWriter log)
            throws IOException {
        ServerSocket listener = acceptSide.createServerSocket();
        try {
            listener.setReuseAddress(true);
            listener.bind(listen, Math.max(50, limits.maxConnections()));
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        Tunnel tunnel = new Tunnel(listener, gate, target, connectSide, limits, log);
        tunnel.threads.execute(tunnel::acceptLoop); // not submit: a Future nobody reads would hide its failure
        long window = LogLimiter.WINDOW.toMillis();
        // logged from a pool thread: a blocked stderr must not stop the timer thread that enforces deadlines
        tunnel.timers.scheduleAtFixedRate(
                () -> tunnel.submitQuietly(tunnel.log::reportSuppressed), window, window, TimeUnit.MILLISECONDS);
        return tunnel;
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Tells whether the tunnel still accepts connections, for {@code /healthz}. */
    boolean isListening() {
        return !listener.isClosed();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket accepted;
            try {
                accepted = listener.accept();
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    log.write(TunnelLog.timestamp() + " accept failed: " + e.getMessage());
                    pause(); // out of file descriptors, say: do not spin and flood the log
                }
                continue;
            }
            int number = connectionNumber.incrementAndGet();
            InetAddress source = TunnelSlots.sourceKey(accepted.getInetAddress());
            try {
                accepted.setKeepAlive(true); // a peer that vanished without a word is found in the end
            } catch (IOException e) {
                // closed meanwhile: the connection's first read says so
            }
            String refusal = gate == Gate.NONE ? slots.reserveConnection() : slots.reservePending(source);
            if (refusal != null) {
                log.unauthenticated(
                        source,
                        TunnelLog.connectionLine(number, accepted.getRemoteSocketAddress() + " refused: " + refusal));
                FernetSocketFactory.abort(accepted);
                continue;
            }
            TunnelConnection connection = new TunnelConnection(this, number, accepted, source, gate != Gate.NONE);
            active.add(connection);
            threads.execute(connection::run); // an Error it rethrows reaches the uncaught-exception handler
        }
    }

    private static ScheduledThreadPoolExecutor timers() {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "fernet-tunnel-timer");
            thread.setDaemon(true);
            return thread;
        });
        // a cancelled deadline must not keep its connection reachable until the deadline would have come
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }

    /**
     * Stops accepting, lets open connections finish for up to {@code drain}, then cuts the rest: each side of a cut
     * connection sees a reset, never a clean end.
     *
     * @return how many connections had to be cut
     */
    int shutdown(Duration drain) throws InterruptedException {
        closeQuietly(listener);
        long deadline = System.nanoTime() + drain.toNanos();
        while (!active.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        int cut = active.size();
        for (TunnelConnection connection : active) {
            connection.cut("cut at shutdown");
        }
        threads.shutdownNow();
        threads.awaitTermination(5, TimeUnit.SECONDS);
        timers.shutdownNow();
        log.reportSuppressed();
        return cut;
    }

    /** Stops at once, cutting open connections. */
    @Override
    public void close() {
        try {
            shutdown(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    int activeConnections() {
        return active.size();
    }

    private void submitQuietly(Runnable task) {
        try {
            threads.submit(task);
        } catch (RejectedExecutionException e) {
            // shutting down: shutdown() reports what is left
        }
    }

    /** Deadlines and idle timers still queued, apart from the log report; for tests. */
    int scheduledTimers() {
        return timers.getQueue().size() - 1;
    }

    int pendingConnections() {
        return slots.pending();
    }

    /** Called by each connection as it ends, after it has released its slots. */
    void ended(TunnelConnection connection) {
        active.remove(connection);
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            // closing is best effort; the log line says how the connection ended
        }
    }
}
