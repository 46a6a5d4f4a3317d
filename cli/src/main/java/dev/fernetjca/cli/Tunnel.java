package dev.fernetjca.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;

/**
 * Forwards every connection accepted on one side to a new connection on the other, both directions at once, with
 * half-close passed through: spiped's and stunnel's job. One side is encrypted (a Fernet factory), the other plain.
 * A pair that fails closes only itself.
 *
 * <p>Logs one line per connection: the peer, bytes each way, duration, and how it ended. Never logs data.
 *
 * <p>Thread-safe; {@link #close()} drains.
 */
final class Tunnel implements AutoCloseable {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final InetSocketAddress target;
    private final SocketFactory connectSide;
    private final int maxConnections;
    private final boolean handshakeFirst;
    private final PrintWriter log;
    private final ServerSocket listener;
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "fernet-tunnel");
        thread.setDaemon(true);
        return thread;
    });
    private final Set<Pair> active = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionNumber = new AtomicInteger();

    private Tunnel(ServerSocket listener, boolean handshakeFirst, InetSocketAddress target, SocketFactory connectSide,
                   int maxConnections, PrintWriter log) {
        this.listener = listener;
        this.handshakeFirst = handshakeFirst;
        this.target = target;
        this.connectSide = connectSide;
        this.maxConnections = maxConnections;
        this.log = log;
    }

    /** Binds {@code listen} with {@code acceptSide} and starts accepting; connections go to {@code target}. */
    static Tunnel start(InetSocketAddress listen, ServerSocketFactory acceptSide, InetSocketAddress target,
                        SocketFactory connectSide, int maxConnections, PrintWriter log) throws IOException {
        ServerSocket listener = acceptSide.createServerSocket();
        try {
            listener.setReuseAddress(true);
            listener.bind(listen, Math.max(50, maxConnections));
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        Tunnel tunnel = new Tunnel(listener, acceptSide instanceof FernetServerSocketFactory, target, connectSide,
                maxConnections, log);
        tunnel.threads.submit(tunnel::acceptLoop);
        return tunnel;
    }

    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket accepted;
            try {
                accepted = listener.accept();
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    log("accept failed: " + e.getMessage());
                    pause(); // out of file descriptors, say: do not spin and flood the log
                }
                continue;
            }
            int number = connectionNumber.incrementAndGet();
            if (active.size() >= maxConnections) {
                log("#" + number + " " + accepted.getRemoteSocketAddress() + " refused: "
                        + maxConnections + " connections already open");
                closeQuietly(accepted);
                continue;
            }
            Pair pair = new Pair(number, accepted);
            active.add(pair);
            threads.submit(pair::run);
        }
    }

    /**
     * Stops accepting, lets open connections finish for up to {@code drain}, then cuts the rest.
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
            pair.cut();
        }
        threads.shutdownNow();
        threads.awaitTermination(5, TimeUnit.SECONDS);
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

    private void log(String line) {
        synchronized (log) {
            log.println("fernet tunnel: " + line);
            log.flush();
        }
    }

    /** One accepted connection and its counterpart, pumping both ways. */
    private final class Pair {
        private final int number;
        private final Socket accepted;
        private volatile Socket connected;
        private final AtomicLong up = new AtomicLong();     // accepted side to connected side
        private final AtomicLong down = new AtomicLong();
        private volatile String failure;
        private final long start = System.nanoTime();

        Pair(int number, Socket accepted) {
            this.number = number;
            this.accepted = accepted;
        }

        void run() {
            try {
                if (handshakeFirst) {
                    // a client must prove it holds the key before the service behind us sees a connection
                    FernetSocketFactory.handshake(accepted);
                }
                Socket outbound = connectSide.createSocket();
                connected = outbound;
                outbound.connect(target, (int) CONNECT_TIMEOUT.toMillis());
                accepted.setTcpNoDelay(true);
                outbound.setTcpNoDelay(true);
                var downstream = threads.submit(() -> pump(outbound, accepted, down));
                pump(accepted, outbound, up);
                downstream.get();
            } catch (IOException e) {
                fail(e);
            } catch (Exception e) {
                fail(e);
            } finally {
                closeQuietly(accepted);
                closeQuietly(connected);
                active.remove(this);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                log("#" + number + " " + accepted.getRemoteSocketAddress() + " -> " + target + " up " + up.get()
                        + " B, down " + down.get() + " B, " + millis + " ms, "
                        + (failure == null ? "closed cleanly" : "failed: " + failure));
            }
        }

        /** Copies until end of stream, then half-closes the other side; any failure cuts both sides. */
        private Void pump(Socket from, Socket to, AtomicLong counter) {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    counter.addAndGet(n);
                }
                to.shutdownOutput();
            } catch (IOException | RuntimeException e) {
                fail(e);
                cut();
            }
            return null;
        }

        private void fail(Exception e) {
            if (failure == null) {
                String message = e.getMessage();
                failure = message == null ? e.getClass().getSimpleName() : message;
            }
        }

        void cut() {
            closeQuietly(accepted);
            closeQuietly(connected);
        }
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

    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, got " + hostPort);
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected HOST:PORT, got " + hostPort);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0 to 65535, got " + port);
        }
        return new InetSocketAddress(host, port);
    }

}
