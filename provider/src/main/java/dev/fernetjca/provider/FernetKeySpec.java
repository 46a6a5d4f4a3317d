package dev.fernetjca.provider;

import java.nio.charset.StandardCharsets;
import java.security.spec.KeySpec;
import java.util.Arrays;
import java.util.Base64;
import javax.security.auth.Destroyable;

/**
 * A Fernet key as 32 raw bytes (signing key, then encryption key) or as the 44-character url-safe base64 string that
 * Python's {@code Fernet.generate_key()} prints. {@code SecretKeyFactory.getInstance("Fernet")} turns it into a key and
 * back.
 *
 * <p>Destroyable, since it holds key material; safe to share until destroyed.
 */
public final class FernetKeySpec implements KeySpec, Destroyable {
    /** Length of the key string, padding included. */
    static final int BASE64_CHARS = 44;

    private final byte[] keyBytes;
    private volatile boolean destroyed;

    /**
     * Reads a key string: exactly 44 characters of url-safe base64 with its padding, decoding to 32 bytes.
     * Surrounding whitespace is not trimmed.
     *
     * @throws IllegalArgumentException if {@code urlsafeBase64Key} is not such a string; the message never repeats it
     * @throws NullPointerException if it is null, with a message saying what was expected (an unset variable, say)
     */
    public FernetKeySpec(String urlsafeBase64Key) {
        this.keyBytes = decode(urlsafeBase64Key);
    }

    /**
     * Copies 32 raw key bytes: the 16-byte signing key followed by the 16-byte encryption key.
     *
     * @throws IllegalArgumentException if {@code raw32} is not 32 bytes long
     */
    public FernetKeySpec(byte[] raw32) {
        if (raw32.length != FernetSecretKey.KEY_BYTES) {
            throw new IllegalArgumentException(
                    "a Fernet key is " + FernetSecretKey.KEY_BYTES + " bytes, got " + raw32.length);
        }
        this.keyBytes = raw32.clone();
    }

    private static byte[] decode(String text) {
        if (text == null) {
            // the usual cause is an unset environment variable: say what was expected
            throw new NullPointerException("no key given: expected a Fernet key, 44 characters of url-safe base64");
        }
        if (text.length() != BASE64_CHARS) {
            throw new IllegalArgumentException(
                    "a Fernet key is " + BASE64_CHARS + " characters of url-safe base64, got " + text.length());
        }
        byte[] ascii = text.getBytes(StandardCharsets.ISO_8859_1);
        try {
            return decode(ascii, 0, ascii.length);
        } finally {
            Arrays.fill(ascii, (byte) 0);
        }
    }

    /**
     * Decodes {@code text[from, to)}, a key string as ASCII bytes, into a new array of the 32 key bytes, which the
     * caller wipes. Works from bytes so that key files and inline keys never become a String nobody can wipe.
     *
     * @throws IllegalArgumentException if the range is not a key string; the message never repeats any of it
     */
    static byte[] decode(byte[] text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (text[i] < 0) {
                // not base64, and its length in bytes is not its length in characters: say the former
                throw new IllegalArgumentException("a Fernet key must be url-safe base64");
            }
        }
        if (to - from != BASE64_CHARS) {
            throw new IllegalArgumentException(
                    "a Fernet key is " + BASE64_CHARS + " characters of url-safe base64, got " + (to - from));
        }
        byte[] ascii = Arrays.copyOfRange(text, from, to);
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(ascii);
        } catch (IllegalArgumentException e) {
            // the JDK's message may quote a character of the key: say it in our words
            throw new IllegalArgumentException("a Fernet key must be url-safe base64");
        } finally {
            Arrays.fill(ascii, (byte) 0);
        }
        if (raw.length != FernetSecretKey.KEY_BYTES) {
            int length = raw.length;
            Arrays.fill(raw, (byte) 0);
            throw new IllegalArgumentException(
                    "a Fernet key must decode to " + FernetSecretKey.KEY_BYTES + " bytes, got " + length);
        }
        return raw;
    }

    /** Returns a copy of the 32 key bytes. */
    public byte[] getEncoded() {
        return live().clone();
    }

    /** Returns the key as the 44-character url-safe base64 string, padded, as Python's {@code Fernet} reads it. */
    public String toBase64() {
        return Base64.getUrlEncoder().encodeToString(live());
    }

    byte[] live() {
        if (destroyed) {
            throw new IllegalStateException("key spec has been destroyed");
        }
        return keyBytes;
    }

    /** Zeroes the key bytes; later use throws {@link IllegalStateException}. */
    @Override
    public void destroy() {
        Arrays.fill(keyBytes, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return destroyed ? "FernetKeySpec[destroyed]" : "FernetKeySpec[32 bytes]";
    }
}
