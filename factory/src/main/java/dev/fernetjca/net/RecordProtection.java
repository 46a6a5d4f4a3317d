package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;

/**
 * TLS 1.3 record protection for one direction of a connection (RFC 8446 5.2-5.3, 7.3): the traffic secret, the key
 * and IV derived from it, the 64-bit sequence number, and one JDK {@link Cipher} kept for the connection. Records are
 * sealed and opened in place. Bouncy Castle runs the handshake; this takes over once the application traffic secrets
 * exist, so that each direction has its own cipher, buffer and lock.
 *
 * <p>Not thread-safe: its direction's lock guards it.
 */
final class RecordProtection {
    static final int HEADER = 5;
    static final int TAG = 16;
    static final int MAX_PLAINTEXT = 1 << 14;
    /** RFC 8446 5.2: the largest ciphertext a peer may send. */
    static final int MAX_CIPHERTEXT = MAX_PLAINTEXT + 256;

    static final byte APPLICATION_DATA = 23;
    static final byte ALERT = 21;
    static final byte HANDSHAKE = 22;

    /**
     * Records sealed under one key before we move to the next by our own KeyUpdate: RFC 8446 5.5 puts AES-GCM's limit
     * at 2^24.5 full records; half of 2^24 leaves a wide margin and costs one small record per 128 GiB.
     */
    static final long RECORDS_PER_KEY = 1L << 23;

    private static final int NONCE = 12;
    private static final int SECRET = 32; // SHA-256, the hash of both our suites

    private final boolean chacha;
    private final int keyLength;
    private final int mode;
    private final Cipher cipher;
    private final byte[] secret = new byte[SECRET];
    private final byte[] iv = new byte[NONCE];
    private final byte[] nonce = new byte[NONCE];
    private final byte[] keyBytes;
    private WipeableKey key;
    private long sequence; // unsigned; -1 (2^64 - 1) is never used, so that it cannot wrap
    private boolean destroyed;

