package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.stream.IntStream;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tokens of every short length and of the lengths around the thresholds where {@link Token} and {@link ChunkedBase64}
 * change how they work (CBC in chunks, base64 in chunks and in place), checked against the JDK's own AES-CBC with
 * PKCS#5 padding and HmacSHA256: the same token for the same IV and time, and the same plaintext back.
 */
class TokenLengthsTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final Instant NOW = Instant.parse("2020-01-01T00:00:00Z");
    private static final byte[] KEY_BYTES = new byte[32];
    private static final byte[] IV = new byte[16];

    /** The chunk {@link Token} runs AES-CBC in (its private {@code CBC_CHUNK_BYTES}). */
    private static final int CBC_CHUNK_BYTES = 16 * 1024;

    static {
        for (int i = 0; i < KEY_BYTES.length; i++) {
            KEY_BYTES[i] = (byte) (11 * i + 5);
        }
        for (int i = 0; i < IV.length; i++) {
            IV[i] = (byte) (0xa0 + i);
        }
    }

    /** 0 to 48 bytes (padding 16 down to 1, three times), then each threshold and a block either side. */
    static IntStream lengths() {
        IntStream.Builder lengths = IntStream.builder();
        IntStream.rangeClosed(0, 48).forEach(lengths::add);
        for (int chunks = 1; chunks <= 3; chunks++) {
            // encryption runs whole plaintext blocks in chunks; decryption all ciphertext blocks but the last
            int at = chunks * CBC_CHUNK_BYTES;
            IntStream.of(at - 17, at - 16, at - 1, at, at + 1, at + 15, at + 16, at + 17)
                    .forEach(lengths::add);
        }
        // the largest plaintext whose raw token is encoded in one call, and the block after it
        int largestInOneCall = (ChunkedBase64.CHUNKED_ABOVE_BYTES - Token.HEADER_BYTES - Token.TAG_BYTES) / 16 * 16 - 1;
        IntStream.of(largestInOneCall - 16, largestInOneCall - 1, largestInOneCall, largestInOneCall + 1)
                .forEach(lengths::add);
        IntStream.of(largestInOneCall + 16, largestInOneCall + 17).forEach(lengths::add);
        return lengths.build();
    }

    private static SecretKey key() {
        return new SecretKeySpec(KEY_BYTES, "Fernet");
    }

    private static byte[] plaintext(int length) {
        byte[] plaintext = new byte[length];
        for (int i = 0; i < length; i++) {
            plaintext[i] = (byte) (31 * i + length);
        }
        return plaintext;
    }

    private static Cipher cipher(int mode) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        FernetParameterSpec spec = FernetParameterSpec.defaults().withClock(Clock.fixed(NOW, ZoneOffset.UTC));
        cipher.init(mode, key(), mode == Cipher.ENCRYPT_MODE ? spec.withIv(IV) : spec);
        return cipher;
    }

    /** The token of {@code plaintext}, made with the JDK's AES/CBC/PKCS5Padding and HmacSHA256 alone. */
    private static byte[] jdkToken(byte[] plaintext) throws Exception {
        Cipher aes = Cipher.getInstance("AES/CBC/PKCS5Padding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY_BYTES, 16, 16, "AES"), new IvParameterSpec(IV));
        byte[] ciphertext = aes.doFinal(plaintext);
        ByteBuffer raw = ByteBuffer.allocate(1 + 8 + 16 + ciphertext.length + 32);
        raw.put((byte) 0x80).putLong(NOW.getEpochSecond()).put(IV).put(ciphertext);
        Mac hmac = Mac.getInstance("HmacSHA256");
        hmac.init(new SecretKeySpec(KEY_BYTES, 0, 16, "HmacSHA256"));
        hmac.update(raw.array(), 0, raw.position());
        raw.put(hmac.doFinal());
        return Base64.getUrlEncoder().encode(raw.array());
    }

    /** The plaintext of any token of the test key, opened with the JDK alone; fails unless the tag matches. */
    private static byte[] jdkOpen(byte[] token) throws Exception {
        byte[] raw = Base64.getUrlDecoder().decode(token);
        Mac hmac = Mac.getInstance("HmacSHA256");
        hmac.init(new SecretKeySpec(KEY_BYTES, 0, 16, "HmacSHA256"));
        hmac.update(raw, 0, raw.length - 32);
        assertEquals(true, MessageDigest.isEqual(hmac.doFinal(), Arrays.copyOfRange(raw, raw.length - 32, raw.length)));
        Cipher aes = Cipher.getInstance("AES/CBC/PKCS5Padding");
        aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(KEY_BYTES, 16, 16, "AES"), new IvParameterSpec(raw, 9, 16));
        return aes.doFinal(raw, 25, raw.length - 25 - 32);
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("lengths")
    void theCipherWritesTheTokenTheJdkComputes(int length) throws Exception {
        byte[] plaintext = plaintext(length);
        byte[] expected = jdkToken(plaintext);
        assertArrayEquals(expected, cipher(Cipher.ENCRYPT_MODE).doFinal(plaintext));

        // into a caller's array at an offset, the path that builds the token in place
        byte[] out = new byte[3 + expected.length + 2];
        assertEquals(expected.length, cipher(Cipher.ENCRYPT_MODE).doFinal(plaintext, 0, length, out, 3));
        assertArrayEquals(expected, Arrays.copyOfRange(out, 3, 3 + expected.length));

        // buffered by update, then the rest
        Cipher buffering = cipher(Cipher.ENCRYPT_MODE);
        byte[] early = buffering.update(plaintext, 0, length / 2); // null for no input, else empty
        assertEquals(0, early == null ? 0 : early.length);
        assertArrayEquals(expected, buffering.doFinal(plaintext, length / 2, length - length / 2));
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("lengths")
    void theCipherOpensWhatTheJdkSealed(int length) throws Exception {
        byte[] plaintext = plaintext(length);
        byte[] token = jdkToken(plaintext);
        assertArrayEquals(plaintext, cipher(Cipher.DECRYPT_MODE).doFinal(token));

        Cipher into = cipher(Cipher.DECRYPT_MODE);
        byte[] out = new byte[5 + into.getOutputSize(token.length)];
        Arrays.fill(out, (byte) 0x5a);
        assertEquals(length, into.doFinal(token, 0, token.length, out, 5));
        assertArrayEquals(plaintext, Arrays.copyOfRange(out, 5, 5 + length));
        byte[] untouched = new byte[5];
        Arrays.fill(untouched, (byte) 0x5a);
        assertArrayEquals(untouched, Arrays.copyOfRange(out, 0, 5));

        Cipher buffering = cipher(Cipher.DECRYPT_MODE);
        assertEquals(0, buffering.update(token, 0, token.length - 7).length);
        assertArrayEquals(plaintext, buffering.doFinal(token, token.length - 7, 7));
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("lengths")
    void fernetRoundTripsThroughTheJdk(int length) throws Exception {
        byte[] plaintext = plaintext(length);
        Fernet fernet = Fernet.of(key());
        byte[] token = fernet.encrypt(plaintext);
        assertEquals(jdkToken(plaintext).length, token.length);
        assertArrayEquals(plaintext, jdkOpen(token));
        assertArrayEquals(plaintext, fernet.decrypt(jdkToken(plaintext)));
        assertArrayEquals(plaintext, fernet.decrypt(token));
    }

    /**
     * Both backends, whichever this run uses (pitest runs only the platform's): {@link Token} must place every block
     * right whether a backend's CBC hands it back from {@code update} or, holding it back, from {@code doFinal}.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"JDK", "BC"})
    void eachBackendOpensAndSealsAtTheChunkThresholds(String backend) throws Exception {
        String configured = System.getProperty(Engines.BACKEND_PROPERTY);
        System.setProperty(Engines.BACKEND_PROPERTY, backend);
        try {
            assertEquals(backend, Engines.backendName());
            for (int length :
                    new int[] {0, 15, 16, 17, CBC_CHUNK_BYTES - 1, CBC_CHUNK_BYTES, 2 * CBC_CHUNK_BYTES + 16}) {
                byte[] plaintext = plaintext(length);
                byte[] token = jdkToken(plaintext);
                Cipher cipher = cipher(Cipher.DECRYPT_MODE); // its primitives come from the backend set now
                assertArrayEquals(plaintext, cipher.doFinal(token), length + " bytes");
                byte[] out = new byte[7 + cipher.getOutputSize(token.length)];
                assertEquals(length, cipher.doFinal(token, 0, token.length, out, 7));
                assertArrayEquals(plaintext, Arrays.copyOfRange(out, 7, 7 + length), length + " bytes at an offset");
                assertArrayEquals(token, cipher(Cipher.ENCRYPT_MODE).doFinal(plaintext), length + " bytes sealed");
            }
        } finally {
            if (configured == null) {
                System.clearProperty(Engines.BACKEND_PROPERTY);
            } else {
                System.setProperty(Engines.BACKEND_PROPERTY, configured);
            }
        }
    }
}
