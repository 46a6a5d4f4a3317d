package dev.fernetjca.provider;

import java.io.NotSerializableException;
import java.io.ObjectStreamException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;

/**
 * A primary Fernet key and older ones, for key rotation, like Python's {@code MultiFernet}. The Cipher encrypts with the
 * primary and decrypts a token with whichever key authenticates it.
 *
 * <p>The ring holds copies of its keys; {@link #destroy()} wipes them. It has no encoding and refuses serialization.
 * Safe to share until destroyed.
 */
public final class FernetKeyRing implements SecretKey {
    private static final long serialVersionUID = 1L;

    private final transient List<FernetSecretKey> keys; // copies; the primary first
    private transient volatile boolean destroyed;

    private FernetKeyRing(List<FernetSecretKey> keys) {
        this.keys = keys;
    }

    /**
     * Returns a ring that encrypts with {@code primary} and also accepts tokens of {@code older} keys, tried in order.
     * A ring given as a key contributes all its keys.
     *
     * @throws IllegalArgumentException if a key is not a 32-byte Fernet key or has been destroyed
     */
    public static FernetKeyRing of(SecretKey primary, SecretKey... older) {
        List<FernetSecretKey> copies = new ArrayList<>(1 + older.length);
        try {
            copies.addAll(copies(primary));
            for (SecretKey key : older) {
                copies.addAll(copies(key));
            }
        } catch (InvalidKeyException e) {
            copies.forEach(FernetSecretKey::destroy);
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return new FernetKeyRing(List.copyOf(copies));
    }

    /** Returns how many keys the ring holds, the primary included. */
    public int size() {
        return live().size();
    }

    /** Returns copies of the ring's keys, the primary first; the caller should destroy them after use. */
    public List<SecretKey> keys() {
        List<SecretKey> result = new ArrayList<>(keys.size());
        for (FernetSecretKey key : live()) {
            result.add(FernetSecretKey.copyOf(key.bytes()));
        }
        return List.copyOf(result);
    }

    /**
     * Re-encrypts a token under the primary key with a fresh IV, keeping its timestamp, as Python's
     * {@code MultiFernet.rotate}. No TTL is applied.
     *
     * @throws AEADBadTagException if no key of the ring authenticates the token, or it is malformed
     */
    public byte[] rotate(byte[] token) throws AEADBadTagException {
        FernetCipherSpi cipher = FernetCipherSpi.initialized(Cipher.DECRYPT_MODE, this, FernetParameterSpec.defaults());
        try {
            return cipher.rotate(token);
        } finally {
            cipher.wipe();
        }
    }

    /** Returns {@code "Fernet"}. */
    @Override
    public String getAlgorithm() {
        return FernetProvider.ALGORITHM;
    }

    /** Returns null: a ring has no single encoding. */
    @Override
    public String getFormat() {
        return null;
    }

    /** Returns null: a ring has no single encoding; see {@link #keys()}. */
    @Override
    public byte[] getEncoded() {
        return null;
    }

    /** Wipes every key of the ring; later use throws {@link IllegalStateException}. */
    @Override
    public void destroy() {
        destroyed = true;
        keys.forEach(FernetSecretKey::destroy);
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return destroyed ? "FernetKeyRing[destroyed]" : "FernetKeyRing[" + keys.size() + " keys]";
    }

    private List<FernetSecretKey> live() {
        if (destroyed) {
            throw new IllegalStateException("key ring has been destroyed");
        }
        return keys;
    }

    /** Refuses a crafted stream too: deserialization would make a key without bytes. */
    private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
        throw new java.io.InvalidObjectException("Fernet key rings are not serializable");
    }

    private void readObjectNoData() throws java.io.InvalidObjectException {
        throw new java.io.InvalidObjectException("Fernet key rings are not serializable");
    }

    private Object writeReplace() throws ObjectStreamException {
        throw new NotSerializableException("Fernet key rings are not serializable");
    }

    /**
     * Returns fresh copies of the keys in {@code key}: a ring's keys, or one Fernet key (ours, or any {@code RAW}
     * secret key of algorithm {@code Fernet} and 32 bytes, such as a {@code SecretKeySpec}).
     */
    static List<FernetSecretKey> copies(Key key) throws InvalidKeyException {
        if (key == null) {
            throw new InvalidKeyException("no key given");
        }
        try {
            if (key instanceof FernetKeyRing ring) {
                List<FernetSecretKey> result = new ArrayList<>(ring.keys.size());
                for (FernetSecretKey member : ring.live()) {
                    result.add(FernetSecretKey.copyOf(member.bytes()));
                }
                return List.copyOf(result);
            }
            if (key instanceof FernetSecretKey fernetKey) {
                return List.of(FernetSecretKey.copyOf(fernetKey.bytes()));
            }
        } catch (IllegalStateException e) {
            throw new InvalidKeyException("key has been destroyed");
        }
        if (!FernetProvider.ALGORITHM.equalsIgnoreCase(key.getAlgorithm())) {
            throw new InvalidKeyException("key algorithm must be Fernet, got " + key.getAlgorithm());
        }
        if (!"RAW".equalsIgnoreCase(key.getFormat())) {
            throw new InvalidKeyException("key format must be RAW, got " + key.getFormat());
        }
        byte[] encoded = key.getEncoded();
        if (encoded == null || encoded.length != FernetSecretKey.KEY_BYTES) {
            int length = encoded == null ? 0 : encoded.length;
            if (encoded != null) {
                java.util.Arrays.fill(encoded, (byte) 0);
            }
            throw new InvalidKeyException("a Fernet key is " + FernetSecretKey.KEY_BYTES + " bytes, got " + length);
        }
        return List.of(FernetSecretKey.adopt(encoded));
    }
}
