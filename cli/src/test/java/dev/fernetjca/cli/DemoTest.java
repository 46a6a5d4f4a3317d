package dev.fernetjca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DemoTest {
    @Test
    void demoEncryptsDecryptsAndRejectsTamperedToken() {
        Cli.Result result = Cli.run("demo");
        assertEquals(0, result.status(), result.stderr());
        assertEquals("", result.stderr());
        String out = result.out();
        assertTrue(out.contains("generated a new key (not shown)"), out);
        assertTrue(out.contains("token:     gAAAAA"), out);
        assertTrue(out.contains("decrypted: " + Demo.MESSAGE), out);
        assertTrue(out.contains("rejected:  token authentication failed"), out);
    }

    @Test
    void demoPrintsNoKey() {
        for (String word : Cli.run("demo").out().split("\\s+")) {
            assertFalse(word.matches("[A-Za-z0-9_-]{43}="), "the demo printed something shaped like a key");
        }
    }
}
