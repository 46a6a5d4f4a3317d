package dev.fernetjca.provider;

import java.io.InvalidObjectException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectStreamException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.SecretKey;

/**
 * One Fernet key: a 16-byte signing key followed by a 16-byte encryption key.
 *
 * <p>Destroyable; refuses serialization, so its bytes never reach a stream by accident.
 * Safe to share until destroyed.
 */
final class FernetSecretKey implements SecretKey {
    private static final long serialVersionUID = 1L;

    static final int KEY_BYTES = 32;
    static final int SIGNING_KEY_BYTES = 16;
    static final int ENCRYPTION_KEY_BYTES = 16;

    private final transient byte[] keyBytes; // signing key (16) || encryption key (16)
    private transient volatile boolean destroyed;

    private FernetSecretKey(byte[] keyBytes) {
        this.keyBytes = keyBytes;
    }

    /** Returns a key holding a copy of {@code raw}, which must be 32 bytes. */
    static FernetSecretKey copyOf(byte[] raw) {
        if (raw == null || raw.length != KEY_BYTES) {
            throw new IllegalArgumentException(
                    "a Fernet key is " + KEY_BYTES + " bytes, got " + (raw == null ? "none" : raw.length));
        }
        return new FernetSecretKey(raw.clone());
    }

    /** Takes ownership of {@code raw} without copying; the caller must drop its reference. */
    static FernetSecretKey adopt(byte[] raw) {
        if (raw.length != KEY_BYTES) {
            Arrays.fill(raw, (byte) 0);
            throw new IllegalArgumentException("a Fernet key is " + KEY_BYTES + " bytes, got " + raw.length);
        }
        return new FernetSecretKey(raw);
    }

    /** Returns the live key bytes for the Cipher's use; never hand them out. */
    byte[] bytes() {
        if (destroyed) {
            throw new IllegalStateException("key has been destroyed");
        }
        return keyBytes;
    }

    @Override
    public String getAlgorithm() {
        return FernetProvider.ALGORITHM;
    }

    @Override
    public String getFormat() {
        return "RAW";
    }

    @Override
    public byte[] getEncoded() {
        return bytes().clone();
    }

    @Override
    public void destroy() {
        Arrays.fill(keyBytes, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    /** Keys are equal when their bytes are, compared in constant time; destroyed keys equal only themselves. */
    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        return other instanceof FernetSecretKey that
                && !destroyed
                && !that.destroyed
                && MessageDigest.isEqual(keyBytes, that.keyBytes);
    }

    /** Depends on nothing secret, so equal keys share one (poor but harmless) hash bucket. */
    @Override
    public int hashCode() {
        return FernetSecretKey.class.hashCode();
    }

    @Override
    public String toString() {
        return destroyed ? "FernetSecretKey[destroyed]" : "FernetSecretKey[32 bytes]";
    }

    /** Refuses a crafted stream too: deserialization would make a key without bytes. */
    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("Fernet keys are not serializable");
    }

    private void readObjectNoData() throws InvalidObjectException {
        throw new InvalidObjectException("Fernet keys are not serializable");
    }

    private Object writeReplace() throws ObjectStreamException {
        throw new NotSerializableException("Fernet keys are not serializable; store FernetKeySpec.toBase64() instead");
    }
}
