package dev.fernetjca.benchmarks;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The floor for Fernet on the JDK: only the primitives, AES/CBC/PKCS5Padding, HmacSHA256 over the same bytes and
 * url-safe base64, as a sensible hand-written class would call them.
 *
 * <p>It writes the token layout, so its tokens are real Fernet tokens, but decrypting checks neither the version nor
 * the timestamp, and does no token parsing beyond offsets. Its keys are made once and its Mac is initialized once
 * (doFinal resets it with the same key), which the provider deliberately does not do: a JDK {@code SecretKeySpec}
 * holds a copy nobody can wipe (STYLE.md section 6). Only the Cipher is initialized per token, for the new IV.
 *
 * <p>Not thread-safe.
 */
final class RawJdkFernet {
    private static final int HEADER_BYTES = 1 + 8 + 16;
    private static final int IV_OFFSET = 9;
    private static final int IV_BYTES = 16;
    private static final int TAG_BYTES = 32;

    private final SecretKeySpec encryptionKey;
    private final Mac hmac;
    private final Cipher aes;
    private final SecureRandom random = new SecureRandom();

    RawJdkFernet(String keyBase64) throws GeneralSecurityException {
        byte[] keyBytes = Base64.getUrlDecoder().decode(keyBase64);
        try {
            encryptionKey = new SecretKeySpec(keyBytes, 16, 16, "AES");
            hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(keyBytes, 0, 16, "HmacSHA256"));
            aes = Cipher.getInstance("AES/CBC/PKCS5Padding");
        } finally {
            Arrays.fill(keyBytes, (byte) 0);
        }
    }

    /** Returns a token for {@code plaintext}, as US-ASCII bytes. */
    byte[] encrypt(byte[] plaintext) throws GeneralSecurityException {
        int ciphertextBytes = (plaintext.length / 16 + 1) * 16;
        byte[] raw = new byte[HEADER_BYTES + ciphertextBytes + TAG_BYTES];
        raw[0] = (byte) 0x80;
        long timestamp = System.currentTimeMillis() / 1000;
        for (int i = 8; i >= 1; i--) {
            raw[i] = (byte) timestamp;
            timestamp >>>= 8;
        }
        byte[] iv = new byte[IV_BYTES];
        random.nextBytes(iv);
        System.arraycopy(iv, 0, raw, IV_OFFSET, IV_BYTES);
        aes.init(Cipher.ENCRYPT_MODE, encryptionKey, new IvParameterSpec(iv));
        aes.doFinal(plaintext, 0, plaintext.length, raw, HEADER_BYTES);
        hmac.update(raw, 0, HEADER_BYTES + ciphertextBytes);
        hmac.doFinal(raw, HEADER_BYTES + ciphertextBytes);
        return Base64.getUrlEncoder().encode(raw);
    }

    /**
     * Returns the plaintext of {@code token}.
     *
     * @throws AEADBadTagException if the tag does not match
     */
    byte[] decrypt(byte[] token) throws GeneralSecurityException {
        byte[] raw = Base64.getUrlDecoder().decode(token);
        int signedBytes = raw.length - TAG_BYTES;
        hmac.update(raw, 0, signedBytes);
        byte[] expectedTag = hmac.doFinal();
        if (!MessageDigest.isEqual(expectedTag, Arrays.copyOfRange(raw, signedBytes, raw.length))) {
            throw new AEADBadTagException("token authentication failed");
        }
        aes.init(Cipher.DECRYPT_MODE, encryptionKey, new IvParameterSpec(raw, IV_OFFSET, IV_BYTES));
        return aes.doFinal(raw, HEADER_BYTES, signedBytes - HEADER_BYTES);
    }
}
