package dev.fernetjca.provider;

import java.security.InvalidKeyException;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.KeySpec;
import java.util.Arrays;
import java.util.List;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactorySpi;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code SecretKeyFactory.getInstance("Fernet")}: turns a {@link FernetKeySpec}, or a {@link SecretKeySpec} of 32
 * bytes, into a key, and a key back into either spec.
 *
 * <p>Thread-safe: it keeps no state.
 */
final class FernetSecretKeyFactorySpi extends SecretKeyFactorySpi {

    @Override
    protected SecretKey engineGenerateSecret(KeySpec keySpec) throws InvalidKeySpecException {
        if (keySpec instanceof FernetKeySpec fernetSpec) {
            try {
                return FernetSecretKey.copyOf(fernetSpec.live());
            } catch (IllegalStateException e) {
                throw new InvalidKeySpecException("key spec has been destroyed");
            }
        }
        if (keySpec instanceof SecretKeySpec secretSpec) {
            byte[] encoded = secretSpec.getEncoded();
            if (encoded.length != FernetSecretKey.KEY_BYTES) {
                Arrays.fill(encoded, (byte) 0);
                throw new InvalidKeySpecException(
                        "a Fernet key is " + FernetSecretKey.KEY_BYTES + " bytes, got " + encoded.length);
            }
            return FernetSecretKey.adopt(encoded);
        }
        throw new InvalidKeySpecException("Fernet keys come from a FernetKeySpec or a SecretKeySpec, got "
                + (keySpec == null ? "null" : keySpec.getClass().getName()));
    }

    @Override
    protected KeySpec engineGetKeySpec(SecretKey key, Class<?> keySpec) throws InvalidKeySpecException {
        FernetSecretKey fernetKey = single(key);
        try {
            if (keySpec.isAssignableFrom(FernetKeySpec.class)) {
                return new FernetKeySpec(fernetKey.bytes());
            }
            if (keySpec.isAssignableFrom(SecretKeySpec.class)) {
                return new SecretKeySpec(fernetKey.bytes(), FernetProvider.ALGORITHM);
            }
            throw new InvalidKeySpecException(
                    "Fernet keys convert to FernetKeySpec or SecretKeySpec, not " + keySpec.getName());
        } finally {
            fernetKey.destroy();
        }
    }

    @Override
    protected SecretKey engineTranslateKey(SecretKey key) throws InvalidKeyException {
        if (key instanceof FernetKeyRing) {
            return key;
        }
        return FernetKeyRing.copies(key).get(0);
    }

    private static FernetSecretKey single(SecretKey key) throws InvalidKeySpecException {
        List<FernetSecretKey> copies;
        try {
            copies = FernetKeyRing.copies(key);
        } catch (InvalidKeyException e) {
            throw new InvalidKeySpecException(e.getMessage(), e);
        }
        if (copies.size() != 1) {
            copies.forEach(FernetSecretKey::destroy);
            throw new InvalidKeySpecException("a key ring has no single key spec; convert each of its keys()");
        }
        return copies.get(0);
    }
}
