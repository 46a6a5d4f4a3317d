package dev.fernetjca.net;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.crypto.SecretKey;

/**
 * How a factory's sockets speak: the wire mode, the token TTL of the fernet-tokens mode, and the handshake timeout.
 * Code that holds its key chooses here, so that it needs no {@code System.setProperty}:
 *
 * <pre>{@code
 * new FernetSocketFactory(key, FernetSocketOptions.tls().withHandshakeTimeout(Duration.ofSeconds(5)));
 * new FernetServerSocketFactory(key, FernetSocketOptions.fernetTokens(Duration.ofSeconds(60)));
 * new FernetSocketFactory(key, FernetSocketOptions.fromConfiguration());   // fernet.mode and fernet.ttl decide
 * }</pre>
 *
 * <p>A setting these options leave open is read from the configuration (docs/configuration.md) when a factory is
 * made: the handshake timeout unless {@link #withHandshakeTimeout} set it, and with {@link #fromConfiguration()} the
 * mode and TTL as well. Where the keys come from is the factory constructor's choice: a key or ring in code, or the
 * configured keys.
 *
 * <p>Immutable; safe to share.
 */
public final class FernetSocketOptions {

    private final Settings.Mode mode; // null: fernet.mode decides, with fernet.ttl
    private final Duration ttl; // fernet-tokens mode; null: tokens never expire
    private final Duration handshakeTimeout; // null: fernet.handshakeTimeout, else 10 seconds

    private FernetSocketOptions(Settings.Mode mode, Duration ttl, Duration handshakeTimeout) {
        this.mode = mode;
        this.ttl = ttl;
        this.handshakeTimeout = handshakeTimeout;
    }

    /** Returns options for TLS 1.3 with a pre-shared key derived from the Fernet key: the protocol to prefer. */
    public static FernetSocketOptions tls() {
        return new FernetSocketOptions(Settings.Mode.TLS, null, null);
    }

    /**
     * Returns options for the fernet-tokens mode: newline-terminated Fernet tokens, for peers such as Python programs
     * that speak only that. It has no forward secrecy, and tokens can be replayed within their TTL, reordered or
     * dropped (docs/protocol.md); prefer {@link #tls()} between programs you control. The handshake timeout bounds how
     * long the first line may take.
     *
     * @param ttl the age beyond which a received token is refused; null: tokens never expire
     * @throws IllegalArgumentException if {@code ttl} is zero or negative
     */
    public static FernetSocketOptions fernetTokens(Duration ttl) {
        if (ttl != null && (ttl.isZero() || ttl.isNegative())) {
            throw new IllegalArgumentException("ttl must be positive, got " + ttl);
        }
        return new FernetSocketOptions(Settings.Mode.FERNET_TOKENS, ttl, null);
    }

    /**
     * Returns options that leave the mode, TTL and handshake timeout to the configuration ({@code fernet.mode},
     * {@code fernet.ttl}, {@code fernet.handshakeTimeout}), as the factories of configured keys do: for a program that
     * holds its keys but lets its operator choose the mode. Choosing fernet-tokens there logs a warning naming the
     * setting.
     */
    public static FernetSocketOptions fromConfiguration() {
        return new FernetSocketOptions(null, null, null);
    }

    /**
     * Returns a copy of these options whose handshake (in fernet-tokens mode, first line) must complete within
     * {@code timeout}; a peer that takes longer is cut off.
     *
     * @throws IllegalArgumentException if {@code timeout} is zero, negative, or longer than a day
     */
    public FernetSocketOptions withHandshakeTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isZero() || timeout.isNegative() || timeout.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("handshake timeout must be positive and at most a day, got " + timeout);
        }
        return new FernetSocketOptions(mode, ttl, timeout);
    }

    /** Returns the token TTL of fernet-tokens options; empty when tokens never expire or the configuration decides. */
    public Optional<Duration> getTtl() {
        return Optional.ofNullable(ttl);
    }

    /** Returns the handshake timeout set with {@link #withHandshakeTimeout}; empty when the configuration decides. */
    public Optional<Duration> getHandshakeTimeout() {
        return Optional.ofNullable(handshakeTimeout);
    }

    /**
     * Returns the settings of a factory for {@code keyOrRing} with these options, reading what they leave open from
     * the configuration now.
     */
    Settings settings(SecretKey keyOrRing) {
        return settings(keyOrRing, Lookup.PROCESS);
    }

    /** Returns the settings for {@code keyOrRing}, reading what these options leave open through {@code lookup}. */
    Settings settings(SecretKey keyOrRing, Lookup lookup) {
        Duration timeout = handshakeTimeout != null ? handshakeTimeout : Settings.configuredHandshakeTimeout(lookup);
        return mode == null
                ? Settings.of(keyOrRing, Settings.configuredMode(lookup), Settings.configuredTtl(lookup), timeout)
                : Settings.of(keyOrRing, mode, ttl, timeout);
    }

    /** Names what chose the mode, for the fernet-tokens warning; never a value. */
    String modeOrigin() {
        return modeOrigin(Lookup.PROCESS);
    }

    String modeOrigin(Lookup lookup) {
        return mode != null ? "code" : lookup.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE);
    }

    @Override
    public String toString() {
        String modeText = mode == null
                ? "configured mode"
                : mode.label
                        + (mode == Settings.Mode.FERNET_TOKENS
                                ? ", ttl " + (ttl == null ? "none" : ttl.toSeconds() + " s")
                                : "");
        return "FernetSocketOptions[" + modeText + ", handshake timeout "
                + (handshakeTimeout == null ? "configured" : handshakeTimeout.toMillis() + " ms") + "]";
    }
}
