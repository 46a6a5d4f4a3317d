package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code doFinal} into the caller's array writes the token or the plaintext there directly: exactly its bytes at the
 * offset, nothing around them, the same bytes as {@code doFinal} returns, the input and output may be one array, and
 * a token that is not authentic, or authentic with bad padding, leaves the output as it was.
 */
class DoFinalIntoArrayTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final byte SENTINEL = (byte) 0xA5;
    /** The same IV and time for every token, so that two tokens of one plaintext are the same bytes. */
    private static final FernetParameterSpec FIXED = FernetParameterSpec.defaults()
            .withIv(new byte[16])
            .withClock(Clock.fixed(Instant.parse("2000-01-01T00:00:00Z"), ZoneOffset.UTC));

    private static Cipher cipher(int mode, SecretKey key, FernetParameterSpec params) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(mode, key, params);
        return cipher;
    }

    private static SecretKey key(byte[] keyBytes) throws Exception {
        return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(new FernetKeySpec(keyBytes));
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    private static byte[] sentinels(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, SENTINEL);
        return bytes;
    }

    @ParameterizedTest
    // 49,087 bytes: the largest token encoded in one call; 49,088: the smallest encoded in chunks
    @ValueSource(ints = {0, 1, 17, 1000, 49_087, 49_088, 65_536, 1 << 20})
    void writesTheSameTokenAndPlaintextAsTheReturnedArrays(int size) throws Exception {
        SecretKey key = key(randomBytes(32));
        byte[] plaintext = randomBytes(size);
        byte[] expectedToken = cipher(Cipher.ENCRYPT_MODE, key, FIXED).doFinal(plaintext);

        byte[] tokenOut = sentinels(expectedToken.length + 20);
        int written = cipher(Cipher.ENCRYPT_MODE, key, FIXED).doFinal(plaintext, 0, size, tokenOut, 7);
        assertEquals(expectedToken.length, written);
        assertArrayEquals(expectedToken, Arrays.copyOfRange(tokenOut, 7, 7 + written));
        assertUntouched(tokenOut, 0, 7);
        assertUntouched(tokenOut, 7 + written, tokenOut.length);

        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, null);
        byte[] plaintextOut = sentinels(decrypt.getOutputSize(written) + 9);
        int read = decrypt.doFinal(tokenOut, 7, written, plaintextOut, 9);
        assertEquals(size, read);
        assertArrayEquals(plaintext, Arrays.copyOfRange(plaintextOut, 9, 9 + size));
        assertUntouched(plaintextOut, 0, 9);
        assertUntouched(plaintextOut, 9 + size, plaintextOut.length);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 100, 1 << 20})
    void inputAndOutputMayBeOneArray(int size) throws Exception {
        SecretKey key = key(randomBytes(32));
        byte[] plaintext = randomBytes(size);
        byte[] expectedToken = cipher(Cipher.ENCRYPT_MODE, key, FIXED).doFinal(plaintext);

        byte[] buffer = Arrays.copyOf(plaintext, expectedToken.length + 3);
        int written = cipher(Cipher.ENCRYPT_MODE, key, FIXED).doFinal(buffer, 0, size, buffer, 0);
        assertArrayEquals(expectedToken, Arrays.copyOf(buffer, written));
        // the token shifted by three: its start overlaps the room for the plaintext
        System.arraycopy(buffer, 0, buffer, 3, written);
        int read = cipher(Cipher.DECRYPT_MODE, key, null).doFinal(buffer, 3, written, buffer, 0);
        assertArrayEquals(plaintext, Arrays.copyOf(buffer, read));
    }

    @Test
    void aForgedTokenLeavesTheOutputAsItWas() throws Exception {
        SecretKey key = key(randomBytes(32));
        byte[] token = cipher(Cipher.ENCRYPT_MODE, key, null).doFinal(randomBytes(100_000));
        byte[] raw = Base64.getUrlDecoder().decode(token);
        raw[Token.HEADER_BYTES + 5] ^= 1;
        byte[] forged = Base64.getUrlEncoder().encode(raw);
        byte[] out = sentinels(raw.length);
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, null);
        assertThrows(AEADBadTagException.class, () -> decrypt.doFinal(forged, 0, forged.length, out, 0));
        assertUntouched(out, 0, out.length);
    }

    /**
     * A token made with the key whose last block does not end in PKCS#7 padding (no Fernet encoder writes one, but
     * anyone with the key can): it authenticates, and still nothing of it may reach the output.
     */
    @Test
    void anAuthenticTokenWithBadPaddingLeavesTheOutputAsItWas() throws Exception {
        byte[] keyBytes = randomBytes(32);
        byte[] plaintextBlocks = randomBytes(3 * 16 * 1024);
        plaintextBlocks[plaintextBlocks.length - 1] = 0; // a padding byte of 0 is never valid
        byte[] raw = new byte[Token.HEADER_BYTES + plaintextBlocks.length + Token.TAG_BYTES];
        raw[0] = Token.VERSION;
        raw[8] = 1; // a timestamp of 1 s after the epoch
        Cipher aes = Cipher.getInstance("AES/CBC/NoPadding");
        aes.init(
                Cipher.ENCRYPT_MODE,
                new SecretKeySpec(keyBytes, 16, 16, "AES"),
                new IvParameterSpec(raw, Token.IV_OFFSET, 16));
        aes.doFinal(plaintextBlocks, 0, plaintextBlocks.length, raw, Token.HEADER_BYTES);
        Mac hmac = Mac.getInstance("HmacSHA256");
        hmac.init(new SecretKeySpec(keyBytes, 0, 16, "HmacSHA256"));
        hmac.update(raw, 0, raw.length - Token.TAG_BYTES);
        hmac.doFinal(raw, raw.length - Token.TAG_BYTES);
        byte[] token = Base64.getUrlEncoder().encode(raw);

        byte[] out = sentinels(raw.length);
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key(keyBytes), null);
        AEADBadTagException thrown =
                assertThrows(AEADBadTagException.class, () -> decrypt.doFinal(token, 0, token.length, out, 0));
        assertEquals("malformed token", thrown.getMessage());
        assertUntouched(out, 0, out.length);
        ByteBuffer direct = ByteBuffer.allocate(raw.length);
        assertThrows(AEADBadTagException.class, () -> decrypt.doFinal(ByteBuffer.wrap(token), direct));
        assertEquals(0, direct.position());
    }

    private static void assertUntouched(byte[] bytes, int from, int to) {
        assertArrayEquals(
                sentinels(to - from), Arrays.copyOfRange(bytes, from, to), "bytes " + from + " to " + to + " changed");
    }
}
