package dev.fernetjca.cli;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets each source address log a few lines per window, and counts the rest, so that peers that never prove a key (a
 * scanner, a flood from many addresses) cannot fill a disk through the tunnel's log.
 *
 * <p>Thread-safe.
 */
final class LogLimiter {
    /** Lines about unauthenticated peers that one source address may cause per window; more are only counted. */
    static final int LINES_PER_ADDRESS = 10;

    /** How long a window lasts: the tunnel calls {@link #drain} at this period. */
    static final Duration WINDOW = Duration.ofMinutes(1);

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
            if (count[0] < LINES_PER_ADDRESS && logged.getAndIncrement() < MAX_LINES) {
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
