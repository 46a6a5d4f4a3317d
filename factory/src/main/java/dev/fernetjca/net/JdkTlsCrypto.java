package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jcajce.util.DefaultJcaJceHelper;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsAgreement;
import org.bouncycastle.tls.crypto.TlsCipher;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.TlsECConfig;
import org.bouncycastle.tls.crypto.TlsECDomain;
import org.bouncycastle.tls.crypto.TlsNonceGenerator;
import org.bouncycastle.tls.crypto.TlsSecret;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipher;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;

/**
 * Bouncy Castle's JCA-backed TLS crypto on the JDK's providers only (AES-GCM, X25519, HMAC with their intrinsics),
 * with ChaCha20-Poly1305 from the JDK's {@code ChaCha20-Poly1305} cipher: Bouncy Castle asks for it by names only its
 * own JCA provider knows ({@code ChaCha7539}, {@code Poly1305}), and building that provider costs a cold JVM over a
 * second (docs/benchmarks.md, "Diagnosis").
 *
 * <p>Two parts of the handshake do not go through the JCA, for speed (docs/benchmarks.md, "What each change gained"):
 * X25519 is Bouncy Castle's constant-time RFC 7748 arithmetic ({@link X25519}, no JCA provider), about three times
 * the JDK's {@code XDH} warm and a tenth of its cost in a cold JVM; and the handshake's public random values come
 * straight from a {@link SecureRandom}, as JSSE's do, instead of a hash DRBG built and seeded for each connection.
 *
 * <p>Thread-safe, as Bouncy Castle's crypto is.
 */
final class JdkTlsCrypto extends JcaTlsCrypto {
    static final String CHACHA20_POLY1305 = "ChaCha20-Poly1305";

    /**
     * Ephemeral keys made with the Montgomery ladder before the fixed-base tables are built: the tables cost a cold
     * JVM about 10 ms, which a process that makes one or two connections (an RMI client) should not pay.
     */
    static final int LADDER_KEYS_BEFORE_TABLES = 16;

    private static final byte[] X25519_BASE_POINT = basePoint();
    private static final AtomicInteger LADDER_KEYS = new AtomicInteger();
    private static volatile boolean tablesReady;

    private final SecureRandom nonceRandom;

    JdkTlsCrypto() {
        this(new SecureRandom(), new SecureRandom());
    }

    private JdkTlsCrypto(SecureRandom keyRandom, SecureRandom nonceRandom) {
        super(new DefaultJcaJceHelper(), keyRandom, nonceRandom);
        this.nonceRandom = nonceRandom;
    }

    @Override
    public boolean hasNamedGroup(int namedGroup) {
        // ours below, whatever the JDK's providers hold; asking them would load the JDK's XDH for nothing
        return namedGroup == NamedGroup.x25519 || super.hasNamedGroup(namedGroup);
    }

    @Override
    public TlsECDomain createECDomain(TlsECConfig ecConfig) {
        if (ecConfig.getNamedGroup() == NamedGroup.x25519) {
            return new X25519Domain(this);
        }
        return super.createECDomain(ecConfig);
    }

    /** The ClientHello and ServerHello random values: public, unpredictable, from the shared {@link SecureRandom}. */
    @Override
    public TlsNonceGenerator createNonceGenerator(byte[] additionalSeedMaterial) {
        return new RandomNonces(nonceRandom);
    }

    // the two small classes below are classes, not lambdas: linking a lambda costs a cold JVM's first connection

    /** The shared {@link SecureRandom}'s bytes, as many as asked. */
    private record RandomNonces(SecureRandom random) implements TlsNonceGenerator {
        @Override
        public byte[] generateNonce(int size) {
            byte[] nonce = new byte[size];
            random.nextBytes(nonce);
            return nonce;
        }
    }

    /** Makes one {@link X25519Agreement} per key exchange. */
    private record X25519Domain(JdkTlsCrypto crypto) implements TlsECDomain {
        @Override
        public TlsAgreement createECDH() {
            return new X25519Agreement(crypto);
        }
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

    /** Makes an ephemeral X25519 public key for {@code privateKey}, with the fixed-base tables once they are built. */
    static void publicKey(byte[] privateKey, byte[] publicKey) {
        if (tablesReady) {
            X25519.scalarMultBase(privateKey, 0, publicKey, 0);
            return;
        }
        X25519.scalarMult(privateKey, 0, X25519_BASE_POINT, 0, publicKey, 0);
        if (LADDER_KEYS.incrementAndGet() == LADDER_KEYS_BEFORE_TABLES) {
            // built aside, so that no handshake waits on Bouncy Castle's lock while they are made
            Thread builder = new Thread(
                    () -> {
                        X25519.precompute();
                        tablesReady = true;
                    },
                    "fernet-x25519-tables");
            builder.setDaemon(true);
            builder.start();
        }
    }

    /** Tells whether ephemeral keys are made with the fixed-base tables yet. */
    static boolean tablesReady() {
        return tablesReady;
    }

    private static byte[] basePoint() {
        byte[] point = new byte[X25519.POINT_SIZE];
        point[0] = 9; // RFC 7748, section 4.1: u = 9
        return point;
    }

    /**
     * One X25519 exchange of a handshake (RFC 7748; RFC 8446, section 7.4.2): an ephemeral key, the peer's public
     * value, the shared secret. An all-zero secret (a peer's low-order point) fails the handshake. Key bytes are wiped
     * once the secret is made.
     */
    private static final class X25519Agreement implements TlsAgreement {
        private final JdkTlsCrypto crypto;
        private final byte[] privateKey = new byte[X25519.SCALAR_SIZE];
        private final byte[] peerPublicKey = new byte[X25519.POINT_SIZE];

        X25519Agreement(JdkTlsCrypto crypto) {
            this.crypto = crypto;
        }

        @Override
        public byte[] generateEphemeral() {
            X25519.generatePrivateKey(crypto.getSecureRandom(), privateKey);
            byte[] publicKey = new byte[X25519.POINT_SIZE];
            publicKey(privateKey, publicKey);
            return publicKey;
        }

        @Override
        public void receivePeerValue(byte[] peerValue) throws IOException {
            if (peerValue == null || peerValue.length != X25519.POINT_SIZE) {
                throw new TlsFatalAlert(AlertDescription.illegal_parameter);
            }
            System.arraycopy(peerValue, 0, peerPublicKey, 0, X25519.POINT_SIZE);
        }

        @Override
        public TlsSecret calculateSecret() throws IOException {
            byte[] shared = new byte[X25519.POINT_SIZE];
            try {
                if (!X25519.calculateAgreement(privateKey, 0, peerPublicKey, 0, shared, 0)) {
                    throw new TlsFatalAlert(AlertDescription.handshake_failure);
                }
                return crypto.createSecret(shared);
            } finally {
                Arrays.fill(shared, (byte) 0);
                Arrays.fill(privateKey, (byte) 0);
                Arrays.fill(peerPublicKey, (byte) 0);
            }
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
