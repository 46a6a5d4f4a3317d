package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;
import org.junit.jupiter.api.Test;

/**
 * The ChaCha20-Poly1305 cipher {@link JdkTlsCrypto} gives Bouncy Castle's handshake, on the JDK's cipher: the RFC 8439
 * 2.8.2 AEAD vector through our wrapper, both ways, and what it refuses.
 */
class JdkTlsCryptoChaChaTest {
    private static final HexFormat HEX = HexFormat.of();
    // RFC 8439, section 2.8.2
    private static final byte[] KEY = HEX.parseHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    private static final byte[] NONCE = HEX.parseHex("070000004041424344454647");
    private static final byte[] AAD = HEX.parseHex("50515253c0c1c2c3c4c5c6c7");
    private static final byte[] PLAINTEXT = ("Ladies and Gentlemen of the class of '99: If I could offer you only one"
                    + " tip for the future, sunscreen would be it.")
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEALED = HEX.parseHex("d31a8d34648e60db7b86afbc53ef7ec2"
            + "a4aded51296e08fea9e2b5a736ee62d6"
            + "3dbea45e8ca9671282fafb69da92728b"
            + "1a71de0a9e060b2905d6a5b67ecd3b36"
            + "92ddbd7f2d778b8c9803aee328091b58"
            + "fab324e4fad675945585808b4831d7bc"
            + "3ff4def08e4b7a9de576d26586cec64b"
            + "6116"
            + "1ae10b594f09e26a7e902ecbd0600691"); // the tag

    /** Our one-direction ChaCha20-Poly1305, as {@link JdkTlsCrypto#createCipher} builds it for Bouncy Castle. */
    private static TlsAEADCipherImpl cipher(boolean encrypting) throws Exception {
        Class<?> type = Class.forName(JdkTlsCrypto.class.getName() + "$ChaCha20Poly1305");
        Constructor<?> constructor = type.getDeclaredConstructor(boolean.class);
        constructor.setAccessible(true);
        TlsAEADCipherImpl cipher = (TlsAEADCipherImpl) constructor.newInstance(encrypting);
        byte[] keyAtAnOffset = new byte[KEY.length + 3];
        System.arraycopy(KEY, 0, keyAtAnOffset, 3, KEY.length);
        cipher.setKey(keyAtAnOffset, 3, KEY.length);
        return cipher;
    }

    private static TlsAEADCipherImpl opener() throws Exception {
        TlsAEADCipherImpl opener = cipher(false);
        opener.init(NONCE, 16);
        return opener;
    }

    @Test
    void sealsTheRfc8439VectorAtAnOffset() throws Exception {
        TlsAEADCipherImpl sealer = cipher(true);
        sealer.init(NONCE, 16);
        assertEquals(PLAINTEXT.length + 16, sealer.getOutputSize(PLAINTEXT.length));
        byte[] input = new byte[PLAINTEXT.length + 7];
        System.arraycopy(PLAINTEXT, 0, input, 7, PLAINTEXT.length);
        byte[] output = new byte[SEALED.length + 5];
        assertEquals(SEALED.length, sealer.doFinal(AAD, input, 7, PLAINTEXT.length, output, 5));
        assertArrayEquals(SEALED, Arrays.copyOfRange(output, 5, output.length));
    }

    @Test
    void opensTheRfc8439VectorAndRefusesAnyFlippedByte() throws Exception {
        TlsAEADCipherImpl opener = cipher(false);
        opener.init(NONCE, 16);
        assertEquals(PLAINTEXT.length, opener.getOutputSize(SEALED.length));
        assertEquals(0, opener.getOutputSize(10), "shorter than a tag: nothing");
        byte[] output = new byte[PLAINTEXT.length];
        assertEquals(PLAINTEXT.length, opener.doFinal(AAD, SEALED, 0, SEALED.length, output, 0));
        assertArrayEquals(PLAINTEXT, output);
        for (int i : new int[] {0, 60, SEALED.length - 17, SEALED.length - 1}) {
            byte[] flipped = SEALED.clone();
            flipped[i] ^= 1;
            TlsAEADCipherImpl fresh = opener(); // the JDK refuses a key and nonce used once already
            TlsFatalAlert alert = assertThrows(
                    TlsFatalAlert.class,
                    () -> fresh.doFinal(AAD, flipped, 0, flipped.length, new byte[PLAINTEXT.length], 0));
            assertEquals(AlertDescription.bad_record_mac, alert.getAlertDescription());
        }
        byte[] otherAad = AAD.clone();
        otherAad[0] ^= 1;
        TlsAEADCipherImpl fresh = opener();
        TlsFatalAlert alert = assertThrows(
                TlsFatalAlert.class,
                () -> fresh.doFinal(otherAad, SEALED, 0, SEALED.length, new byte[PLAINTEXT.length], 0));
        assertEquals(AlertDescription.bad_record_mac, alert.getAlertDescription(), "the header is authenticated");
    }