    /**
     * Creates one direction's protection from its application traffic secret, which is copied; the caller wipes its
     * own copy.
     *
     * @param sequence the first record's sequence number: 0 after a handshake, other values only in tests
     */
    RecordProtection(int cipherSuite, byte[] trafficSecret, boolean sealing, long sequence) throws IOException {
        if (trafficSecret.length != SECRET) {
            throw new TlsFatalAlert(AlertDescription.internal_error, "unexpected traffic secret length");
        }
        this.chacha = switch (cipherSuite) {
            case CipherSuite.TLS_AES_128_GCM_SHA256 -> false;
            case CipherSuite.TLS_CHACHA20_POLY1305_SHA256 -> true;
            default -> throw new TlsFatalAlert(AlertDescription.internal_error, "unexpected cipher suite");
        };
        this.keyLength = chacha ? 32 : 16;
        this.keyBytes = new byte[keyLength];
        this.mode = sealing ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE;
        try {
            this.cipher = Cipher.getInstance(chacha ? JdkTlsCrypto.CHACHA20_POLY1305 : "AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
        System.arraycopy(trafficSecret, 0, secret, 0, SECRET);
        this.sequence = sequence;
        deriveKeyAndIv();
    }

    /**
     * Seals the record whose {@code contentLength} bytes of content are at {@code record[5..]}: appends the content
     * type, writes the header and encrypts in place. Returns the record's length on the wire.
     */
    int seal(byte[] record, int contentLength, byte contentType) throws IOException {
        return seal(record, 0, contentLength, contentType);
    }

    /**
     * Seals the record that starts at {@code buffer[offset]}, its content at {@code buffer[offset + 5..]}, as
     * {@link #seal(byte[], int, byte)} does; for several records sealed one after the other into one buffer.
     */
    int seal(byte[] buffer, int offset, int contentLength, byte contentType) throws IOException {
        usable();
        int inner = contentLength + 1;
        int body = inner + TAG;
        buffer[offset + HEADER + contentLength] = contentType;
        buffer[offset] = APPLICATION_DATA;
        buffer[offset + 1] = 3;
        buffer[offset + 2] = 3;
        buffer[offset + 3] = (byte) (body >>> 8);
        buffer[offset + 4] = (byte) body;
        try {
            cipher.init(mode, key, nextNonce());
            cipher.updateAAD(buffer, offset, HEADER);
            cipher.doFinal(buffer, offset + HEADER, inner, buffer, offset + HEADER);
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
        return HEADER + body;
    }

    /**
     * Opens the record at {@code record[0..5 + bodyLength)} in place: verifies its tag (no byte of plaintext is
     * returned otherwise) and returns the length of the inner plaintext at {@code record[5..]}, content type and
     * padding included.
     *
     * @throws TlsFatalAlert bad_record_mac for a forged, corrupted, replayed or reordered record
     */
    int open(byte[] record, int bodyLength) throws IOException {
        return open(record, 0, bodyLength);
    }

    /** Opens the record that starts at {@code buffer[offset]}, as {@link #open(byte[], int)} does. */
    int open(byte[] buffer, int offset, int bodyLength) throws IOException {
        usable();
        if (bodyLength < TAG + 1) {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, "record too short");
        }
        try {
            cipher.init(mode, key, nextNonce());
            cipher.updateAAD(buffer, offset, HEADER);
            return cipher.doFinal(buffer, offset + HEADER, bodyLength, buffer, offset + HEADER);
        } catch (AEADBadTagException e) {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }

    /** RFC 8446 7.2: the next traffic secret, key and IV after a KeyUpdate; the sequence number starts again at 0. */
    void update() throws IOException {
        expandLabel(secret, "traffic upd", secret); // in place: no second copy of the next secret to wipe
        sequence = 0;
        deriveKeyAndIv();
    }

    /** Tells whether the sending key has sealed enough records that our own KeyUpdate is due. */
    boolean keyUpdateDue() {
        return mode == Cipher.ENCRYPT_MODE && Long.compareUnsigned(sequence, RECORDS_PER_KEY) >= 0;
    }

    /**
     * Wipes the secret, key and IV, and rekeys the JDK cipher with zeros (it keeps the last key it was given); the
     * protection is unusable afterwards.
     */
    @SuppressFBWarnings(
            value = "STATIC_IV",
            justification = "the zero nonce only rekeys the cipher to drop the last key; nothing is encrypted under it")
    void destroy() {
        destroyed = true;
        Arrays.fill(secret, (byte) 0);
        Arrays.fill(iv, (byte) 0);
        Arrays.fill(nonce, (byte) 0);
        Arrays.fill(keyBytes, (byte) 0);
        try {
            byte[] zeros = new byte[NONCE];
            cipher.init(mode, key, chacha ? new IvParameterSpec(zeros) : new GCMParameterSpec(TAG * 8, zeros));
        } catch (GeneralSecurityException e) {
            // the cipher refused a key of zeros: it is garbage from here on either way
        }
    }

    private void usable() throws IOException {
        if (destroyed) {
            throw new SocketException("connection closed");
        }
    }

    /** RFC 8446 5.3: the IV XOR the sequence number, left-padded; refuses to let the sequence number wrap. */
    @SuppressFBWarnings(
            value = "STATIC_IV",
            justification =
                    "a new nonce for each record: the IV XOR the sequence number (RFC 8446 5.3), which may not wrap")
    private AlgorithmParameterSpec nextNonce() throws IOException {
        long current = sequence;
        if (current == -1L) {
            throw new TlsFatalAlert(AlertDescription.internal_error, "record sequence number exhausted");
        }
        sequence = current + 1;
        System.arraycopy(iv, 0, nonce, 0, NONCE);
        for (int i = 0; i < 8; i++) {
            nonce[NONCE - 1 - i] ^= (byte) (current >>> (8 * i));
        }
        return chacha ? new IvParameterSpec(nonce) : new GCMParameterSpec(TAG * 8, nonce);
    }

    private void deriveKeyAndIv() throws IOException {
        expandLabel(secret, "key", keyBytes);
        expandLabel(secret, "iv", iv);
        key = new WipeableKey(keyBytes, chacha ? "ChaCha20" : "AES");
    }

    /** RFC 8446 7.1 HKDF-Expand-Label with SHA-256 and an empty context, for outputs of one hash length at most. */
    static byte[] expandLabel(byte[] secret, String label, int length) throws IOException {
        byte[] out = new byte[length];
        expandLabel(secret, label, out);
        return out;
    }

    /**
     * Writes HKDF-Expand-Label of {@code out.length} bytes into {@code out}, which may be {@code secret} itself: the
     * secret has keyed the HMAC before the output is written.
     */
    static void expandLabel(byte[] secret, String label, byte[] out) throws IOException {
        int length = out.length;
        byte[] fullLabel = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
        byte[] info = new byte[2 + 1 + fullLabel.length + 1 + 1];
        info[0] = (byte) (length >>> 8);
        info[1] = (byte) length;
        info[2] = (byte) fullLabel.length;
        System.arraycopy(fullLabel, 0, info, 3, fullLabel.length);
        info[3 + fullLabel.length] = 0; // empty context
        info[info.length - 1] = 1; // HKDF-Expand's counter: one block is enough
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new WipeableKey(secret, "HmacSHA256"));
            byte[] block = hmac.doFinal(info);
            System.arraycopy(block, 0, out, 0, length);
            Arrays.fill(block, (byte) 0);
            hmac.init(new WipeableKey(new byte[SECRET], "HmacSHA256")); // the Mac keeps its padded key otherwise
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }

    /**
     * A key whose bytes are the protection's own array, so that {@link #destroy()} wipes them (a SecretKeySpec keeps a
     * copy nobody can wipe). The JDK's cipher still holds its expanded key until it is collected.
     */
    @SuppressFBWarnings(
            value = "SE_TRANSIENT_FIELD_NOT_RESTORED",
            justification = "never serialized: it only reaches a JDK Cipher's init; transient so that no key "
                    + "byte could be written")
    private static final class WipeableKey implements SecretKey {
        private static final long serialVersionUID = 1L;
        private final transient byte[] bytes;
        private final String algorithm;

        WipeableKey(byte[] bytes, String algorithm) {
            this.bytes = bytes;
            this.algorithm = algorithm;
        }

        @Override
        public String getAlgorithm() {
            return algorithm;
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return bytes.clone();
        }
    }
}
