package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code Cipher.getOutputSize} and the output-buffer forms of {@code doFinal}: exact for encryption, a tight upper
 * bound for decryption, counting what {@code update} buffered, so that a caller can size its buffer once.
 */
class FernetCipherOutputSizeTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;

    private static SecretKey newKey() throws Exception {
        return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
    }

    private static Cipher cipher(int mode, SecretKey key) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(mode, key);
        return cipher;
    }

    /** The length of the url-safe base64 token for a plaintext of {@code size} bytes, from the spec's layout. */
    private static int specTokenLength(int size) {
        int raw = 1 + 8 + 16 + (size / 16 + 1) * 16 + 32;
        return (raw + 2) / 3 * 4;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15, 16, 17, 31, 32, 47, 48, 100, 4095, 4096})
    void encryptionOutputSizeIsTheTokenLengthCountingBufferedInput(int size) throws Exception {
        SecretKey key = newKey();
        byte[] plaintext = new byte[size];
        new Random(size).nextBytes(plaintext);
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, key);
        assertEquals(specTokenLength(size), encrypt.getOutputSize(size));
        int first = size / 3;
        encrypt.update(plaintext, 0, first);
        assertEquals(specTokenLength(size), encrypt.getOutputSize(size - first), "buffered input counted");
        assertEquals(specTokenLength(first), encrypt.getOutputSize(0), "only the buffered input");
        byte[] token = encrypt.doFinal(plaintext, first, size - first);
        assertEquals(specTokenLength(size), token.length);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15, 16, 17, 31, 32, 47, 48, 100, 4095, 4096})
    void decryptionOutputSizeIsTheDecodedLengthLessHeaderTagAndOnePaddingByte(int size) throws Exception {
        SecretKey key = newKey();
        byte[] token = cipher(Cipher.ENCRYPT_MODE, key).doFinal(new byte[size]);
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key);
        int bound = token.length / 4 * 3 - 25 - 32 - 1;
        assertEquals(bound, decrypt.getOutputSize(token.length));
        // at most 15 bytes of padding beyond the one counted, and two bytes of base64 padding: the bound is tight
        assertTrue(bound >= size && bound <= size + 17, "bound " + bound + " for " + size);
        decrypt.update(token, 0, 40);
        assertEquals(bound, decrypt.getOutputSize(token.length - 40), "buffered input counted");
        assertEquals(size, decrypt.doFinal(token, 40, token.length - 40).length);
    }

    @Test
    void decryptionOutputSizeOfTooLittleInputIsZero() throws Exception {
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, newKey());
        assertEquals(0, decrypt.getOutputSize(0));
        assertEquals(0, decrypt.getOutputSize(76)); // 57 decoded bytes: a header and a tag, no room for a block
        assertEquals(2, decrypt.getOutputSize(80));
    }

    @Test
    void outputSizeBeyondOneTokenIsTheLargestInt() throws Exception {
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, newKey());
        assertEquals(Integer.MAX_VALUE, encrypt.getOutputSize(Token.MAX_PLAINTEXT_BYTES + 1));
        assertEquals(Integer.MAX_VALUE, encrypt.getOutputSize(Integer.MAX_VALUE));
        int largest = encrypt.getOutputSize(Token.MAX_PLAINTEXT_BYTES);
        assertTrue(largest > Token.MAX_PLAINTEXT_BYTES && largest <= Token.MAX_TOKEN_BYTES, String.valueOf(largest));
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, newKey());
        assertEquals(Integer.MAX_VALUE / 4 * 3 - 58, decrypt.getOutputSize(Integer.MAX_VALUE));
    }

    @Test
    void anExactlySizedOutputBufferIsEnoughAndOneByteLessIsNot() throws Exception {
        SecretKey key = newKey();
        byte[] plaintext = new byte[33];
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, key);
        int size = encrypt.getOutputSize(plaintext.length);
        byte[] tooSmall = new byte[size - 1];
        assertThrows(ShortBufferException.class, () -> encrypt.doFinal(plaintext, 0, plaintext.length, tooSmall, 0));
        byte[] exact = new byte[size + 2];
        assertThrows(ShortBufferException.class, () -> encrypt.doFinal(plaintext, 0, plaintext.length, exact, 3));
        assertEquals(size, encrypt.doFinal(plaintext, 0, plaintext.length, exact, 2));

        byte[] token = cipher(Cipher.ENCRYPT_MODE, key).doFinal(plaintext);
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key);
        int bound = decrypt.getOutputSize(token.length);
        assertThrows(ShortBufferException.class, () -> decrypt.doFinal(token, 0, token.length, new byte[bound - 1], 0));
        byte[] out = new byte[bound];
        assertEquals(plaintext.length, decrypt.doFinal(token, 0, token.length, out, 0));
    }
}
