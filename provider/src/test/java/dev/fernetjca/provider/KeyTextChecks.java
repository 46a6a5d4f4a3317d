package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.regex.Pattern;

/** What the key-text fuzz targets check of a rejection message. */
final class KeyTextChecks {
    /** Shorter pieces of the input can appear in any message by chance ("key", a line number). */
    private static final int ECHO_MIN_CHARS = 12;

    private KeyTextChecks() {}

    /** Fails if {@code message} contains any entry of {@code text}, split at {@code separator}, of 12 characters or more. */
    static void assertNoEcho(String message, String text, String separator) {
        assertNotNull(message, "rejection without a message");
        for (String entry : text.split(Pattern.quote(separator), -1)) {
            String trimmed = entry.strip();
            if (trimmed.length() >= ECHO_MIN_CHARS) {
                assertFalse(message.contains(trimmed), "message repeats an entry of " + trimmed.length() + " chars");
            }
        }
    }
}
