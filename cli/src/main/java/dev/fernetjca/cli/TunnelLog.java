package dev.fernetjca.cli;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Writes the tunnel's log: one line per connection, numbered and timestamped, each prefixed {@code fernet tunnel:};
 * lines about peers that never proved a key go through a {@link LogLimiter}. Callers pass lines that hold no data.
 *
 * <p>Thread-safe: lines are written whole, one at a time, and flushed.
 */
final class TunnelLog {
    private final PrintWriter log;
    private final LogLimiter limiter = new LogLimiter();

    TunnelLog(PrintWriter log) {
        this.log = log;
    }

    void write(String line) {
        synchronized (log) {
            log.println("fernet tunnel: " + line);
            log.flush();
        }
    }

    /** A line about a peer that never proved its key: a scanner must not be able to fill a disk with them. */
    void unauthenticated(InetAddress source, String line) {
        if (limiter.allow(source)) {
            write(line);
        }
    }

    /** Says how many lines each address had suppressed in the window now ended, and starts a new one. */
    void reportSuppressed() {
        limiter.drain((source, count) -> write(timestamp() + " " + count + " more lines about " + source
                + " not logged in the last " + LogLimiter.WINDOW.toSeconds() + " s"));
    }

    /** A connection's line: its number first (what readers search for), then when it ended. */
    static String connectionLine(int number, String text) {
        return "#" + number + " " + timestamp() + " " + text;
    }

    static String timestamp() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
