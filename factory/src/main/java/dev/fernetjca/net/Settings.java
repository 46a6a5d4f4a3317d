package dev.fernetjca.net;

import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javax.crypto.SecretKey;
import org.bouncycastle.tls.crypto.TlsCrypto;

/**
 * What every socket of a factory shares: the wire mode, the keys (PSKs derived from them for TLS, the ring itself for
 * fernet-tokens), the TLS crypto, the handshake deadline and the token TTL.
 *
 * <p>Immutable; safe to share.
 */
final class Settings {
    /** The wire format of a factory's sockets. */
    enum Mode {
        /** TLS 1.3 with a PSK derived from the Fernet key: the default. */
        TLS("tls"),
        /** Newline-terminated Fernet tokens, for peers such as Python programs that speak them. */
        FERNET_TOKENS("fernet-tokens");

        final String label;

        Mode(String label) {
            this.label = label;
        }

        static Mode parse(String value) {
            for (Mode mode : values()) {
                if (mode.label.equals(value.trim().toLowerCase(Locale.ROOT))) {
                    return mode;
                }
            }
            // the value is not repeated: a key set in the wrong variable must not reach a log
            throw new IllegalStateException(MODE_PROPERTY + " (or " + MODE_VARIABLE + ") must be tls or fernet-tokens");
        }
    }

    static final String HANDSHAKE_TIMEOUT_PROPERTY = "fernet.handshakeTimeout";
    static final String HANDSHAKE_TIMEOUT_VARIABLE = "FERNET_HANDSHAKE_TIMEOUT";
    static final String MODE_PROPERTY = "fernet.mode";
    static final String MODE_VARIABLE = "FERNET_MODE";
    static final String TTL_PROPERTY = "fernet.ttl";
    static final String TTL_VARIABLE = "FERNET_TTL";
    static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    static final Duration MAX_HANDSHAKE_TIMEOUT = Duration.ofDays(1);

    /**
     * AES-GCM, ChaCha20-Poly1305, X25519 and HKDF from the JDK's providers (with their AES-NI and SHA intrinsics),
     * through Bouncy Castle's JCA layer: {@link JdkTlsCrypto}.
     */
    static final TlsCrypto CRYPTO = new JdkTlsCrypto();

    final Mode mode;
    final List<PskDerivation> psks; // TLS mode
    final FernetKeyRing ring; // fernet-tokens mode; null in TLS mode
    final FernetParameterSpec tokenParameters;
    final long handshakeTimeoutMillis;

