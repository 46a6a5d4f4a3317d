package dev.fernetjca.net;

import java.security.SecureRandom;
import java.security.Security;
import java.time.Duration;
import java.util.List;
import javax.crypto.SecretKey;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;
import dev.fernetjca.provider.FernetKeyRing;

/**
 * What every socket of a factory shares: the PSKs derived from its keys, the TLS crypto, and the handshake deadline.
 *
 * <p>Immutable; safe to share.
 */
final class Settings {
    static final String HANDSHAKE_TIMEOUT_PROPERTY = "fernet.handshakeTimeout";
    static final String HANDSHAKE_TIMEOUT_VARIABLE = "FERNET_HANDSHAKE_TIMEOUT";
    static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    /** AES-GCM, ChaCha20, X25519 and HKDF from the JDK's providers, through Bouncy Castle's JCA layer. */
    static final TlsCrypto CRYPTO = new JcaTlsCryptoProvider().create(new SecureRandom());

    final List<PskDerivation> psks;
    final long handshakeTimeoutMillis;

    private Settings(List<PskDerivation> psks, long handshakeTimeoutMillis) {
        this.psks = psks;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** Returns settings for a Fernet key or ring, with the handshake timeout of the configuration. */
    static Settings of(SecretKey keyOrRing) {
        return of(keyOrRing, configuredHandshakeTimeout());
    }

    static Settings of(SecretKey keyOrRing, Duration handshakeTimeout) {
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be positive, got " + handshakeTimeout);
        }
        FernetKeyRing ring = FernetKeyRing.of(keyOrRing);
        try {
            return new Settings(PskDerivation.of(ring), handshakeTimeout.toMillis());
        } finally {
            ring.destroy();
        }
    }

    /** Returns settings for the configured keys ({@link KeySource}) and handshake timeout. */
    static Settings configured() {
        FernetKeyRing ring = KeySource.configured();
        try {
            return of(ring);
        } finally {
            ring.destroy();
        }
    }

    /**
     * Reads {@code fernet.handshakeTimeout} (milliseconds) as a system property, then a security property, then the
     * variable {@code FERNET_HANDSHAKE_TIMEOUT}; 10 seconds when none is set.
     */
    static Duration configuredHandshakeTimeout() {
        String value = System.getProperty(HANDSHAKE_TIMEOUT_PROPERTY);
        if (value == null) {
            value = Security.getProperty(HANDSHAKE_TIMEOUT_PROPERTY);
        }
        if (value == null) {
            value = System.getenv(HANDSHAKE_TIMEOUT_VARIABLE);
        }
        if (value == null || value.isBlank()) {
            return DEFAULT_HANDSHAKE_TIMEOUT;
        }
        try {
            long millis = Long.parseLong(value.trim());
            if (millis > 0) {
                return Duration.ofMillis(millis);
            }
        } catch (NumberFormatException e) {
            // reported below with the accepted form
        }
        throw new IllegalStateException(HANDSHAKE_TIMEOUT_PROPERTY + " must be a positive number of milliseconds, got "
                + value.trim());
    }
}
