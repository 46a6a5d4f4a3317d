package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jcajce.util.DefaultJcaJceHelper;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsCipher;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipher;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;

/**
 * Bouncy Castle's JCA-backed TLS crypto on the JDK's providers only (AES-GCM, X25519, HMAC with their intrinsics),
 * with ChaCha20-Poly1305 from the JDK's {@code ChaCha20-Poly1305} cipher: Bouncy Castle asks for it by names only its
 * own JCA provider knows ({@code ChaCha7539}, {@code Poly1305}), and building that provider costs a cold JVM over a
 * second (docs/benchmarks.md, "Diagnosis").
 *
 * <p>Thread-safe, as Bouncy Castle's crypto is.
 */
final class JdkTlsCrypto extends JcaTlsCrypto {
    static final String CHACHA20_POLY1305 = "ChaCha20-Poly1305";

    JdkTlsCrypto() {
        super(new DefaultJcaJceHelper(), new SecureRandom(), new SecureRandom());
    }

    @Override
    protected Boolean isSupportedEncryptionAlgorithm(int encryptionAlgorithm) {
        if (encryptionAlgorithm == EncryptionAlgorithm.CHACHA20_POLY1305) {
            return hasJdkChaCha20Poly1305();
        }
        return super.isSupportedEncryptionAlgorithm(encryptionAlgorithm);
    }

    @Override
    public TlsCipher createCipher(TlsCryptoParameters parameters, int encryptionAlgorithm, int macAlgorithm)
            throws IOException {
        if (encryptionAlgorithm != EncryptionAlgorithm.CHACHA20_POLY1305) {
            return super.createCipher(parameters, encryptionAlgorithm, macAlgorithm);
        }
        try {
            return new TlsAEADCipher(
                    parameters,
                    new ChaCha20Poly1305(true),
                    new ChaCha20Poly1305(false),
                    32,
                    16,
                    TlsAEADCipher.AEAD_CHACHA20_POLY1305,
                    null);
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }

    @SuppressFBWarnings(
            value = "CIPHER_INTEGRITY",
            justification = "ChaCha20-Poly1305 is an AEAD: the Poly1305 tag is its integrity")
    private static boolean hasJdkChaCha20Poly1305() {
        try {
            Cipher.getInstance(CHACHA20_POLY1305);
            return true;
        } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
            return false;
        }
    }

    /** One direction of ChaCha20-Poly1305 (RFC 8439) for Bouncy Castle's record layer, on the JDK's cipher. */
    private static final class ChaCha20Poly1305 implements TlsAEADCipherImpl {
        private final Cipher cipher;
        private final int mode;
        private SecretKeySpec key;
        private byte[] nonce;

        @SuppressFBWarnings(
                value = "CIPHER_INTEGRITY",
                justification = "ChaCha20-Poly1305 is an AEAD: the Poly1305 tag is its integrity")
        ChaCha20Poly1305(boolean encrypting) throws GeneralSecurityException {
            this.cipher = Cipher.getInstance(CHACHA20_POLY1305);
            this.mode = encrypting ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE;
        }

        @Override
        public void setKey(byte[] bytes, int offset, int length) {
            key = new SecretKeySpec(bytes, offset, length, "ChaCha20");
        }

        @Override
        public void init(byte[] nonce, int macSize) throws IOException {
            if (macSize != 16 || nonce.length != 12) {
                throw new TlsFatalAlert(AlertDescription.internal_error);
            }
            this.nonce = nonce.clone();
        }

        @Override
        public int getOutputSize(int inputLength) {
            return mode == Cipher.ENCRYPT_MODE ? inputLength + 16 : Math.max(0, inputLength - 16);
        }

        @Override
        @SuppressFBWarnings(
                value = "STATIC_IV",
                justification =
                        "the nonce is Bouncy Castle's per-record one, the IV XOR the sequence number (RFC 8446 5.3)")
        public int doFinal(
                byte[] additionalData, byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset)
                throws IOException {
            try {
                cipher.init(mode, key, new IvParameterSpec(nonce));
                if (additionalData != null) {
                    cipher.updateAAD(additionalData);
                }
                return cipher.doFinal(input, inputOffset, inputLength, output, outputOffset);
            } catch (AEADBadTagException e) {
                throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
            } catch (GeneralSecurityException e) {
                throw new TlsFatalAlert(AlertDescription.internal_error, e);
            }
        }
    }
}
