package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** What vectors cannot list: round trips, single-bit tampering, and garbage of every shape. */
class FernetPropertiesTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final SecretKey KEY = newKey();
    private static final SecretKey OLD_KEY = newKey();

    private static SecretKey newKey() {
        try {
            return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] encrypt(SecretKey key, byte[] plaintext) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, key);
        return cipher.doFinal(plaintext);
    }

    private static byte[] decrypt(SecretKey key, byte[] token) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, key);
        return cipher.doFinal(token);
    }

    @Property(tries = 300)
    void roundTripsAnyPlaintext(@ForAll @Size(max = 4096) byte[] plaintext) throws Exception {
        assertArrayEquals(plaintext, decrypt(KEY, encrypt(KEY, plaintext)));
    }

    @Property(tries = 200)
    void keyRingReadsTokensOfEveryMember(@ForAll @Size(max = 512) byte[] plaintext, @ForAll boolean fromOld)
            throws Exception {
        FernetKeyRing ring = FernetKeyRing.of(KEY, OLD_KEY);
        byte[] token = encrypt(fromOld ? OLD_KEY : KEY, plaintext);
        assertArrayEquals(plaintext, decrypt(ring, token));
        assertArrayEquals(plaintext, decrypt(KEY, ring.rotate(token)));
    }

    @Property(tries = 1000)
    void anyFlippedBitIsRejected(@ForAll @Size(max = 512) byte[] plaintext, @ForAll int where,
                                 @ForAll @IntRange(min = 0, max = 7) int bit) throws Exception {
        // Flip a decoded byte, not a base64 character: the last character has spare bits, and changing
        // them gives back the same token, which must (correctly) still decrypt.
        byte[] raw = Base64.getUrlDecoder().decode(encrypt(KEY, plaintext));
        raw[Math.floorMod(where, raw.length)] ^= (byte) (1 << bit);
        byte[] tampered = Base64.getUrlEncoder().encode(raw);
        assertThrows(AEADBadTagException.class, () -> decrypt(KEY, tampered));
    }

    @Property(tries = 1000)
    void garbageOfAnyLengthOnlyEverFailsAsABadTag(@ForAll("garbage") byte[] garbage) {
        assertThrows(AEADBadTagException.class, () -> decrypt(KEY, garbage));
    }

    @Property(tries = 1000)
    void wellFormedForgeriesOnlyEverFailAsABadTag(@ForAll("forgeries") byte[] forgery) {
        assertThrows(AEADBadTagException.class, () -> decrypt(KEY, forgery));
    }

    @Property(tries = 300)
    void truncatedOrExtendedTokensAreRejected(@ForAll @Size(max = 256) byte[] plaintext,
                                              @ForAll @IntRange(min = 1, max = 64) int cut) throws Exception {
        byte[] token = encrypt(KEY, plaintext);
        byte[] truncated = java.util.Arrays.copyOf(token, Math.max(0, token.length - cut));
        assertThrows(AEADBadTagException.class, () -> decrypt(KEY, truncated));
        byte[] extended = java.util.Arrays.copyOf(token, token.length + cut);
        java.util.Arrays.fill(extended, token.length, extended.length, (byte) 'A');
        assertThrows(AEADBadTagException.class, () -> decrypt(KEY, extended));
    }

    /** Random bytes, random printable text, and random url-safe base64, of lengths from 0 to 64 KiB. */
    @Provide
    Arbitrary<byte[]> garbage() {
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(65_536);
        Arbitrary<byte[]> base64Text = Arbitraries.strings()
                .withChars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
                .ofMaxLength(4096).map(s -> s.getBytes(StandardCharsets.US_ASCII));
        Arbitrary<byte[]> validBase64 = Arbitraries.bytes().array(byte[].class).ofMaxSize(4096)
                .map(raw -> Base64.getUrlEncoder().encode(raw));
        return Arbitraries.oneOf(bytes, base64Text, validBase64);
    }

    /** Tokens with the right version byte and a valid length, so that only the HMAC can reject them. */
    @Provide
    Arbitrary<byte[]> forgeries() {
        return Arbitraries.integers().between(0, 64).flatMap(blocks ->
                Arbitraries.bytes().array(byte[].class).ofSize(Token.HEADER_BYTES + 16 * (blocks + 1) + Token.TAG_BYTES)
                        .map(raw -> {
                            raw[0] = Token.VERSION;
                            return Base64.getUrlEncoder().encode(raw);
                        }));
    }
}
