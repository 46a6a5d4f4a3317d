package dev.fernetjca.cli;

import dev.fernetjca.net.FernetSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One accepted connection of a {@link Tunnel} and its counterpart: waits for the peer to pass the tunnel's gate,
 * connects the target, pumps both directions, passes a clean end on as a clean end and cuts both sides at any other,
 * then releases its slots and logs one line.
 *
 * <p>Thread-safe: {@link #run} pumps upstream on the calling thread and downstream on a thread of the tunnel's pool,
 * and {@link #cut} may come from any thread (a deadline, the idle timer, shutdown).
 */
final class TunnelConnection {
    /** Each direction's copy buffer at first: one TLS record's worth. */
    static final int PUMP_BYTES = 16 * 1024;
    /** A direction's copy buffer once a read has filled it: four records' worth, 64 KiB per busy direction at most. */
    static final int STREAM_PUMP_BYTES = 64 * 1024;

    private final Tunnel tunnel;
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

    TunnelConnection(Tunnel tunnel, int number, Socket accepted, InetAddress source, boolean holdsPending) {
        this.tunnel = tunnel;
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
            armIdleTimer(tunnel.limits.idleTimeout());
            Socket outbound = connected;
            var downstream = tunnel.threads.submit(() -> pump(outbound, accepted, down));
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
        Tunnel.Gate gate = tunnel.gate;
        if (gate == Tunnel.Gate.NONE) {
            return new byte[0];
        }
        Duration deadline = tunnel.limits.handshakeTimeout();
        timer = tunnel.timers.schedule(
                () -> cut((gate == Tunnel.Gate.HANDSHAKE ? "no handshake within " : "no token within ")
                        + seconds(deadline)),
                deadline.toMillis(),
                TimeUnit.MILLISECONDS);
        byte[] first = new byte[0];
        if (gate == Tunnel.Gate.HANDSHAKE) {
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
        tunnel.slots.releasePending(source);
        String refusal = tunnel.slots.reserveConnection();
        if (refusal != null) {
            fail(new IOException("refused: " + refusal));
            return null;
        }
        holdsConnection = true;
        return first;
    }

    private void connect() throws IOException {
        Socket outbound = tunnel.connectSide.createSocket();
        connected = outbound;
        outbound.setKeepAlive(true);
        try {
            outbound.connect(tunnel.target, (int) tunnel.limits.connectTimeout().toMillis());
        } catch (ConnectException e) {
            throw new IOException("target refused the connection", e);
        } catch (SocketTimeoutException e) {
            throw new IOException("target did not answer within " + seconds(tunnel.limits.connectTimeout()), e);
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
        timer = tunnel.timers.schedule(() -> armIdleTimer(idle), left, TimeUnit.NANOSECONDS);
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
            Tunnel.closeQuietly(accepted); // both directions ended cleanly and were passed on
            Tunnel.closeQuietly(connected);
        } else {
            // whatever ended the pair without a failure on record, it was not a clean end of both directions
            cut(failure == null ? "ended without a clean end either way" : null);
        }
        if (holdsPending) {
            tunnel.slots.releasePending(source);
        }
        if (holdsConnection) {
            tunnel.slots.releaseConnection();
        }
        tunnel.ended(this);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        String line = TunnelLog.connectionLine(
                number,
                accepted.getRemoteSocketAddress() + " -> " + tunnel.target + " up "
                        + up.get() + " B, down " + down.get() + " B, " + millis + " ms, "
                        + (failure == null ? "closed cleanly" : "failed: " + failure));
        if (connected == null) {
            tunnel.log.unauthenticated(source, line); // never reached the target: maybe a scanner
        } else {
            tunnel.log.write(line);
        }
    }

    static String seconds(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
    }
}
