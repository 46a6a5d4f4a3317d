package dev.fernetjca.benchmarks;

import com.macasaet.fernet.Token;
import com.macasaet.fernet.Validator;
import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetProvider;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.temporal.TemporalAmount;
import java.util.Arrays;
import java.util.Base64;
import java.util.function.Function;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;

/**
 * What the benchmarks share: one key for all three implementations, the plaintext, and a check that every
 * implementation reads every other one's tokens, so a benchmark never measures a broken implementation.
 *
 * <p>Immutable; safe to share.
 */
final class Fixture {
    static final FernetProvider PROVIDER = new FernetProvider();

    /** fernet-java8 insists on a TTL: a century, so that no token of a run expires. */
    static final Validator<byte[]> FERNET_JAVA8_VALIDATOR = new Validator<>() {
        @Override
        public TemporalAmount getTimeToLive() {
            return Duration.ofDays(36_500);
        }

        @Override
        public Function<byte[], byte[]> getTransformer() {
            return Function.identity();
        }
    };

    private static final SecureRandom RANDOM = new SecureRandom();

    private Fixture() {}

    /** Returns a fresh key as Fernet's 44-character url-safe base64, the form all three implementations accept. */
    static String newKeyBase64() {
        byte[] keyBytes = new byte[32];
        RANDOM.nextBytes(keyBytes);
        return Base64.getUrlEncoder().encodeToString(keyBytes);
    }

    /** Returns {@code size} random bytes. */
    static byte[] plaintext(int size) {
        byte[] plaintext = new byte[size];
        RANDOM.nextBytes(plaintext);
        return plaintext;
    }

    /** Returns the key as this project's users get it, from the SecretKeyFactory. */
    static SecretKey fernetJcaKey(String keyBase64) throws GeneralSecurityException {
        return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(new FernetKeySpec(keyBase64));
    }

    /** Returns a Cipher initialized once, the way a user encrypts or decrypts many tokens with one key. */
    static Cipher fernetJcaCipher(int mode, String keyBase64) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(mode, fernetJcaKey(keyBase64));
        return cipher;
    }

    /**
     * Makes a token of {@code plaintext} with each implementation and decrypts each with all three.
     *
     * @throws IllegalStateException if any implementation fails to read any token
     */
    static void checkInteroperability(String keyBase64, byte[] plaintext) throws GeneralSecurityException {
        Cipher encryptor = fernetJcaCipher(Cipher.ENCRYPT_MODE, keyBase64);
        Cipher decryptor = fernetJcaCipher(Cipher.DECRYPT_MODE, keyBase64);
        RawJdkFernet rawJdk = new RawJdkFernet(keyBase64);
        com.macasaet.fernet.Key fernetJava8Key = new com.macasaet.fernet.Key(keyBase64);

        byte[][] tokens = {
            encryptor.doFinal(plaintext),
            rawJdk.encrypt(plaintext),
            Token.generate(fernetJava8Key, plaintext).serialise().getBytes(StandardCharsets.US_ASCII),
        };
        String[] makers = {"fernet-jca", "raw JDK", "fernet-java8"};
        for (int i = 0; i < tokens.length; i++) {
            byte[] token = tokens[i];
            String tokenString = new String(token, StandardCharsets.US_ASCII);
            check(plaintext, decryptor.doFinal(token), makers[i], "fernet-jca");
            check(plaintext, rawJdk.decrypt(token), makers[i], "raw JDK");
            check(
                    plaintext,
                    Token.fromString(tokenString).validateAndDecrypt(fernetJava8Key, FERNET_JAVA8_VALIDATOR),
                    makers[i],
                    "fernet-java8");
        }
    }

    private static void check(byte[] expected, byte[] actual, String maker, String reader) {
        if (!Arrays.equals(expected, actual)) {
            throw new IllegalStateException(
                    reader + " misread a token of " + expected.length + " bytes made by " + maker);
        }
    }
}
