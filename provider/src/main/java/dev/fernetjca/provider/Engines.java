package dev.fernetjca.provider;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.ProviderException;
import java.security.Security;
import java.util.Locale;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The primitives under a token: AES-128-CBC with PKCS#7 padding and HMAC-SHA256, from the platform's providers by
 * default, or from Bouncy Castle when the system or security property {@code fernet.backend} is {@code BC}.
 *
 * <p>Not thread-safe: each Cipher holds its own.
 */
final class Engines {
    static final String BACKEND_PROPERTY = "fernet.backend";

    private static final int BLOCK_BYTES = 16;

    final Cipher aes; // AES/CBC/PKCS5Padding: encryption
    final Cipher aesNoPadding; // AES/CBC/NoPadding: decryption straight into the exact plaintext array
    final Mac hmac;

    private Engines(Cipher aes, Cipher aesNoPadding, Mac hmac) {
        this.aes = aes;
        this.aesNoPadding = aesNoPadding;
        this.hmac = hmac;
    }

    @SuppressFBWarnings(
            value = {"CIPHER_INTEGRITY", "PADDING_ORACLE"},
            justification = "Fernet is AES-128-CBC under encrypt-then-MAC: Token checks the HMAC-SHA256 tag "
                    + "in constant time before any decryption or padding check, so CBC's malleability "
                    + "and padding oracle are out of reach")
    static Engines create() {
        try {
            Provider bc = bouncyCastleRequested() ? BouncyCastle.PROVIDER : null;
            if (bc == null) {
                return new Engines(
                        Cipher.getInstance("AES/CBC/PKCS5Padding"),
                        Cipher.getInstance("AES/CBC/NoPadding"),
                        Mac.getInstance("HmacSHA256"));
            }
            return new Engines(
                    Cipher.getInstance("AES/CBC/PKCS5Padding", bc),
                    Cipher.getInstance("AES/CBC/NoPadding", bc),
                    Mac.getInstance("HmacSHA256", bc));
        } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
            throw new ProviderException("AES/CBC/PKCS5Padding or HmacSHA256 is not available", e);
        }
    }

    /**
     * Rekeys every primitive with a key of zeros. A JCE Cipher or Mac keeps its last key's schedule or padded key
     * until its next {@code init}; this is that init, so that a key is not left behind once its user is done.
     */
    @SuppressFBWarnings(
            value = "STATIC_IV",
            justification = "the zero IV only rekeys the ciphers to drop the last key; nothing is encrypted under it")
    void scrub() {
        byte[] zeros = new byte[BLOCK_BYTES];
        try {
            SecretKeySpec zeroAes = new SecretKeySpec(zeros, "AES");
            IvParameterSpec zeroIv = new IvParameterSpec(zeros);
            aes.init(Cipher.ENCRYPT_MODE, zeroAes, zeroIv);
            aesNoPadding.init(Cipher.DECRYPT_MODE, zeroAes, zeroIv);
            hmac.init(new SecretKeySpec(zeros, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw unexpected(e);
        }
    }

    /** Returns the backend's name, for messages and tests: {@code "BC"} or {@code "JDK"}. */
    static String backendName() {
        return bouncyCastleRequested() ? "BC" : "JDK";
    }

    private static boolean bouncyCastleRequested() {
        String value = System.getProperty(BACKEND_PROPERTY);
        if (value == null) {
            value = Security.getProperty(BACKEND_PROPERTY);
        }
        if (value == null || value.isBlank()) {
            return false;
        }
        switch (value.trim().toUpperCase(Locale.ROOT)) {
            case "BC":
                return true;
            case "JDK":
            case "DEFAULT":
                return false;
            default:
                throw new ProviderException(
                        BACKEND_PROPERTY + " must be BC or JDK"); // never the value: it may be a key
        }
    }

    /** Loaded only when asked for, so Bouncy Castle stays optional. */
    private static final class BouncyCastle {
        static final Provider PROVIDER = load();

        private static Provider load() {
            Provider installed = Security.getProvider("BC");
            if (installed != null) {
                return installed;
            }
            try {
                return new BouncyCastleProvider();
            } catch (NoClassDefFoundError e) {
                throw new ProviderException(
                        BACKEND_PROPERTY + "=BC but Bouncy Castle (bcprov-jdk18on) is not on the class path", e);
            }
        }
    }

    /** Wraps a failure of a primitive that cannot fail with valid lengths and keys. */
    static ProviderException unexpected(GeneralSecurityException e) {
        return new ProviderException("the " + backendName() + " backend failed unexpectedly", e);
    }
}
