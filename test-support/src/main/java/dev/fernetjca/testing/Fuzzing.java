package dev.fernetjca.testing;

import com.code_intelligence.jazzer.api.BugDetectors;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What Jazzer fuzz targets share. While fuzzing ({@code JAZZER_FUZZ} set, as {@code -Pfuzz} does) a target runs
 * thousands of failing connections a second, and the library's one warning line each would fill the disk and slow the
 * fuzzer tenfold; in regression mode, in {@code verify}, the logs stay as they are.
 *
 * <p>Thread-safe.
 */
public final class Fuzzing {
    /** Held strongly: {@link Logger} keeps only weak references, and a collected logger forgets its level. */
    private static final Logger LIBRARY = Logger.getLogger("dev.fernetjca");

    private static final Set<String> LOOPBACK_NAMES = new HashSet<>(List.of(
            "localhost",
            "127.0.0.1",
            "::1",
            "0:0:0:0:0:0:0:1",
            InetAddress.getLoopbackAddress().getHostName(),
            InetAddress.getLoopbackAddress().getHostAddress()));

    private Fuzzing() {}

    /** Returns whether Jazzer is fuzzing in this JVM rather than replaying its corpus. */
    public static boolean isFuzzing() {
        String fuzz = System.getenv("JAZZER_FUZZ");
        return fuzz != null && !fuzz.isEmpty() && !fuzz.equals("0") || Boolean.getBoolean("jazzer.fuzz");
    }

    /**
     * Lets the running fuzz target open connections to the loopback address, and only there. Jazzer's server-side
     * request forgery detector otherwise reports every connection a socket target makes as a finding; the policy is
     * global, so connections the code under test makes on its own threads are covered too. Call it at the start of
     * each execution, as Jazzer asks.
     */
    public static void allowLoopbackConnections() {
        BugDetectors.allowNetworkConnections((host, port) -> LOOPBACK_NAMES.contains(host));
    }

    /** Turns off the library's logging while fuzzing; does nothing in regression mode. */
    public static void quietLogsWhileFuzzing() {
        if (isFuzzing()) {
            LIBRARY.setLevel(Level.OFF);
        }
    }
}