    private Settings(
            Mode mode,
            List<PskDerivation> psks,
            FernetKeyRing ring,
            FernetParameterSpec tokenParameters,
            long handshakeTimeoutMillis) {
        this.mode = mode;
        this.psks = psks;
        this.ring = ring;
        this.tokenParameters = tokenParameters;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** Returns settings for a Fernet key or ring, with the mode, TTL and handshake timeout of the configuration. */
    static Settings of(SecretKey keyOrRing) {
        return of(keyOrRing, configuredMode(), configuredTtl(), configuredHandshakeTimeout());
    }

    /** Returns TLS settings for a Fernet key or ring. */
    static Settings of(SecretKey keyOrRing, Duration handshakeTimeout) {
        return of(keyOrRing, Mode.TLS, null, handshakeTimeout);
    }

    /**
     * Returns settings for a Fernet key or ring.
     *
     * @param ttl in fernet-tokens mode, the age beyond which tokens are refused; null for none
     */
    static Settings of(SecretKey keyOrRing, Mode mode, Duration ttl, Duration handshakeTimeout) {
        if (handshakeTimeout.isNegative()
                || handshakeTimeout.isZero()
                || handshakeTimeout.compareTo(MAX_HANDSHAKE_TIMEOUT) > 0) {
            throw new IllegalArgumentException(
                    "handshake timeout must be positive and at most a day, got " + handshakeTimeout);
        }
        FernetParameterSpec tokenParameters =
                ttl == null ? FernetParameterSpec.defaults() : FernetParameterSpec.ttl(ttl);
        FernetKeyRing ring = FernetKeyRing.of(keyOrRing);
        if (mode == Mode.FERNET_TOKENS) {
            return new Settings(mode, List.of(), ring, tokenParameters, handshakeTimeout.toMillis());
        }
        try {
            return new Settings(mode, PskDerivation.of(ring), null, tokenParameters, handshakeTimeout.toMillis());
        } finally {
            ring.destroy();
        }
    }

    /** Returns settings for the configured keys ({@link KeySource}), mode, TTL and handshake timeout. */
    static Settings configured() {
        return configured(Lookup.PROCESS);
    }

    /** Returns settings for the keys, mode, TTL and handshake timeout that {@code lookup} finds. */
    static Settings configured(Lookup lookup) {
        FernetKeyRing ring = KeySource.from(lookup);
        try {
            return of(ring, configuredMode(lookup), configuredTtl(lookup), configuredHandshakeTimeout(lookup));
        } finally {
            ring.destroy();
        }
    }

    int keyCount() {
        return mode == Mode.TLS ? psks.size() : ring.size();
    }

    /** Looks a setting up in this process, as {@link Lookup#PROCESS} does; trimmed, or null when unset. */
    static String setting(String property, String variable) {
        return Lookup.PROCESS.value(property, variable);
    }

    /** Names where {@link #setting} finds {@code property}, or null when it is unset; never the value. */
    static String origin(String property, String variable) {
        return Lookup.PROCESS.origin(property, variable);
    }

    /** Reads {@code fernet.mode}: {@code tls} (the default) or {@code fernet-tokens}. */
    static Mode configuredMode() {
        return configuredMode(Lookup.PROCESS);
    }

    static Mode configuredMode(Lookup lookup) {
        String value = lookup.value(MODE_PROPERTY, MODE_VARIABLE);
        return value == null ? Mode.TLS : Mode.parse(value);
    }

    /** Reads {@code fernet.ttl}, whole seconds; null when unset (tokens never expire). */
    static Duration configuredTtl() {
        return configuredTtl(Lookup.PROCESS);
    }

    static Duration configuredTtl(Lookup lookup) {
        String value = lookup.value(TTL_PROPERTY, TTL_VARIABLE);
        return value == null ? null : Duration.ofSeconds(positive(value, TTL_PROPERTY, TTL_VARIABLE, "seconds"));
    }

    /** Reads {@code fernet.handshakeTimeout}, milliseconds; 10 seconds when unset. */
    static Duration configuredHandshakeTimeout() {
        return configuredHandshakeTimeout(Lookup.PROCESS);
    }

    static Duration configuredHandshakeTimeout(Lookup lookup) {
        String value = lookup.value(HANDSHAKE_TIMEOUT_PROPERTY, HANDSHAKE_TIMEOUT_VARIABLE);
        if (value == null) {
            return DEFAULT_HANDSHAKE_TIMEOUT;
        }
        long millis = positive(value, HANDSHAKE_TIMEOUT_PROPERTY, HANDSHAKE_TIMEOUT_VARIABLE, "milliseconds");
        if (millis > MAX_HANDSHAKE_TIMEOUT.toMillis()) {
            // deadlines are computed in nanoseconds: a day keeps every sum far from overflowing
            throw new IllegalStateException(HANDSHAKE_TIMEOUT_PROPERTY + " (or " + HANDSHAKE_TIMEOUT_VARIABLE
                    + ") is too large: at most " + MAX_HANDSHAKE_TIMEOUT.toMillis() + " milliseconds");
        }
        return Duration.ofMillis(millis);
    }

    /** Returns {@code value} as a positive whole number; the message names the setting, never the value. */
    static long positive(String value, String property, String variable, String unit) {
        String setting = property + " (or " + variable + ")";
        if (value.matches("[0-9]+")) {
            try {
                long number = Long.parseLong(value);
                if (number > 0) {
                    return number;
                }
            } catch (NumberFormatException e) {
                throw new IllegalStateException(setting + " is too large: at most " + Long.MAX_VALUE + " " + unit);
            }
        }
        throw new IllegalStateException(setting + " must be a positive whole number of " + unit);
    }
}