    @Test
    void withoutAdditionalDataTheTagCoversTheCiphertextAlone() throws Exception {
        TlsAEADCipherImpl sealer = cipher(true);
        sealer.init(NONCE, 16);
        byte[] sealed = new byte[PLAINTEXT.length + 16];
        sealer.doFinal(null, PLAINTEXT, 0, PLAINTEXT.length, sealed, 0);
        assertArrayEquals(
                Arrays.copyOf(SEALED, PLAINTEXT.length),
                Arrays.copyOf(sealed, PLAINTEXT.length),
                "the same key stream");
        assertTrue(
                !Arrays.equals(
                        Arrays.copyOfRange(SEALED, PLAINTEXT.length, SEALED.length),
                        Arrays.copyOfRange(sealed, PLAINTEXT.length, sealed.length)),
                "another tag without the additional data");
        TlsAEADCipherImpl opener = cipher(false);
        opener.init(NONCE, 16);
        byte[] opened = new byte[PLAINTEXT.length];
        opener.doFinal(null, sealed, 0, sealed.length, opened, 0);
        assertArrayEquals(PLAINTEXT, opened);
        TlsAEADCipherImpl fresh = opener();
        TlsFatalAlert alert = assertThrows(
                TlsFatalAlert.class, () -> fresh.doFinal(AAD, sealed, 0, sealed.length, new byte[PLAINTEXT.length], 0));
        assertEquals(AlertDescription.bad_record_mac, alert.getAlertDescription());
    }

    @Test
    void eachRecordUsesTheNonceItWasGivenAndKeepsItsOwnCopy() throws Exception {
        TlsAEADCipherImpl sealer = cipher(true);
        byte[] nonce = NONCE.clone();
        sealer.init(nonce, 16);
        nonce[11] ^= 1; // Bouncy Castle reuses its nonce array for the next record
        byte[] sealed = new byte[SEALED.length];
        sealer.doFinal(AAD, PLAINTEXT, 0, PLAINTEXT.length, sealed, 0);
        assertArrayEquals(SEALED, sealed);
        sealer.init(nonce, 16);
        sealer.doFinal(AAD, PLAINTEXT, 0, PLAINTEXT.length, sealed, 0);
        assertTrue(!Arrays.equals(SEALED, sealed), "another nonce, another record");
    }

    @Test
    void refusesATagOrNonceOfAnotherSize() throws Exception {
        TlsAEADCipherImpl sealer = cipher(true);
        TlsFatalAlert shortTag = assertThrows(TlsFatalAlert.class, () -> sealer.init(NONCE, 12));
        assertEquals(AlertDescription.internal_error, shortTag.getAlertDescription());
        TlsFatalAlert shortNonce = assertThrows(TlsFatalAlert.class, () -> sealer.init(new byte[8], 16));
        assertEquals(AlertDescription.internal_error, shortNonce.getAlertDescription());
        TlsFatalAlert longNonce = assertThrows(TlsFatalAlert.class, () -> sealer.init(new byte[13], 16));
        assertEquals(AlertDescription.internal_error, longNonce.getAlertDescription());
    }

    @Test
    void aKeyOfTheWrongLengthIsAnInternalErrorNotAnotherCipher() throws Exception {
        TlsAEADCipherImpl sealer = cipher(true);
        sealer.setKey(new byte[16], 0, 16);
        sealer.init(NONCE, 16);
        TlsFatalAlert alert = assertThrows(
                TlsFatalAlert.class,
                () -> sealer.doFinal(AAD, PLAINTEXT, 0, PLAINTEXT.length, new byte[SEALED.length], 0));
        assertEquals(AlertDescription.internal_error, alert.getAlertDescription());
    }

    @Test
    void theJdkCipherIsOfferedForTheChaChaSuite() {
        JdkTlsCrypto crypto = new JdkTlsCrypto();
        assertEquals(Boolean.TRUE, crypto.isSupportedEncryptionAlgorithm(EncryptionAlgorithm.CHACHA20_POLY1305));
        assertEquals(Boolean.TRUE, crypto.isSupportedEncryptionAlgorithm(EncryptionAlgorithm.AES_128_GCM));
        assertTrue(crypto.hasEncryptionAlgorithm(EncryptionAlgorithm.CHACHA20_POLY1305));
    }
}
