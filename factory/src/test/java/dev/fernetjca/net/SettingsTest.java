package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetProvider;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The factories' settings besides the keys: mode, TTL and handshake timeout, read through a {@link Lookup} in the
 * order system property, security property, environment, and checked at both ends of their ranges.
 */
class SettingsTest {
    private static final FernetProvider PROVIDER = new FernetProvider();

    private static SecretKey newKey() throws Exception {
        return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
    }

    /** A lookup that sees only {@code properties} as system properties and {@code environment} as variables. */
    private static Lookup lookup(Map<String, String> properties, Map<String, String> environment) {
        return new Lookup(properties::get, name -> null, environment::get);
    }

    private static Lookup environment(String variable, String value) {
        Map<String, String> environment = new HashMap<>();
        environment.put(variable, value);
        return lookup(Map.of(), environment);
    }

    @Test
    void defaultsWhenNothingIsSet() {
        Lookup none = lookup(Map.of(), Map.of());
        assertSame(Settings.Mode.TLS, Settings.configuredMode(none));
        assertNull(Settings.configuredTtl(none));
        assertEquals(Duration.ofSeconds(10), Settings.configuredHandshakeTimeout(none));
    }

    @Test
    void aSystemPropertyWinsOverASecurityPropertyWhichWinsOverTheEnvironment() {
        Lookup all = new Lookup(
                name -> name.equals("fernet.ttl") ? "1" : null,
                name -> name.equals("fernet.ttl") ? "2" : null,
                name -> name.equals("FERNET_TTL") ? "3" : null);
        assertEquals(Duration.ofSeconds(1), Settings.configuredTtl(all));
        assertEquals("system property fernet.ttl", all.origin("fernet.ttl", "FERNET_TTL"));
        Lookup security = new Lookup(name -> "  ", name -> name.equals("fernet.ttl") ? " 2 " : null, name -> "3");
        assertEquals(Duration.ofSeconds(2), Settings.configuredTtl(security));
        assertEquals("security property fernet.ttl", security.origin("fernet.ttl", "FERNET_TTL"));
        Lookup variable = new Lookup(name -> "", name -> null, name -> name.equals("FERNET_TTL") ? "3" : null);
        assertEquals(Duration.ofSeconds(3), Settings.configuredTtl(variable));
        assertEquals("environment variable FERNET_TTL", variable.origin("fernet.ttl", "FERNET_TTL"));
        assertNull(lookup(Map.of(), Map.of()).origin("fernet.ttl", "FERNET_TTL"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "TLS", " tls ", "Tls"})
    void readsTlsModeInAnyCase(String value) {
        assertSame(Settings.Mode.TLS, Settings.configuredMode(environment("FERNET_MODE", value)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fernet-tokens", "FERNET-TOKENS", "\tfernet-tokens\n"})
    void readsFernetTokensModeInAnyCase(String value) {
        assertSame(Settings.Mode.FERNET_TOKENS, Settings.configuredMode(environment("FERNET_MODE", value)));
    }

    @Test
    void anUnknownModeIsNamedButNotRepeated() {
        String value = "fernet_tokens-secretish";
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> Settings.configuredMode(environment("FERNET_MODE", value)));
        assertEquals("fernet.mode (or FERNET_MODE) must be tls or fernet-tokens", e.getMessage());
        assertFalse(e.getMessage().contains(value));
    }

    @Test
    void readsTtlAndHandshakeTimeoutAsPositiveWholeNumbers() {
        assertEquals(Duration.ofSeconds(1), Settings.configuredTtl(environment("FERNET_TTL", "1")));
        assertEquals(Duration.ofSeconds(86_400), Settings.configuredTtl(environment("FERNET_TTL", " 86400 ")));
        assertEquals(
                Duration.ofMillis(1),
                Settings.configuredHandshakeTimeout(environment("FERNET_HANDSHAKE_TIMEOUT", "1")));
        assertEquals(
                Duration.ofDays(1),
                Settings.configuredHandshakeTimeout(environment("FERNET_HANDSHAKE_TIMEOUT", "86400000")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "1.5", "1e3", "ten", "+5", "0x10", "5s"})
    void refusesWhatIsNotAPositiveWholeNumberWithoutRepeatingIt(String value) {
        IllegalStateException ttl = assertThrows(
                IllegalStateException.class, () -> Settings.configuredTtl(environment("FERNET_TTL", value)));
        assertEquals("fernet.ttl (or FERNET_TTL) must be a positive whole number of seconds", ttl.getMessage());
        IllegalStateException timeout = assertThrows(
                IllegalStateException.class,
                () -> Settings.configuredHandshakeTimeout(environment("FERNET_HANDSHAKE_TIMEOUT", value)));
        assertEquals(
                "fernet.handshakeTimeout (or FERNET_HANDSHAKE_TIMEOUT) must be a positive whole number of milliseconds",
                timeout.getMessage());
    }

    @Test
    void refusesNumbersBeyondTheirLimits() {
        IllegalStateException tooLong = assertThrows(
                IllegalStateException.class,
                () -> Settings.configuredTtl(environment("FERNET_TTL", "99999999999999999999")));
        assertEquals(
                "fernet.ttl (or FERNET_TTL) is too large: at most 9223372036854775807 seconds", tooLong.getMessage());
        IllegalStateException dayAndOne = assertThrows(
                IllegalStateException.class,
                () -> Settings.configuredHandshakeTimeout(environment("FERNET_HANDSHAKE_TIMEOUT", "86400001")));
        assertEquals(
                "fernet.handshakeTimeout (or FERNET_HANDSHAKE_TIMEOUT) is too large: at most 86400000 milliseconds",
                dayAndOne.getMessage());
    }

    @Test
    void aHandshakeTimeoutGivenInCodeMustBePositiveAndAtMostADay() throws Exception {
        SecretKey key = newKey();
        assertEquals(86_400_000L, Settings.of(key, Duration.ofDays(1)).handshakeTimeoutMillis);
        assertEquals(1L, Settings.of(key, Duration.ofMillis(1)).handshakeTimeoutMillis);
        for (Duration bad : new Duration[] {
            Duration.ZERO, Duration.ofMillis(-1), Duration.ofDays(1).plusNanos(1)
        }) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> Settings.of(key, bad), bad.toString());
            assertEquals("handshake timeout must be positive and at most a day, got " + bad, e.getMessage());
        }
    }

    @Test
    void tlsSettingsHoldOnePskPerKeyAndNoRing() throws Exception {
        SecretKey primary = newKey();
        FernetKeyRing ring = FernetKeyRing.of(primary, newKey(), newKey());
        Settings settings = Settings.of(ring, Settings.Mode.TLS, null, Duration.ofSeconds(5));
        assertSame(Settings.Mode.TLS, settings.mode);
        assertEquals(3, settings.keyCount());
        assertEquals(3, settings.psks.size());
        assertNull(settings.ring);
        assertEquals(
                PskDerivation.of(primary).identityText(), settings.psks.get(0).identityText());
        assertEquals(5000, settings.handshakeTimeoutMillis);
        assertFalse(ring.isDestroyed(), "the caller's ring is the caller's");
    }

    @Test
    void fernetTokensSettingsHoldTheRingAndTheTtl() throws Exception {
        FernetKeyRing ring = FernetKeyRing.of(newKey(), newKey());
        Settings settings =
                Settings.of(ring, Settings.Mode.FERNET_TOKENS, Duration.ofSeconds(30), Duration.ofSeconds(5));
        assertSame(Settings.Mode.FERNET_TOKENS, settings.mode);
        assertEquals(2, settings.keyCount());
        assertTrue(settings.psks.isEmpty());
        assertEquals(2, settings.ring.size());
        assertEquals(Optional.of(Duration.ofSeconds(30)), settings.tokenParameters.getTtl());
        assertEquals(
                Optional.empty(),
                Settings.of(ring, Settings.Mode.FERNET_TOKENS, null, Duration.ofSeconds(5))
                        .tokenParameters
                        .getTtl());
    }
}
