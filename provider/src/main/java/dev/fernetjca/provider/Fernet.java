package dev.fernetjca.provider;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.SecretKey;

/**
 * Fernet without JCA ceremony, named like Python's {@code Fernet} and {@code MultiFernet}: each call works on fresh
 * copies of the keys and wipes them before it returns. The AES and HMAC primitives under them are reused across calls,
 * only once rekeyed with zeros.
 *
 * <pre>{@code
 * Fernet fernet = Fernet.of(System.getenv("FERNET_KEY"));
 * byte[] token = fernet.encrypt("hello".getBytes(UTF_8));
 * byte[] plaintext = fernet.decrypt(token, Duration.ofMinutes(5));
 * }</pre>
 *
 * <p>Immutable and thread-safe; it holds copies of its keys.
 */
public final class Fernet {
    /** Thread-safe, and seeded by the platform; one for the process rather than a new one for each key. */
    private static final SecureRandom RANDOM = new SecureRandom();

    private final FernetKeyRing keys;

    private Fernet(FernetKeyRing keys) {
        this.keys = keys;
    }

    /** Returns a new random key as Python's {@code Fernet.generate_key()} prints it: 44 url-safe base64 characters. */
    public static String generateKey() {
        byte[] keyBytes = new byte[FernetSecretKey.KEY_BYTES];
        RANDOM.nextBytes(keyBytes);
        FernetKeySpec spec = new FernetKeySpec(keyBytes);
        Arrays.fill(keyBytes, (byte) 0);
        try {
            return spec.toBase64();
        } finally {
            spec.destroy();
        }
    }

    /**
     * Returns a Fernet for a key or a {@link FernetKeyRing}, which makes it a {@code MultiFernet}.
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a 32-byte Fernet key or ring
     */
    public static Fernet of(SecretKey keyOrRing) {
        return new Fernet(FernetKeyRing.of(keyOrRing));
    }

    /**
     * Returns a Fernet for keys in Python's string form; with more than one, the first encrypts and all decrypt, as
     * {@code MultiFernet([Fernet(key), Fernet(olderKey), ...])}.
     *
     * @throws IllegalArgumentException if a key is not 44 characters of url-safe base64 for 32 bytes
     */
    public static Fernet of(String key, String... olderKeys) {
        FernetSecretKey[] decoded = new FernetSecretKey[1 + olderKeys.length];
        try {
            decoded[0] = fromBase64(key);
            for (int i = 0; i < olderKeys.length; i++) {
                decoded[i + 1] = fromBase64(olderKeys[i]);
            }
            return new Fernet(FernetKeyRing.of(decoded[0], Arrays.copyOfRange(decoded, 1, decoded.length)));
        } finally {
            for (FernetSecretKey copy : decoded) {
                if (copy != null) {
                    copy.destroy();
                }
            }
        }
    }

    private static FernetSecretKey fromBase64(String key) {
        FernetKeySpec spec = new FernetKeySpec(key);
        try {
            return FernetSecretKey.copyOf(spec.live());
        } finally {
            spec.destroy();
        }
    }

    /**
     * Returns a token for {@code data}, dated now and encrypted with the primary key.
     *
     * @throws IllegalArgumentException if {@code data} is longer than one token can hold
     */
    public byte[] encrypt(byte[] data) {
        if (data.length > Token.MAX_PLAINTEXT_BYTES) {
            throw new IllegalArgumentException(
                    "plaintext of " + data.length + " bytes exceeds one token's limit of " + Token.MAX_PLAINTEXT_BYTES);
        }
        TokenEngine engine = TokenEngine.ofChecked(keys);
        try {
            return engine.encrypt(data, 0, data.length, Instant.now().getEpochSecond(), engine.freshIv());
        } finally {
            engine.wipe();
        }
    }

    /**
     * Returns the plaintext of a token made with any of the keys, whatever its age.
     *
     * @throws AEADBadTagException if the token is malformed or not authenticated by any key
     */
    public byte[] decrypt(byte[] token) throws AEADBadTagException {
        return decrypt(token, FernetParameterSpec.defaults());
    }

    /**
     * Returns the plaintext of a token made with any of the keys no more than {@code ttl} ago.
     *
     * @throws AEADBadTagException if the token is malformed, not authenticated, expired, or dated over 60 s ahead
     * @throws IllegalArgumentException if {@code ttl} is not a positive whole number of seconds
     */
    public byte[] decrypt(byte[] token, Duration ttl) throws AEADBadTagException {
        return decrypt(token, FernetParameterSpec.ttl(ttl));
    }

    private byte[] decrypt(byte[] token, FernetParameterSpec params) throws AEADBadTagException {
        TokenEngine engine = TokenEngine.ofChecked(keys);
        try {
            return engine.decrypt(token, 0, token.length, params);
        } finally {
            engine.wipe();
        }
    }

    /**
     * Returns when an authentic token was made, without checking its age.
     *
     * @throws AEADBadTagException if the token is malformed or not authenticated by any key, or its timestamp lies
     *         beyond what an {@link Instant} can hold
     */
    public Instant extractTimestamp(byte[] token) throws AEADBadTagException {
        TokenEngine engine = TokenEngine.ofChecked(keys);
        long seconds;
        try {
            seconds = engine.timestamp(token);
        } finally {
            engine.wipe();
        }
        if (seconds < 0 || seconds > Instant.MAX.getEpochSecond()) {
            throw new AEADBadTagException("token timestamp out of range");
        }
        return Instant.ofEpochSecond(seconds);
    }

    /**
     * Re-encrypts a token of any of the keys under the primary key, keeping its timestamp, as Python's
     * {@code MultiFernet.rotate}.
     *
     * @throws AEADBadTagException if the token is malformed or not authenticated by any key
     */
    public byte[] rotate(byte[] token) throws AEADBadTagException {
        return keys.rotate(token);
    }

    @Override
    public String toString() {
        return "Fernet[" + keys.size() + (keys.size() == 1 ? " key]" : " keys]");
    }
}
