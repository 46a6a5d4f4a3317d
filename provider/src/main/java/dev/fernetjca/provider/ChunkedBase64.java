package dev.fernetjca.provider;

import java.util.Arrays;
import java.util.Base64;

/**
 * Url-safe base64 with padding, through the JDK's codec in chunks of {@link #CHUNK_BYTES} bytes once a token is
 * larger than {@link #CHUNKED_ABOVE_BYTES}. The JDK encodes and decodes with vectorized stubs only once the calling
 * method has been compiled by C2, which takes thousands of calls; until then a call runs the plain Java loop, 20 to 40
 * times slower. An application that makes few large tokens might never get there, each token being one call: in
 * chunks, a megabyte token is a hundred calls, and the stubs take over within the first tokens. The price is a copy
 * through two small arrays per chunk, since the JDK's codec reads and writes whole arrays only; smaller tokens are
 * one call, whose callers grow hot soon enough. The two arrays are made per token, not kept: a Cipher that once saw a
 * large token should not hold 28 KiB for the rest of its life (a connection in fernet-tokens mode holds two).
 *
 * <p>Stateless; safe to share.
 */
final class ChunkedBase64 {
    /** Bytes per chunk: a multiple of 3, so that no chunk but the last has padding. */
    static final int CHUNK_BYTES = 12 * 1024;

    static final int CHUNK_CHARS = CHUNK_BYTES / 3 * 4;

    /** Tokens up to this many raw bytes are encoded and decoded in one call. */
    static final int CHUNKED_ABOVE_BYTES = 4 * CHUNK_BYTES;

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    private ChunkedBase64() {}

    /**
     * Returns the text of {@code raw}, whole, as the JDK encodes it in one call: for tokens of up to
     * {@link #CHUNKED_ABOVE_BYTES}, where the copies through the chunks would cost more than they save.
     */
    static byte[] encode(byte[] raw) {
        return ENCODER.encode(raw);
    }

    /**
     * Encodes the {@code rawBytes} bytes that end at {@code offset + base64Length(rawBytes)} in {@code buffer} into
     * the base64 text from {@code offset} to that same end: in place, so that a token needs one array. Writing runs
     * ahead of reading by a third of what has been read, and the raw bytes start a third of their length after
     * {@code offset}, so no chunk is overwritten before it is read.
     */
    static void encodeInPlace(byte[] buffer, int offset, int rawBytes) {
        int rawStart = offset + Token.base64Length(rawBytes) - rawBytes;
        int read = rawBytes > CHUNK_BYTES ? encodeChunksButTheLast(buffer, offset, rawStart, rawBytes) : 0;
        byte[] lastText = ENCODER.encode(Arrays.copyOfRange(buffer, rawStart + read, rawStart + rawBytes));
        System.arraycopy(lastText, 0, buffer, offset + read / 3 * 4, lastText.length);
    }

    /** Encodes whole chunks while more than a chunk is left, and returns how many raw bytes they held. */
    private static int encodeChunksButTheLast(byte[] buffer, int offset, int rawStart, int rawBytes) {
        byte[] rawChunk = new byte[CHUNK_BYTES];
        byte[] textChunk = new byte[CHUNK_CHARS];
        int read = 0;
        // strictly more than a chunk left: the last chunk, whole or not, may need padding, and is the caller's
        while (rawBytes - read > CHUNK_BYTES) {
            System.arraycopy(buffer, rawStart + read, rawChunk, 0, CHUNK_BYTES);
            ENCODER.encode(rawChunk, textChunk);
            System.arraycopy(textChunk, 0, buffer, offset + read / 3 * 4, CHUNK_CHARS);
            read += CHUNK_BYTES;
        }
        return read;
    }

    /**
     * Returns the bytes that {@code length} characters of {@code text} encode. Accepts what the JDK's url-safe
     * decoder accepts of the whole text, no more: padding only at the end, nothing outside the alphabet.
     *
     * @throws IllegalArgumentException if the text is not url-safe base64 whose length is a multiple of 4
     */
    static byte[] decode(byte[] text, int offset, int length) {
        if (length % 4 != 0) {
            throw new IllegalArgumentException("not whole groups of four");
        }
        if (length <= CHUNKED_ABOVE_BYTES / 3 * 4) {
            return DECODER.decode(
                    offset == 0 && length == text.length ? text : Arrays.copyOfRange(text, offset, offset + length));
        }
        int end = offset + length;
        int padding = text[end - 1] == '=' ? (text[end - 2] == '=' ? 2 : 1) : 0;
        byte[] raw = new byte[length / 4 * 3 - padding];
        byte[] rawChunk = new byte[CHUNK_BYTES];
        byte[] textChunk = new byte[CHUNK_CHARS];
        int read = 0;
        int written = 0;
        while (length - read > CHUNK_CHARS) {
            System.arraycopy(text, offset + read, textChunk, 0, CHUNK_CHARS);
            // a chunk with padding decodes to fewer bytes: padding belongs only at the very end
            if (DECODER.decode(textChunk, rawChunk) != CHUNK_BYTES) {
                throw new IllegalArgumentException("padding before the end");
            }
            System.arraycopy(rawChunk, 0, raw, written, CHUNK_BYTES);
            read += CHUNK_CHARS;
            written += CHUNK_BYTES;
        }
        byte[] last = DECODER.decode(Arrays.copyOfRange(text, offset + read, end));
        if (written + last.length != raw.length) {
            throw new IllegalArgumentException("padding in the wrong place");
        }
        System.arraycopy(last, 0, raw, written, last.length);
        return raw;
    }
}
