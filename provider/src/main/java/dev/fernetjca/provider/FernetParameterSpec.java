package dev.fernetjca.provider;

import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Parameters of the Fernet Cipher: a time-to-live for decryption, the clock that dates and judges tokens, and a fixed
 * IV for encryption (test vectors only).
 *
 * <p>Without a TTL no time check is made, as in Python's {@code Fernet.decrypt(token)}. With one, a token is rejected
 * when {@code timestamp + ttl < now} or when {@code timestamp > now + 60 s}; both boundaries are accepted.
 *
 * <p>Immutable; safe to share.
 */
public final class FernetParameterSpec implements AlgorithmParameterSpec {
    /** Length of a Fernet IV. */
    static final int IV_BYTES = 16;

    /** How far ahead of the clock a token may be dated, as in Python's {@code _MAX_CLOCK_SKEW}. */
    static final long MAX_CLOCK_SKEW_SECONDS = 60;

    private static final FernetParameterSpec DEFAULTS = new FernetParameterSpec(null, Clock.systemUTC(), null);

    private final Duration ttl; // null: tokens do not expire
    private final Clock clock;
    private final byte[] iv; // null: a fresh random IV for every token

    private FernetParameterSpec(Duration ttl, Clock clock, byte[] iv) {
        this.ttl = ttl;
        this.clock = clock;
        this.iv = iv;
    }

    /** Returns the defaults: no TTL, the system clock, a random IV for each token. */
    public static FernetParameterSpec defaults() {
        return DEFAULTS;
    }

    /**
     * Returns the defaults with a TTL; shorthand for {@code defaults().withTtl(ttl)}.
     *
     * @throws IllegalArgumentException if {@code ttl} is not a positive whole number of seconds
     */
    public static FernetParameterSpec ttl(Duration ttl) {
        return DEFAULTS.withTtl(ttl);
    }

    /**
     * Returns a copy of these parameters that rejects tokens older than {@code ttl} at decryption.
     * Age is measured in whole seconds with this spec's clock, as Python does.
     *
     * @throws IllegalArgumentException if {@code ttl} is zero, negative, or not a whole number of seconds
     */
    public FernetParameterSpec withTtl(Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive, got " + ttl);
        }
        if (ttl.getNano() != 0) {
            throw new IllegalArgumentException("ttl must be a whole number of seconds, got " + ttl);
        }
        return new FernetParameterSpec(ttl, clock, iv);
    }

    /** Returns a copy of these parameters that dates new tokens and judges their age with {@code clock}. */
    public FernetParameterSpec withClock(Clock clock) {
        return new FernetParameterSpec(ttl, Objects.requireNonNull(clock, "clock"), iv);
    }

    /**
     * Returns a copy of these parameters that encrypts with a fixed IV. Reusing an IV under one key weakens CBC: this
     * exists to reproduce test vectors, not for production. Decryption rejects a spec that has one.
     *
     * @throws IllegalArgumentException if {@code iv} is not 16 bytes
     */
    public FernetParameterSpec withIv(byte[] iv) {
        if (iv.length != IV_BYTES) {
            throw new IllegalArgumentException("iv must be " + IV_BYTES + " bytes, got " + iv.length);
        }
        return new FernetParameterSpec(ttl, clock, iv.clone());
    }

    /** Returns the TTL, if tokens expire. */
    public Optional<Duration> getTtl() {
        return Optional.ofNullable(ttl);
    }

    /** Returns the clock that dates and judges tokens. */
    public Clock getClock() {
        return clock;
    }

    /** Returns a copy of the fixed IV, if one was set. */
    public Optional<byte[]> getIv() {
        return Optional.ofNullable(iv).map(byte[]::clone);
    }

    boolean hasFixedIv() {
        return iv != null;
    }

    /** Copies the fixed IV, or fills {@code out} from {@code random} when there is none. */
    void nextIv(byte[] out, SecureRandom random) {
        if (iv != null) {
            System.arraycopy(iv, 0, out, 0, IV_BYTES);
        } else {
            random.nextBytes(out);
        }
    }

    /**
     * Returns why an authenticated token dated {@code timestamp} (unsigned seconds since the epoch) is unacceptable
     * now, or null when it is acceptable. Mirrors Python's check: none without a TTL.
     */
    String ageProblem(long timestamp) {
        if (ttl == null) {
            return null;
        }
        long now = clock.instant().getEpochSecond();
        // an unsigned timestamp beyond Long.MAX_VALUE is negative here, and far in the future
        if (timestamp < 0 || timestamp - MAX_CLOCK_SKEW_SECONDS > now) {
            return "token timestamp is in the future";
        }
        if (saturatedAdd(timestamp, ttl.getSeconds()) < now) {
            return "token expired";
        }
        return null;
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    @Override
    public String toString() {
        return "FernetParameterSpec[ttl=" + (ttl == null ? "none" : ttl.getSeconds() + "s") + ", clock=" + clock
                + ", iv=" + (iv == null ? "random" : "fixed") + "]";
    }
}
