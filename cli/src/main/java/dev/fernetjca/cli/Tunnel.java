package dev.fernetjca.cli;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>Thread-safe; {@link #close()} drains.
 */
final class Tunnel implements AutoCloseable {
    /** Each direction's copy buffer at first: one TLS record's worth. */
    static final int PUMP_BYTES = 16 * 1024;
    /** A direction's copy buffer once a read has filled it: four records' worth, 64 KiB per busy direction at most. */
    static final int STREAM_PUMP_BYTES = 64 * 1024;

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

    /** Lines about unauthenticated peers that one source address may cause per window; more are only counted. */
    static final int LOG_LINES_PER_ADDRESS = 10;

    static final Duration LOG_WINDOW = Duration.ofMinutes(1);

    private final InetSocketAddress target;
    private final SocketFactory connectSide;
    private final Gate gate;
    private final Limits limits;
    private final PrintWriter log;
    private final ServerSocket listener;
    // a cached pool whose idle threads go after 5 s, not 60: a burst of connections leaves no army of threads behind
    private final ExecutorService threads =
            new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "fernet-tunnel");
                thread.setDaemon(true);
                return thread;
            });
    private final ScheduledThreadPoolExecutor timers = timers();
    private final Set<Pair> active = ConcurrentHashMap.newKeySet();
    private final AtomicInteger established = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final Map<InetAddress, Integer> pendingByAddress = new ConcurrentHashMap<>();
    private final LogLimiter limiter = new LogLimiter();
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
        this.log = log;
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
        long window = LOG_WINDOW.toMillis();
        // logged from a pool thread: a blocked stderr must not stop the timer thread that enforces deadlines
        tunnel.timers.scheduleAtFixedRate(
                () -> tunnel.submitQuietly(tunnel::reportSuppressed), window, window, TimeUnit.MILLISECONDS);
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
                    log(timestamp() + " accept failed: " + e.getMessage());
                    pause(); // out of file descriptors, say: do not spin and flood the log
                }
                continue;
            }
            int number = connectionNumber.incrementAndGet();
            InetAddress source = sourceKey(accepted.getInetAddress());
            try {
                accepted.setKeepAlive(true); // a peer that vanished without a word is found in the end
            } catch (IOException e) {
                // closed meanwhile: the pair's first read says so
            }
            String refusal = gate == Gate.NONE ? reserveConnection() : reservePending(source);
            if (refusal != null) {
                logUnauthenticated(
                        source, connectionLine(number, accepted.getRemoteSocketAddress() + " refused: " + refusal));
                FernetSocketFactory.abort(accepted);
                continue;
            }
            Pair pair = new Pair(number, accepted, source, gate != Gate.NONE);
            active.add(pair);
            threads.execute(pair::run); // an Error it rethrows reaches the uncaught-exception handler
        }
    }

    /** Takes a slot of an established connection; returns why not, or null. */
    private String reserveConnection() {
        while (true) {
            int open = established.get();
            if (open >= limits.maxConnections()) {
                return limits.maxConnections() + " connections already open";
            }
            if (established.compareAndSet(open, open + 1)) {
                return null;
            }
        }
    }

    /** Takes a pending slot for a peer yet to prove its key; returns why not, or null. */
    private String reservePending(InetAddress source) {
        if (pending.incrementAndGet() > limits.maxPending()) {
            pending.decrementAndGet();
            return limits.maxPending() + " handshakes already pending";
        }
        boolean[] full = new boolean[1];
        // one atomic step per address: a release racing with this take can neither lose nor double a count
        pendingByAddress.compute(source, (address, count) -> {
            int taken = count == null ? 0 : count;
            full[0] = taken >= limits.maxPendingPerAddress();
            return full[0] ? count : Integer.valueOf(taken + 1);
        });
        if (full[0]) {
            pending.decrementAndGet();
            return limits.maxPendingPerAddress() + " handshakes already pending from this address";
        }
        return null;
    }

    private void releasePending(InetAddress source) {
        pending.decrementAndGet();
        pendingByAddress.computeIfPresent(source, (address, count) -> count <= 1 ? null : count - 1);
    }

    /**
     * Returns the key under which a peer's address is counted and its log lines limited: the address itself, or for
     * IPv6 its /64, since one host or one customer commonly holds a whole /64 and could otherwise use a fresh address
     * for each connection.
     */
    static InetAddress sourceKey(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] prefix = Arrays.copyOf(address.getAddress(), 16);
        Arrays.fill(prefix, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(prefix);
        } catch (UnknownHostException e) {
            throw new AssertionError("16 bytes are always an IPv6 address", e);
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
        for (Pair pair : active) {
            pair.cut("cut at shutdown");
        }
        threads.shutdownNow();
        threads.awaitTermination(5, TimeUnit.SECONDS);
        timers.shutdownNow();
        reportSuppressed();
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
        return pending.get();
    }

    private void log(String line) {
        synchronized (log) {
            log.println("fernet tunnel: " + line);
            log.flush();
        }
    }

    /** A line about a peer that never proved its key: a scanner must not be able to fill a disk with them. */
    private void logUnauthenticated(InetAddress source, String line) {
        if (limiter.allow(source)) {
            log(line);
        }
    }

    /** A connection's line: its number first (what readers search for), then when it ended. */
    private static String connectionLine(int number, String text) {
        return "#" + number + " " + timestamp() + " " + text;
    }

    private void reportSuppressed() {
        limiter.drain((source, count) -> log(timestamp() + " " + count + " more lines about " + source
                + " not logged in the last " + LOG_WINDOW.toSeconds() + " s"));
    }

    private static String timestamp() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }

    /** One accepted connection and its counterpart, pumping both ways. */
    private final class Pair {
        private final int number;
        private final Socket accepted;
        private final InetAddress source;
        private volatile Socket connected;
        private final AtomicLong up = new AtomicLong(); // accepted side to connected side
        private final AtomicLong down = new AtomicLong();
        private volatile String failure;
        private volatile boolean holdsPending;
        private volatile boolean holdsConnection;
        private volatile long lastTraffic = System.nanoTime();
        private volatile ScheduledFuture<?> timer;
        private final AtomicInteger cleanEnds = new AtomicInteger(); // directions ended and passed on cleanly
        private volatile boolean endedBeforeData; // fernet-tokens gate: the peer ended cleanly without a line
        private final long start = System.nanoTime();

        Pair(int number, Socket accepted, InetAddress source, boolean holdsPending) {
            this.number = number;
            this.accepted = accepted;
            this.source = source;
            this.holdsPending = holdsPending;
            this.holdsConnection = !holdsPending;
        }

        void run() {
            try {
                byte[] first = passGate();
                if (first == null) {
                    return;
                }
                connect();
                accepted.setTcpNoDelay(true);
                connected.setTcpNoDelay(true);
                if (first.length > 0) {
                    connected.getOutputStream().write(first);
                    up.addAndGet(first.length);
                }
                lastTraffic = System.nanoTime(); // the wait for the peer's key is the handshake deadline's business
                armIdleTimer(limits.idleTimeout());
                Socket outbound = connected;
                var downstream = threads.submit(() -> pump(outbound, accepted, down));
                pump(accepted, outbound, up);
                downstream.get();
            } catch (Exception e) {
                fail(e);
            } catch (Error e) {
                // out of memory or threads, say: the streams are cut, never passed on as a clean end
                fail(e);
                cut(null);
                throw e;
            } finally {
                end();
            }
        }

        /**
         * Waits, within the handshake timeout, until the peer has proved its key, and then takes a connection slot.
         *
         * @return the plaintext read while proving it (empty after a TLS handshake), or null if the pair is over
         */
        private byte[] passGate() throws IOException {
            if (gate == Gate.NONE) {
                return new byte[0];
            }
            Duration deadline = limits.handshakeTimeout();
            timer = timers.schedule(
                    () -> cut(
                            (gate == Gate.HANDSHAKE ? "no handshake within " : "no token within ") + seconds(deadline)),
                    deadline.toMillis(),
                    TimeUnit.MILLISECONDS);
            byte[] first = new byte[0];
            if (gate == Gate.HANDSHAKE) {
                FernetSocketFactory.handshake(accepted);
            } else {
                // no target connection for a peer that has not sent one authenticated token
                byte[] buffer = new byte[16 * 1024];
                int n = accepted.getInputStream().read(buffer);
                if (n < 0) {
                    timer.cancel(false);
                    endedBeforeData = true;
                    return null; // a clean end before any data: nothing to forward
                }
                first = Arrays.copyOf(buffer, n);
            }
            timer.cancel(false);
            if (failure != null) {
                return null; // the deadline fired as the key was proved
            }
            holdsPending = false;
            releasePending(source);
            String refusal = reserveConnection();
            if (refusal != null) {
                fail(new IOException("refused: " + refusal));
                return null;
            }
            holdsConnection = true;
            return first;
        }

        private void connect() throws IOException {
            Socket outbound = connectSide.createSocket();
            connected = outbound;
            outbound.setKeepAlive(true);
            try {
                outbound.connect(target, (int) limits.connectTimeout().toMillis());
            } catch (ConnectException e) {
                throw new IOException("target refused the connection", e);
            } catch (SocketTimeoutException e) {
                throw new IOException("target did not answer within " + seconds(limits.connectTimeout()), e);
            }
        }

        /** Copies until a clean end, then passes that end on; any other end aborts both sides. */
        private Void pump(Socket from, Socket to, AtomicLong counter) {
            byte[] buffer = new byte[PUMP_BYTES];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    lastTraffic = System.nanoTime();
                    out.write(buffer, 0, n);
                    counter.addAndGet(n);
                    if (n == buffer.length && n < STREAM_PUMP_BYTES) {
                        // a stream: larger reads from the plain side become up to four TLS records sent in one
                        // write, a quarter of the system calls and of the peer's wake-ups (docs/benchmarks.md)
                        buffer = new byte[STREAM_PUMP_BYTES];
                    }
                }
                to.shutdownOutput(); // close_notify on the encrypted side, FIN on the plain side
                cleanEnds.incrementAndGet();
            } catch (IOException | RuntimeException e) {
                fail(e);
                cut(null);
            } catch (Error e) {
                fail(e);
                cut(null);
                throw e;
            }
            return null;
        }

        /** Ends the pair when neither side has sent anything for {@code idle}; an idle end is a failure. */
        private void armIdleTimer(Duration idle) {
            if (idle == null) {
                return;
            }
            long idleNanos = idle.toNanos();
            long left = lastTraffic + idleNanos - System.nanoTime();
            if (left <= 0) {
                cut("idle for " + seconds(idle));
                return;
            }
            timer = timers.schedule(() -> armIdleTimer(idle), left, TimeUnit.NANOSECONDS);
        }

        private void fail(Throwable e) {
            if (failure == null) {
                String message = e.getMessage();
                failure = message == null ? e.getClass().getSimpleName() : message;
            }
        }

        /** Aborts both sides: each peer sees a reset (and no close_notify), never a clean end. */
        void cut(String reason) {
            if (cleanEnds.get() == 2) {
                return; // both ends were passed on cleanly: the pair is only closing
            }
            if (reason != null && failure == null) {
                failure = reason;
            }
            FernetSocketFactory.abort(accepted);
            Socket outbound = connected;
            if (outbound != null) {
                FernetSocketFactory.abort(outbound);
            }
        }

        private void end() {
            ScheduledFuture<?> pendingTimer = timer;
            if (pendingTimer != null) {
                pendingTimer.cancel(false);
            }
            if (failure == null && (cleanEnds.get() == 2 || endedBeforeData)) {
                closeQuietly(accepted); // both directions ended cleanly and were passed on
                closeQuietly(connected);
            } else {
                // whatever ended the pair without a failure on record, it was not a clean end of both directions
                cut(failure == null ? "ended without a clean end either way" : null);
            }
            if (holdsPending) {
                releasePending(source);
            }
            if (holdsConnection) {
                established.decrementAndGet();
            }
            active.remove(this);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            String line = connectionLine(
                    number,
                    accepted.getRemoteSocketAddress() + " -> " + target + " up "
                            + up.get() + " B, down " + down.get() + " B, " + millis + " ms, "
                            + (failure == null ? "closed cleanly" : "failed: " + failure));
            if (connected == null) {
                logUnauthenticated(source, line); // never reached the target: maybe a scanner
            } else {
                log(line);
            }
        }
    }

    /** Lets each source address log a few lines per window, and counts the rest. Thread-safe. */
    static final class LogLimiter {
        /** Past this many addresses in one window (a scan from many), new addresses are only counted. */
        private static final int MAX_ADDRESSES = 4096;
        /** Lines about all unauthenticated peers together per window: many addresses must not fill a disk either. */
        static final int MAX_LINES = 600;

        private final Map<InetAddress, int[]> counts = new ConcurrentHashMap<>(); // {logged, suppressed}
        private final AtomicLong overflow = new AtomicLong();
        private final AtomicInteger logged = new AtomicInteger();

        boolean allow(InetAddress source) {
            if (counts.size() >= MAX_ADDRESSES && !counts.containsKey(source)) {
                overflow.incrementAndGet();
                return false;
            }
            int[] count = counts.computeIfAbsent(source, unused -> new int[2]);
            synchronized (count) {
                if (count[0] < LOG_LINES_PER_ADDRESS && logged.getAndIncrement() < MAX_LINES) {
                    count[0]++;
                    return true;
                }
                count[1]++;
                return false;
            }
        }

        interface Report {
            void suppressed(String source, long count);
        }

        /** Starts a new window, reporting what each address had suppressed in the last. */
        void drain(Report report) {
            for (Iterator<Map.Entry<InetAddress, int[]>> it = counts.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<InetAddress, int[]> entry = it.next();
                it.remove();
                int suppressed;
                synchronized (entry.getValue()) {
                    suppressed = entry.getValue()[1];
                }
                if (suppressed > 0) {
                    report.suppressed(entry.getKey().getHostAddress(), suppressed);
                }
            }
            logged.set(0);
            long others = overflow.getAndSet(0);
            if (others > 0) {
                report.suppressed("other addresses", others);
            }
        }
    }

    private static String seconds(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            // closing is best effort; the log line says how the connection ended
        }
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
