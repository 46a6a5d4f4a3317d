package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.fernetjca.provider.FernetKeyRing;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The process-wide lookups of {@link Settings} ({@link Lookup#PROCESS}: system properties first), which the socket
 * factories use, and {@link Lookup#withEnvironment}, which the {@code fernet} command uses. Every system property set
 * here is put back as it was.
 */
class SettingsProcessTest {
    private static final List<String> PROPERTIES = List.of(
            Settings.MODE_PROPERTY,
            Settings.TTL_PROPERTY,
            Settings.HANDSHAKE_TIMEOUT_PROPERTY,
            KeySource.KEY,
            KeySource.KEY_FILE,
            KeySource.KEY_STORE);
    private final Map<String, Optional<String>> saved = new HashMap<>();

    @BeforeEach
    void save() {
        for (String property : PROPERTIES) {
            saved.put(property, Optional.ofNullable(System.getProperty(property)));
            System.clearProperty(property);
        }
    }

    @AfterEach
    void restore() {
        saved.forEach((property, value) ->
                value.ifPresentOrElse(v -> System.setProperty(property, v), () -> System.clearProperty(property)));
    }

    @Test
    void systemPropertiesConfigureModeTtlAndHandshakeTimeout() {
        System.setProperty(Settings.MODE_PROPERTY, " Fernet-Tokens ");
        System.setProperty(Settings.TTL_PROPERTY, "90");
        System.setProperty(Settings.HANDSHAKE_TIMEOUT_PROPERTY, "2500");
        assertSame(Settings.Mode.FERNET_TOKENS, Settings.configuredMode());
        assertEquals(Duration.ofSeconds(90), Settings.configuredTtl());
        assertEquals(Duration.ofMillis(2500), Settings.configuredHandshakeTimeout());
        assertEquals("90", Settings.setting(Settings.TTL_PROPERTY, Settings.TTL_VARIABLE));
        assertEquals(
                "system property " + Settings.TTL_PROPERTY,
                Settings.origin(Settings.TTL_PROPERTY, Settings.TTL_VARIABLE));
    }

    @Test
    void settingsForAKeyTakeTheProcessConfiguration() throws Exception {
        SecretKey key = newKey();
        System.setProperty(Settings.MODE_PROPERTY, "fernet-tokens");
        System.setProperty(Settings.TTL_PROPERTY, "30");
        System.setProperty(Settings.HANDSHAKE_TIMEOUT_PROPERTY, "1234");
        Settings tokens = Settings.of(key);
        assertSame(Settings.Mode.FERNET_TOKENS, tokens.mode);
        assertEquals(1, tokens.keyCount());
        assertEquals(1234, tokens.handshakeTimeoutMillis);
        assertEquals(Optional.of(Duration.ofSeconds(30)), tokens.tokenParameters.getTtl());

        System.setProperty(Settings.MODE_PROPERTY, "tls");
        Settings tls = Settings.of(FernetKeyRing.of(key, newKey()));
        assertSame(Settings.Mode.TLS, tls.mode);
        assertEquals(2, tls.keyCount());
        assertNull(tls.ring);
    }

    @Test
    void configuredSettingsFindTheKeyAndTheRest() throws Exception {
        String keyText = Base64.getUrlEncoder().encodeToString(newKey().getEncoded());
        System.setProperty(KeySource.KEY, keyText);
        System.setProperty(Settings.HANDSHAKE_TIMEOUT_PROPERTY, "4321");
        Settings settings = Settings.configured();
        assertSame(Settings.Mode.TLS, settings.mode);
        assertEquals(1, settings.keyCount());
        assertEquals(4321, settings.handshakeTimeoutMillis);
    }

    @Test
    void theCommandsEnvironmentIsConsultedAfterTheProperties() {
        Lookup lookup = Lookup.withEnvironment(Map.of(Settings.TTL_VARIABLE, " 45 ", Settings.MODE_VARIABLE, "tls"));
        assertEquals(Duration.ofSeconds(45), Settings.configuredTtl(lookup));
        assertEquals(
                "environment variable " + Settings.TTL_VARIABLE,
                lookup.origin(Settings.TTL_PROPERTY, Settings.TTL_VARIABLE));
        System.setProperty(Settings.TTL_PROPERTY, "7");
        assertEquals(Duration.ofSeconds(7), Settings.configuredTtl(lookup), "a system property wins");
    }
}
