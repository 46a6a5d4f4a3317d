package dev.fernetjca.testing;

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

    private Fuzzing() {
    }

    /** Returns whether Jazzer is fuzzing in this JVM rather than replaying its corpus. */
    public static boolean isFuzzing() {
        String fuzz = System.getenv("JAZZER_FUZZ");
        return fuzz != null && !fuzz.isEmpty() && !fuzz.equals("0") || Boolean.getBoolean("jazzer.fuzz");
    }

    /** Turns off the library's logging while fuzzing; does nothing in regression mode. */
    public static void quietLogsWhileFuzzing() {
        if (isFuzzing()) {
            LIBRARY.setLevel(Level.OFF);
        }
    }
}
