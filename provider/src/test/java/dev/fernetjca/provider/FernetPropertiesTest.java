package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.SplittableRandom;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

/**
 * What vectors cannot list: round trips, single-bit tampering, and garbage of every shape.
 *
 * <p>Each repetition draws its inputs from a {@link SplittableRandom} seeded with a fixed base plus the repetition
 * number, so a run is reproducible and every failure message names its seed. {@code -Dfernet.test.seed=N} moves the
 * base to explore other inputs; {@code -Dfernet.test.replay=S} makes every repetition use seed {@code S}, the one a
 * failure message named. Jazzer's {@code FernetCipherFuzzTest} searches the same input space guided by coverage.
 */
class FernetPropertiesTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final SecretKey KEY = newKey();
    private static final SecretKey OLD_KEY = newKey();
    private static final long BASE_SEED = Long.getLong("fernet.test.seed", 0x5EED_F3A7L);
    private static final Long REPLAY_SEED = Long.getLong("fernet.test.replay");
    private static final String BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=";

    private static SecretKey newKey() {
        try {
            return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        } catch (NoSuchAlgorithmException e) {
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

    /** One repetition's random source and the seed that replays it. */
    private record Draw(long seed, SplittableRandom random) {
        static Draw of(RepetitionInfo repetition) {
            long seed = REPLAY_SEED != null ? REPLAY_SEED : BASE_SEED + repetition.getCurrentRepetition();
            return new Draw(seed, new SplittableRandom(seed));
        }

        String because(String what) {
            return what + " (seed " + seed + ", replay with -Dfernet.test.replay=" + seed + ")";
        }

        /** A length up to {@code max}, with the edges (0, 1, max) drawn far more often than chance would. */
        int length(int max) {
            return switch (random.nextInt(8)) {
                case 0 -> 0;
                case 1 -> 1;
                case 2 -> max;
                default -> random.nextInt(max + 1);
            };
        }

        byte[] bytes(int length) {
            byte[] bytes = new byte[length];
            for (int i = 0; i < length; i++) {
                bytes[i] = (byte) random.nextInt(256);
            }
            return bytes;
        }

        byte[] bytesUpTo(int max) {
            return bytes(length(max));
        }
    }

    @RepeatedTest(300)
    void roundTripsAnyPlaintext(RepetitionInfo repetition) throws Exception {
        Draw draw = Draw.of(repetition);
        byte[] plaintext = draw.bytesUpTo(4096);
        assertArrayEquals(plaintext, decrypt(KEY, encrypt(KEY, plaintext)), draw.because("round trip changed bytes"));
    }

    @RepeatedTest(200)
    void keyRingReadsTokensOfEveryMember(RepetitionInfo repetition) throws Exception {
        Draw draw = Draw.of(repetition);
        byte[] plaintext = draw.bytesUpTo(512);
        boolean fromOld = draw.random().nextBoolean();
        FernetKeyRing ring = FernetKeyRing.of(KEY, OLD_KEY);
        byte[] token = encrypt(fromOld ? OLD_KEY : KEY, plaintext);
        assertArrayEquals(plaintext, decrypt(ring, token), draw.because("ring did not read its member's token"));
        assertArrayEquals(plaintext, decrypt(KEY, ring.rotate(token)), draw.because("rotated token lost bytes"));
    }

    @RepeatedTest(1000)
    void anyFlippedBitIsRejected(RepetitionInfo repetition) throws Exception {
        Draw draw = Draw.of(repetition);
        byte[] plaintext = draw.bytesUpTo(512);
        // Flip a decoded byte, not a base64 character: the last character has spare bits, and changing
        // them gives back the same token, which must (correctly) still decrypt.
        byte[] raw = Base64.getUrlDecoder().decode(encrypt(KEY, plaintext));
        int where = draw.random().nextInt(raw.length);
        int bit = draw.random().nextInt(8);
        raw[where] ^= (byte) (1 << bit);
        byte[] tampered = Base64.getUrlEncoder().encode(raw);
        assertThrows(
                AEADBadTagException.class,
                () -> decrypt(KEY, tampered),
                draw.because("flipped bit " + bit + " of byte " + where + " was accepted"));
    }

    @RepeatedTest(1000)
    void garbageOfAnyLengthOnlyEverFailsAsABadTag(RepetitionInfo repetition) {
        Draw draw = Draw.of(repetition);
        byte[] garbage = garbage(draw);
        assertThrows(
                AEADBadTagException.class,
                () -> decrypt(KEY, garbage),
                draw.because("garbage of " + garbage.length + " bytes"));
    }

    @RepeatedTest(1000)
    void wellFormedForgeriesOnlyEverFailAsABadTag(RepetitionInfo repetition) {
        Draw draw = Draw.of(repetition);
        byte[] forgery = forgery(draw);
        assertThrows(
                AEADBadTagException.class,
                () -> decrypt(KEY, forgery),
                draw.because("forgery of " + forgery.length + " characters"));
    }

    @RepeatedTest(300)
    void truncatedOrExtendedTokensAreRejected(RepetitionInfo repetition) throws Exception {
        Draw draw = Draw.of(repetition);
        byte[] plaintext = draw.bytesUpTo(256);
        int cut = 1 + draw.random().nextInt(64);
        byte[] token = encrypt(KEY, plaintext);
        byte[] truncated = Arrays.copyOf(token, Math.max(0, token.length - cut));
        assertThrows(
                AEADBadTagException.class,
                () -> decrypt(KEY, truncated),
                draw.because("token cut by " + cut + " was accepted"));
        byte[] extended = Arrays.copyOf(token, token.length + cut);
        Arrays.fill(extended, token.length, extended.length, (byte) 'A');
        assertThrows(
                AEADBadTagException.class,
                () -> decrypt(KEY, extended),
                draw.because("token extended by " + cut + " was accepted"));
    }

    /** Random bytes, random printable text, or random url-safe base64, of lengths from 0 to 64 KiB. */
    private static byte[] garbage(Draw draw) {
        switch (draw.random().nextInt(3)) {
            case 0:
                return draw.bytesUpTo(65_536);
            case 1:
                char[] text = new char[draw.length(4096)];
                for (int i = 0; i < text.length; i++) {
                    text[i] = BASE64_CHARS.charAt(draw.random().nextInt(BASE64_CHARS.length()));
                }
                return new String(text).getBytes(StandardCharsets.US_ASCII);
            default:
                return Base64.getUrlEncoder().encode(draw.bytesUpTo(4096));
        }
    }

    /** A token with the right version byte and a valid length, so that only the HMAC can reject it. */
    private static byte[] forgery(Draw draw) {
        int blocks = draw.length(64);
        byte[] raw = draw.bytes(Token.HEADER_BYTES + 16 * (blocks + 1) + Token.TAG_BYTES);
        raw[0] = Token.VERSION;
        return Base64.getUrlEncoder().encode(raw);
    }
}
