package dev.fernetjca.provider;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The token layout of the <a href="https://github.com/fernet/spec/blob/master/Spec.md">Fernet spec</a>:
 * {@code 0x80 | timestamp (8, big-endian) | IV (16) | AES-128-CBC ciphertext | HMAC-SHA256 (32)}, in url-safe base64
 * with padding.
 *
 * <p>A parsed token has only passed a layout check: nothing in it means anything until {@link #authenticatedBy}.
 * Not thread-safe.
 */
final class Token {
    static final byte VERSION = (byte) 0x80;
    static final int TIMESTAMP_OFFSET = 1;
    static final int IV_OFFSET = 9;
    static final int HEADER_BYTES = 1 + 8 + FernetParameterSpec.IV_BYTES;
    static final int BLOCK_BYTES = 16;
    static final int TAG_BYTES = 32;
    static final int MIN_RAW_BYTES = HEADER_BYTES + BLOCK_BYTES + TAG_BYTES;

    /**
     * AES-CBC runs through the JDK's vectorized stub only once its caller is compiled by C2, after thousands of calls
     * (see {@link ChunkedBase64}); a megabyte in one call runs block by block. Chunks of this many bytes get there
     * within a few tokens and cost nothing in calls.
     */
    private static final int CBC_CHUNK_BYTES = 16 * 1024;

    private final byte[] raw;

    private Token(byte[] raw) {
        this.raw = raw;
    }

    /**
     * Checks the layout of a token in url-safe base64: strict alphabet and padding, version byte, length.
     *
     * @throws AEADBadTagException "malformed token" for anything else
     */
    static Token parse(byte[] ascii, int offset, int length) throws AEADBadTagException {
        // a token is at least 100 characters; padded base64 comes in groups of four
        if (length < base64Length(MIN_RAW_BYTES) || length % 4 != 0) {
            throw malformed();
        }
        byte[] raw;
        try {
            raw = ChunkedBase64.decode(ascii, offset, length);
        } catch (IllegalArgumentException e) {
            throw malformed();
        }
        if (!hasCanonicalEnding(ascii, offset, length)) {
            throw malformed();
        }
        if (raw.length < MIN_RAW_BYTES
                || raw[0] != VERSION
                || (raw.length - HEADER_BYTES - TAG_BYTES) % BLOCK_BYTES != 0) {
            throw malformed();
        }
        return new Token(raw);
    }

    /**
     * Tells whether the last base64 character before the padding has its unused low bits clear, as every encoder
     * writes it. The JDK's decoder (and Python's) ignores those bits, which would give one token several spellings.
     */
    private static boolean hasCanonicalEnding(byte[] ascii, int offset, int length) {
        int end = offset + length;
        int padding = ascii[end - 1] == '=' ? (ascii[end - 2] == '=' ? 2 : 1) : 0;
        if (padding == 0) {
            return true;
        }
        int unusedBitsMask = padding == 2 ? 0x0f : 0x03;
        return (base64Value(ascii[end - 1 - padding]) & unusedBitsMask) == 0;
    }

    private static int base64Value(byte c) {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        return c == '-' ? 62 : 63; // '_': anything else was refused by the decoder already
    }

    /** Returns the timestamp as unsigned seconds since the epoch; meaningless until authenticated. */
    long timestamp() {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (raw[TIMESTAMP_OFFSET + i] & 0xff);
        }
        return value;
    }

    private int ciphertextBytes() {
        return raw.length - HEADER_BYTES - TAG_BYTES;
    }

    /** Tells whether {@code key} made this token; the tags are compared in constant time. */
    boolean authenticatedBy(Engines engines, FernetSecretKey key) {
        int signed = raw.length - TAG_BYTES;
        byte[] expectedTag = hmac(engines, key, raw, signed);
        byte[] actualTag = Arrays.copyOfRange(raw, signed, raw.length);
        return MessageDigest.isEqual(expectedTag, actualTag);
    }

    /**
     * Decrypts a token that {@link #authenticatedBy} {@code key}. The last block is decrypted first, so that its
     * padding gives the plaintext's length and the rest decrypts straight into an array of exactly that length: one
     * plaintext-sized allocation instead of the JDK's two. The padding is judged only on authenticated bytes, so
     * its check is no oracle.
     *
     * @throws AEADBadTagException if the padding is wrong (a token made with the key, but not by a Fernet encoder)
     */
    byte[] decrypt(Engines engines, FernetSecretKey key) throws AEADBadTagException {
        byte[] tail = new byte[BLOCK_BYTES];
        try {
            SecretKeySpec aesKey = aesKey(key);
            byte[] plaintext = new byte[openLastBlock(engines, aesKey, tail)];
            openInto(engines, aesKey, tail, plaintext, 0, plaintext.length);
            return plaintext;
        } finally {
            Arrays.fill(tail, (byte) 0);
        }
    }

    /**
     * Decrypts a token that {@link #authenticatedBy} {@code key} into {@code out} from {@code outOffset}, which must
     * have room for the largest plaintext the token could hold (its ciphertext less one byte), and returns the
     * plaintext's length. Nothing is written unless the padding is right.
     *
     * @throws AEADBadTagException if the padding is wrong
     */
    int decrypt(Engines engines, FernetSecretKey key, byte[] out, int outOffset) throws AEADBadTagException {
        byte[] tail = new byte[BLOCK_BYTES];
        try {
            SecretKeySpec aesKey = aesKey(key);
            int length = openLastBlock(engines, aesKey, tail);
            openInto(engines, aesKey, tail, out, outOffset, length);
            return length;
        } finally {
            Arrays.fill(tail, (byte) 0);
        }
    }

    /** Decrypts the last block into {@code tail} and returns the plaintext's length, which its padding gives. */
    private int openLastBlock(Engines engines, SecretKeySpec aesKey, byte[] tail) throws AEADBadTagException {
        int lastBlock = HEADER_BYTES + ciphertextBytes() - BLOCK_BYTES;
        // CBC: the last block's IV is the block before it, which for the first block is the token's IV
        int lastBlockIv = lastBlock - BLOCK_BYTES;
        try {
            engines.aesNoPadding.init(Cipher.DECRYPT_MODE, aesKey, new IvParameterSpec(raw, lastBlockIv, BLOCK_BYTES));
            engines.aesNoPadding.doFinal(raw, lastBlock, BLOCK_BYTES, tail, 0);
        } catch (GeneralSecurityException e) {
            throw Engines.unexpected(e);
        }
        int padding = tail[BLOCK_BYTES - 1] & 0xff;
        if (padding < 1 || padding > BLOCK_BYTES) {
            throw malformed();
        }
        for (int i = BLOCK_BYTES - padding; i < BLOCK_BYTES - 1; i++) {
            if ((tail[i] & 0xff) != padding) {
                throw malformed();
            }
        }
        return ciphertextBytes() - padding;
    }

    /** Decrypts all blocks but the last into {@code out}, then copies the last block's plaintext from the tail. */
    private void openInto(Engines engines, SecretKeySpec aesKey, byte[] tail, byte[] out, int outOffset, int length) {
        int whole = ciphertextBytes() - BLOCK_BYTES;
        if (whole > 0) {
            try {
                engines.aesNoPadding.init(
                        Cipher.DECRYPT_MODE, aesKey, new IvParameterSpec(raw, IV_OFFSET, BLOCK_BYTES));
                int written = 0; // Bouncy Castle's update may hold a block back until the next call
                for (int done = 0; done < whole; done += CBC_CHUNK_BYTES) {
                    int chunk = Math.min(CBC_CHUNK_BYTES, whole - done);
                    written += engines.aesNoPadding.update(raw, HEADER_BYTES + done, chunk, out, outOffset + written);
                }
                written += engines.aesNoPadding.doFinal(raw, 0, 0, out, outOffset + written);
                if (written != whole) {
                    throw new IllegalStateException("AES-CBC wrote " + written + " bytes, expected " + whole);
                }
            } catch (GeneralSecurityException e) {
                throw Engines.unexpected(e);
            }
        }
        System.arraycopy(tail, 0, out, outOffset + whole, length - whole);
    }

    /**
     * Returns the token for {@code plaintext}, in url-safe base64 as US-ASCII bytes. A large token is built in the
     * one array it is returned in: the raw token at its end, encrypted and MACed there, then encoded in place towards
     * the front.
     */
    static byte[] encrypt(
            Engines engines, FernetSecretKey key, long timestamp, byte[] iv, byte[] plaintext, int offset, int length) {
        int rawBytes = HEADER_BYTES + paddedLength(length) + TAG_BYTES;
        if (rawBytes <= ChunkedBase64.CHUNKED_ABOVE_BYTES) {
            byte[] raw = new byte[rawBytes];
            seal(engines, key, timestamp, iv, plaintext, offset, length, raw, 0);
            return ChunkedBase64.encode(raw);
        }
        byte[] token = new byte[base64Length(rawBytes)];
        encrypt(engines, key, timestamp, iv, plaintext, offset, length, token, 0);
        return token;
    }

    /**
     * Writes the token for {@code plaintext} into {@code out} from {@code outOffset}, which must have room for
     * {@link #tokenLength}, and returns its length. The plaintext must not overlap that room.
     */
    static int encrypt(
            Engines engines,
            FernetSecretKey key,
            long timestamp,
            byte[] iv,
            byte[] plaintext,
            int offset,
            int length,
            byte[] out,
            int outOffset) {
        int rawBytes = HEADER_BYTES + paddedLength(length) + TAG_BYTES;
        int tokenBytes = base64Length(rawBytes);
        seal(engines, key, timestamp, iv, plaintext, offset, length, out, outOffset + tokenBytes - rawBytes);
        ChunkedBase64.encodeInPlace(out, outOffset, rawBytes);
        return tokenBytes;
    }

    /** Writes the raw token for {@code plaintext} into {@code out} from {@code at}. */
    @SuppressFBWarnings(
            value = "STATIC_IV",
            justification = "the IV is the caller's: a fresh SecureRandom one per token, or "
                    + "FernetParameterSpec's fixed IV, which exists for the spec's test vectors")
    private static void seal(
            Engines engines,
            FernetSecretKey key,
            long timestamp,
            byte[] iv,
            byte[] plaintext,
            int offset,
            int length,
            byte[] out,
            int at) {
        int ciphertextBytes = paddedLength(length);
        out[at] = VERSION;
        for (int i = 7; i >= 0; i--) {
            out[at + TIMESTAMP_OFFSET + i] = (byte) timestamp;
            timestamp >>>= 8;
        }
        System.arraycopy(iv, 0, out, at + IV_OFFSET, BLOCK_BYTES);
        try {
            engines.aes.init(Cipher.ENCRYPT_MODE, aesKey(key), new IvParameterSpec(iv));
            // whole blocks through update, in chunks; the tail through doFinal: a single doFinal copies the whole
            // plaintext first, to pad it
            int wholeBlocks = length / BLOCK_BYTES * BLOCK_BYTES;
            int written = 0;
            for (int done = 0; done < wholeBlocks; done += CBC_CHUNK_BYTES) {
                int chunk = Math.min(CBC_CHUNK_BYTES, wholeBlocks - done);
                written += engines.aes.update(plaintext, offset + done, chunk, out, at + HEADER_BYTES + written);
            }
            written += engines.aes.doFinal(
                    plaintext, offset + wholeBlocks, length - wholeBlocks, out, at + HEADER_BYTES + written);
            if (written != ciphertextBytes) {
                throw new IllegalStateException("AES-CBC wrote " + written + " bytes, expected " + ciphertextBytes);
            }
            engines.hmac.init(hmacKey(key));
            engines.hmac.update(out, at, HEADER_BYTES + ciphertextBytes);
            engines.hmac.doFinal(out, at + HEADER_BYTES + ciphertextBytes);
        } catch (GeneralSecurityException e) {
            throw Engines.unexpected(e);
        }
    }

    private static byte[] hmac(Engines engines, FernetSecretKey key, byte[] data, int length) {
        try {
            engines.hmac.init(hmacKey(key));
            engines.hmac.update(data, 0, length);
            return engines.hmac.doFinal();
        } catch (GeneralSecurityException e) {
            throw Engines.unexpected(e);
        }
    }

    // one SecretKeySpec per operation: the JDK's copy of the bytes cannot be wiped, so it must not live long
    private static SecretKeySpec hmacKey(FernetSecretKey key) {
        return new SecretKeySpec(key.bytes(), 0, FernetSecretKey.SIGNING_KEY_BYTES, "HmacSHA256");
    }

    private static SecretKeySpec aesKey(FernetSecretKey key) {
        return new SecretKeySpec(
                key.bytes(), FernetSecretKey.SIGNING_KEY_BYTES, FernetSecretKey.ENCRYPTION_KEY_BYTES, "AES");
    }

    /** Returns the length of PKCS#7-padded ciphertext for {@code plaintextBytes}. */
    static int paddedLength(int plaintextBytes) {
        return (plaintextBytes / BLOCK_BYTES + 1) * BLOCK_BYTES;
    }

    /** Returns the length of padded base64 for {@code rawBytes}. */
    static int base64Length(int rawBytes) {
        return (rawBytes + 2) / 3 * 4;
    }

    /** The longest token a Java array can hold. */
    static final int MAX_TOKEN_BYTES = Integer.MAX_VALUE - 8;

    /** The longest plaintext whose token fits in {@link #MAX_TOKEN_BYTES}. */
    static final int MAX_PLAINTEXT_BYTES =
            (MAX_TOKEN_BYTES / 4 * 3 - HEADER_BYTES - TAG_BYTES) / BLOCK_BYTES * BLOCK_BYTES - 1;

    /** Returns the length of the token for a plaintext of {@code plaintextBytes}, at most {@link #MAX_PLAINTEXT_BYTES}. */
    static int tokenLength(int plaintextBytes) {
        return base64Length(HEADER_BYTES + paddedLength(plaintextBytes) + TAG_BYTES);
    }

    static AEADBadTagException malformed() {
        return new AEADBadTagException("malformed token");
    }
}
