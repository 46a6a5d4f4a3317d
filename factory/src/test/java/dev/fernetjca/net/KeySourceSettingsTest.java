package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The key-file settings beside the keys themselves: which file a factory watches, and how strict its mode check is. */
class KeySourceSettingsTest {
    private static Lookup environment(Map<String, String> variables) {
        return new Lookup(name -> null, name -> null, variables::get);
    }

    @Test
    void theConfiguredKeyFileIsThePathGivenStripped() {
        assertEquals(
                Path.of("/run/secrets/fernet.key"),
                KeySource.configuredKeyFile(environment(Map.of("FERNET_KEY_FILE", "  /run/secrets/fernet.key \n"))));
        assertNull(KeySource.configuredKeyFile(environment(Map.of())), "no key file configured");
        assertNull(
                KeySource.configuredKeyFile(
                        environment(Map.of("FERNET_KEY_FILE", "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="))),
                "a key where its file belongs is not a path to watch");
    }

    @Test
    void keyFilePermissionsAreStrictUnlessReadableIsAsked() {
        assertFalse(KeySource.readableByOthers(environment(Map.of())));
        assertFalse(KeySource.readableByOthers(environment(Map.of("FERNET_KEY_FILE_PERMISSIONS", " Strict "))));
        assertTrue(KeySource.readableByOthers(environment(Map.of("FERNET_KEY_FILE_PERMISSIONS", "readable"))));
        assertTrue(KeySource.readableByOthers(environment(Map.of("FERNET_KEY_FILE_PERMISSIONS", " READABLE\n"))));
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> KeySource.readableByOthers(environment(Map.of("FERNET_KEY_FILE_PERMISSIONS", "loose-secret"))));
        assertEquals("environment variable FERNET_KEY_FILE_PERMISSIONS must be strict or readable", e.getMessage());
    }
}
