package dev.fernetjca.provider;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a token must be, beyond a correct tag: one base64 spelling, PKCS#7 padding even under a valid tag, and a date
 * that the TTL and the 60-second clock skew accept, at both ends of their ranges.
 */
class TokenStrictnessTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private static final Instant NOW = Instant.parse("2026-11-30T00:00:00Z");
    private static final byte[] KEY_BYTES = new byte[32];

    static {
        for (int i = 0; i < KEY_BYTES.length; i++) {
            KEY_BYTES[i] = (byte) (7 * i + 1);
        }
    }

    private static SecretKey key() {
        return new SecretKeySpec(KEY_BYTES, "Fernet");
    }

    private static Clock at(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    private static byte[] encrypt(byte[] plaintext, Instant date) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(
                Cipher.ENCRYPT_MODE,
                key(),
                FernetParameterSpec.defaults().withClock(at(date)).withIv(new byte[16]));
        return cipher.doFinal(plaintext);
    }

    private static byte[] decrypt(byte[] token, FernetParameterSpec spec) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, key(), spec);
        return cipher.doFinal(token);
    }

    private static byte[] decrypt(byte[] token) throws Exception {
        return decrypt(token, FernetParameterSpec.defaults());
    }

    /**
     * Returns a token of the test key that ends with {@code ending} (a character and its base64 padding), searching
     * plaintexts of {@code size} bytes in a fixed order, so that the search is the same on every run.
     */
    private static byte[] tokenEndingWith(String ending, int size) throws Exception {
        for (int counter = 0; counter < 10_000; counter++) {
            byte[] plaintext = new byte[size];
            ByteBuffer.wrap(plaintext).putInt(counter);
            byte[] token = encrypt(plaintext, NOW);
            if (new String(token, US_ASCII).endsWith(ending)) {
                return token;
            }
        }
        throw new AssertionError("no token ends with " + ending);
    }

    /**
     * Every character of the alphabet in place of the last one before the padding: the JDK decoder reads several of
     * them as the same bytes (it ignores the unused low bits), and only the canonical one, which encoders write, is a
     * token.
     */
    @ParameterizedTest
    @ValueSource(strings = {"A==", "Q==", "g==", "w==", "A=", "0=", "8=", "E=", "s="})
    void aTokenHasExactlyOneSpelling(String ending) throws Exception {
        int size = ending.endsWith("==") ? 8 : 20; // a token of 73 raw bytes ends in "==", of 89 in one "="
        byte[] token = tokenEndingWith(ending, size);
        byte[] plaintext = decrypt(token);
        int position = token.length - ending.length();
        List<Character> accepted = new ArrayList<>();
        for (char c : ALPHABET.toCharArray()) {
            byte[] respelled = token.clone();
            respelled[position] = (byte) c;
            try {
                assertArrayEquals(plaintext, decrypt(respelled));
                accepted.add(c);
            } catch (AEADBadTagException expected) {
                // another spelling, or other bytes whose tag fails
            }
        }
        assertEquals(List.of(ending.charAt(0)), accepted);
    }

    /** A token with the test key's valid tag over whatever ciphertext {@code paddedPlaintext} encrypts to. */
    private static byte[] signedToken(byte[] paddedPlaintext, long timestamp) throws Exception {
        byte[] iv = new byte[16];
        Arrays.fill(iv, (byte) 3);
        Cipher aes = Cipher.getInstance("AES/CBC/NoPadding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY_BYTES, 16, 16, "AES"), new IvParameterSpec(iv));
        byte[] ciphertext = aes.doFinal(paddedPlaintext);
        ByteBuffer raw = ByteBuffer.allocate(1 + 8 + 16 + ciphertext.length + 32);
        raw.put((byte) 0x80).putLong(timestamp).put(iv).put(ciphertext);
        Mac hmac = Mac.getInstance("HmacSHA256");
        hmac.init(new SecretKeySpec(KEY_BYTES, 0, 16, "HmacSHA256"));
        hmac.update(raw.array(), 0, raw.position());
        raw.put(hmac.doFinal());
        return Base64.getUrlEncoder().encode(raw.array());
    }

    private static byte[] padded(int plaintextBytes, int... lastBytes) {
        byte[] block = new byte[(plaintextBytes / 16 + 1) * 16];
        Arrays.fill(block, 0, plaintextBytes, (byte) 'p');
        for (int i = 0; i < lastBytes.length; i++) {
            block[block.length - lastBytes.length + i] = (byte) lastBytes[i];
        }
        return block;
    }

    @Test
    void authenticPaddingOfEveryLengthDecrypts() throws Exception {
        for (int padding = 1; padding <= 16; padding++) {
            for (int blocks = 1; blocks <= 3; blocks++) {
                int plaintextBytes = 16 * blocks - padding;
                int[] pad = new int[padding];
                Arrays.fill(pad, padding);
                byte[] expected = new byte[plaintextBytes];
                Arrays.fill(expected, (byte) 'p');
                assertArrayEquals(
                        expected, decrypt(signedToken(padded(plaintextBytes, pad), 1)), padding + " bytes of padding");
            }
        }
    }

    /** A tag made with the key does not make wrong padding right: such a token was not made by a Fernet encoder. */
    @Test
    void badPaddingUnderAValidTagIsRejected() throws Exception {
        List<byte[]> forgeries = List.of(
                padded(15, 0), // a padding byte of zero
                padded(31, 0),
                padded(15, 17), // longer than a block
                padded(15, 255),
                padded(14, 3, 2), // says two bytes, the byte before disagrees
                padded(12, 4, 4, 5, 4),
                padded(0, 2, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16)); // disagrees at the far end
        for (byte[] forged : forgeries) {
            byte[] token = signedToken(forged, 1);
            AEADBadTagException e = assertThrows(AEADBadTagException.class, () -> decrypt(token));
            assertEquals("malformed token", e.getMessage());
        }
    }

    @Test
    void aTokenUpToSixtySecondsAheadIsAcceptedAndOneSecondMoreIsNot() throws Exception {
        FernetParameterSpec spec =
                FernetParameterSpec.ttl(Duration.ofSeconds(30)).withClock(at(NOW));
        byte[] plaintext = "skew".getBytes(US_ASCII);
        assertArrayEquals(plaintext, decrypt(encrypt(plaintext, NOW.plusSeconds(60)), spec));
        AEADBadTagException e =
                assertThrows(AEADBadTagException.class, () -> decrypt(encrypt(plaintext, NOW.plusSeconds(61)), spec));
        assertEquals("token timestamp is in the future", e.getMessage());
        // without a TTL no time check is made at all, as in Python
        FernetParameterSpec noTtl = FernetParameterSpec.defaults().withClock(at(NOW));
        assertArrayEquals(plaintext, decrypt(encrypt(plaintext, NOW.plusSeconds(3600)), noTtl));
    }

    @Test
    void aTokenExactlyTtlOldIsAcceptedAndOneSecondOlderIsNot() throws Exception {
        byte[] plaintext = "ttl".getBytes(US_ASCII);
        byte[] token = encrypt(plaintext, NOW);
        FernetParameterSpec ttl = FernetParameterSpec.ttl(Duration.ofSeconds(30));
        assertArrayEquals(plaintext, decrypt(token, ttl.withClock(at(NOW.plusSeconds(30)))));
        AEADBadTagException e =
                assertThrows(AEADBadTagException.class, () -> decrypt(token, ttl.withClock(at(NOW.plusSeconds(31)))));
        assertEquals("token expired", e.getMessage());
    }

    @Test
    void aTokenDatedAtTheEpochIsJudgedByItsAgeNotRefusedAsFromTheFuture() throws Exception {
        byte[] token = encrypt(new byte[3], Instant.EPOCH);
        assertEquals(
                3,
                decrypt(
                                token,
                                FernetParameterSpec.ttl(Duration.ofSeconds(100))
                                        .withClock(at(Instant.EPOCH.plusSeconds(10))))
                        .length);
        AEADBadTagException e = assertThrows(
                AEADBadTagException.class,
                () -> decrypt(
                        token,
                        FernetParameterSpec.ttl(Duration.ofSeconds(100))
                                .withClock(at(Instant.EPOCH.plusSeconds(101)))));
        assertEquals("token expired", e.getMessage());
        assertEquals(Instant.EPOCH, Fernet.of(key()).extractTimestamp(token));
    }

    @Test
    void aTtlWhoseSumWithTheTimestampOverflowsNeverExpires() throws Exception {
        byte[] token = encrypt(new byte[5], NOW);
        FernetParameterSpec forever =
                FernetParameterSpec.ttl(Duration.ofSeconds(Long.MAX_VALUE)).withClock(at(NOW.plusSeconds(86_400)));
        assertEquals(5, decrypt(token, forever).length);
    }

    @Test
    void theLatestTimestampAnInstantHoldsIsExtractedAndOneBeyondIsRefused() throws Exception {
        Instant latest = Instant.ofEpochSecond(Instant.MAX.getEpochSecond());
        byte[] token = encrypt(new byte[1], latest);
        assertEquals(latest, Fernet.of(key()).extractTimestamp(token));
        byte[] beyond = signedToken(
                padded(0, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16),
                Instant.MAX.getEpochSecond() + 1);
        AEADBadTagException e =
                assertThrows(AEADBadTagException.class, () -> Fernet.of(key()).extractTimestamp(beyond));
        assertEquals("token timestamp out of range", e.getMessage());
        byte[] negative = signedToken(padded(0, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16), -1);
        assertThrows(AEADBadTagException.class, () -> Fernet.of(key()).extractTimestamp(negative));
        // an unsigned timestamp beyond Long.MAX_VALUE is far in the future, not long ago
        AEADBadTagException future = assertThrows(
                AEADBadTagException.class,
                () -> decrypt(
                        negative,
                        FernetParameterSpec.ttl(Duration.ofSeconds(Long.MAX_VALUE))
                                .withClock(at(NOW))));
        assertEquals("token timestamp is in the future", future.getMessage());
        assertEquals(0, decrypt(negative).length, "no TTL: no time check");
    }
}
