package dev.fernetjca.provider;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidParameterException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.KeyGeneratorSpi;
import javax.crypto.SecretKey;

/**
 * {@code KeyGenerator.getInstance("Fernet")}: 256-bit keys (signing key, then encryption key), as the spec and
 * Python's {@code Fernet.generate_key()} make them.
 *
 * <p>Not thread-safe, like every KeyGenerator.
 */
final class FernetKeyGeneratorSpi extends KeyGeneratorSpi {
    private SecureRandom random;

    @Override
    protected void engineInit(SecureRandom random) {
        this.random = random;
    }

    @Override
    protected void engineInit(AlgorithmParameterSpec params, SecureRandom random)
            throws InvalidAlgorithmParameterException {
        throw new InvalidAlgorithmParameterException("Fernet key generation takes no parameters");
    }

    @Override
    protected void engineInit(int keysize, SecureRandom random) {
        if (keysize != FernetSecretKey.KEY_BYTES * 8) {
            throw new InvalidParameterException("Fernet keys are 256 bits, got " + keysize);
        }
        this.random = random;
    }

    @Override
    @SuppressFBWarnings(
            value = "DMI_RANDOM_USED_ONLY_ONCE",
            justification = "a SecureRandom, kept in a field for the next key; the detector is about java.util.Random")
    protected SecretKey engineGenerateKey() {
        if (random == null) {
            random = new SecureRandom();
        }
        byte[] keyBytes = new byte[FernetSecretKey.KEY_BYTES];
        random.nextBytes(keyBytes);
        return FernetSecretKey.adopt(keyBytes);
    }
}
