package dev.fernetjca.net;

import dev.fernetjca.provider.FernetKeyRing;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.DestroyFailedException;
import javax.security.auth.Destroyable;

/**
 * The TLS 1.3 external PSK for one Fernet key: an identity sent in clear and a 32-byte secret, both derived with
 * HKDF-SHA256 under this project's labels (docs/protocol.md), so the Fernet key itself never keys TLS.
 *
 * <p>Destroyable; safe to share until destroyed.
 */
final class PskDerivation implements Destroyable {
    static final String VERSION_LABEL = "fernet-jca/1";
    static final byte[] SALT = ascii(VERSION_LABEL + " tls13 external psk");
    static final byte[] IDENTITY_INFO = ascii(VERSION_LABEL + " psk identity");
    static final byte[] SECRET_INFO = ascii(VERSION_LABEL + " psk secret");
    static final String IDENTITY_PREFIX = "fernet-jca-1-";
    static final int IDENTITY_HASH_BYTES = 16;
    static final int SECRET_BYTES = 32; // HKDF-SHA256's block: one expansion step gives either value

    private final byte[] identity; // public: it crosses the wire in the ClientHello
    private final byte[] secret;
    private volatile boolean destroyed;

    private PskDerivation(byte[] identity, byte[] secret) {
        this.identity = identity;
        this.secret = secret;
    }

    /** Derives the PSK of one 32-byte Fernet key, and zeroes the copy of it that {@code getEncoded} returned. */
    static PskDerivation of(SecretKey fernetKey) {
        byte[] keyBytes = fernetKey.getEncoded();
        try {
            // one Mac for both values: a cold JVM pays for one Mac.getInstance, not two
            Mac hmac = saltedHmac();
            byte[] block = new byte[SECRET_BYTES];
            byte[] identityHash = hkdf(hmac, keyBytes, IDENTITY_INFO, IDENTITY_HASH_BYTES, block);
            // no ':' in the identity: stunnel and GnuTLS read IDENTITY:SECRET lines split at the first colon
            byte[] identity = ascii(IDENTITY_PREFIX + HexFormat.of().formatHex(identityHash));
            return new PskDerivation(identity, hkdf(hmac, keyBytes, SECRET_INFO, SECRET_BYTES, block));
        } finally {
            Arrays.fill(keyBytes, (byte) 0);
        }
    }

    /** Derives the PSK of every key of a ring, primary first; the caller destroys them. */
    static List<PskDerivation> of(FernetKeyRing ring) {
        return of(ring.keys());
    }

    /** Derives the PSK of each key in order, destroying each key (the ring's copies) once derived. */
    static List<PskDerivation> of(List<SecretKey> keys) {
        List<PskDerivation> result = new ArrayList<>(keys.size());
        for (SecretKey key : keys) {
            try {
                result.add(of(key));
            } finally {
                destroyQuietly(key);
            }
        }
        return List.copyOf(result);
    }

    /** Returns the JDK's HMAC-SHA256 keyed with {@link #SALT}, as {@link #hkdf} takes and leaves it. */
    static Mac saltedHmac() {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(SALT, "HmacSHA256")); // the salt is public: its key spec holds nothing secret
            return hmac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /**
     * HKDF-SHA256 (RFC 5869) for at most one block of output, on the JDK's HMAC: Bouncy Castle's lightweight HKDF
     * would load its service registrar and digests into a cold JVM for this alone. {@code hmac} comes keyed with
     * {@link #SALT} and is left so; {@code block}, 32 bytes, holds the pseudorandom key and then the output block, and
     * is zeroed on return.
     */
    static byte[] hkdf(Mac hmac, byte[] keyBytes, byte[] info, int length, byte[] block) {
        try {
            hmac.update(keyBytes);
            hmac.doFinal(block, 0); // the pseudorandom key
            hmac.init(new SecretKeySpec(block, "HmacSHA256"));
            hmac.update(info);
            hmac.update((byte) 1);
            hmac.doFinal(block, 0);
            // the JDK's HMAC keeps the key's pads until re-keyed: leave it keyed with the public salt
            hmac.init(new SecretKeySpec(SALT, "HmacSHA256"));
            return Arrays.copyOf(block, length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 failed", e);
        } finally {
            Arrays.fill(block, (byte) 0);
        }
    }

    /** Returns the identity as sent in the ClientHello: ASCII {@code fernet-jca-1-} and 32 hex digits. */
    byte[] identity() {
        return identity.clone();
    }

    /** Returns the identity as text, for logs and for {@code openssl -psk_identity}. */
    String identityText() {
        return new String(identity, StandardCharsets.US_ASCII);
    }

    /** Tells whether {@code candidate} is this PSK's identity; identities are public, so no constant time is needed. */
    boolean hasIdentity(byte[] candidate) {
        return Arrays.equals(identity, candidate);
    }

    /** Returns a copy of the secret; the caller wipes it. */
    byte[] secret() {
        if (destroyed) {
            throw new IllegalStateException("psk has been destroyed");
        }
        return secret.clone();
    }

    @Override
    public void destroy() {
        Arrays.fill(secret, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "PskDerivation[" + identityText() + (destroyed ? ", destroyed]" : "]");
    }

    static void destroyQuietly(Destroyable destroyable) {
        try {
            destroyable.destroy();
        } catch (DestroyFailedException e) {
            // a key that cannot be wiped is garbage collected like any other object
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
