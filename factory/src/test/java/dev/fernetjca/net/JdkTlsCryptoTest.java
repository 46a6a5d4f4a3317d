package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.KeyAgreement;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsAgreement;
import org.bouncycastle.tls.crypto.TlsECConfig;
import org.bouncycastle.tls.crypto.TlsNonceGenerator;
import org.junit.jupiter.api.Test;

/**
 * The handshake's X25519 and random values, which {@link JdkTlsCrypto} makes itself: the RFC 7748 vectors with and
 * without the fixed-base tables, agreement with the JDK's {@code XDH}, refusal of low-order and malformed peer values.
 */
class JdkTlsCryptoTest {
    private static final HexFormat HEX = HexFormat.of();
    // RFC 7748, section 6.1
    private static final byte[] ALICE_PRIVATE =
            HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static final byte[] ALICE_PUBLIC =
            HEX.parseHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");

    private static final JdkTlsCrypto CRYPTO = new JdkTlsCrypto();

    @Test
    void publicKeysMatchRfc7748BeforeAndAfterTheTablesAreBuilt() throws Exception {
        boolean sawLadder = false;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!JdkTlsCrypto.tablesReady()) {
            sawLadder = true;
            assertArrayEquals(ALICE_PUBLIC, publicKey(ALICE_PRIVATE));
            assertTrue(System.nanoTime() < deadline, "the fixed-base tables were not built within 20 s");
            Thread.sleep(1);
        }
        assertArrayEquals(ALICE_PUBLIC, publicKey(ALICE_PRIVATE));
        // another test class of this JVM may have built the tables first; then only the tables were checked here
        assertTrue(sawLadder || JdkTlsCrypto.tablesReady());
    }

    @Test
    void agreesWithTheJdkX25519() throws Exception {
        for (int i = 0; i < 4; i++) {
            TlsAgreement ours = x25519();
            byte[] ourPublic = ours.generateEphemeral();
            KeyPair theirs = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            ours.receivePeerValue(encode((XECPublicKey) theirs.getPublic()));
            byte[] ourSecret = ours.calculateSecret().extract();

            KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            agreement.init(theirs.getPrivate());
            agreement.doPhase(decode(ourPublic), true);
            assertArrayEquals(agreement.generateSecret(), ourSecret);
        }
    }

    @Test
    void refusesALowOrderPeerValue() throws Exception {
        TlsAgreement ours = x25519();
        ours.generateEphemeral();
        ours.receivePeerValue(new byte[32]); // u = 0: every private key gives the all-zero secret
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, ours::calculateSecret);
        assertEquals(AlertDescription.handshake_failure, alert.getAlertDescription());
    }

    @Test
    void refusesAPeerValueOfTheWrongLength() throws Exception {
        TlsAgreement ours = x25519();
        ours.generateEphemeral();
        for (byte[] value : new byte[][] {new byte[31], new byte[33], null}) {
            TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, () -> ours.receivePeerValue(value));
            assertEquals(AlertDescription.illegal_parameter, alert.getAlertDescription());
        }
    }

    @Test
    void randomValuesHaveTheSizeAskedAndDiffer() {
        TlsNonceGenerator nonces = CRYPTO.createNonceGenerator(new byte[0]);
        byte[] first = nonces.generateNonce(32);
        byte[] second = nonces.generateNonce(32);
        assertEquals(32, first.length);
        assertFalse(Arrays.equals(first, second));
        assertEquals(12, nonces.generateNonce(12).length);
    }

    @Test
    void offersX25519WithoutTheJdk() {
        assertTrue(CRYPTO.hasNamedGroup(NamedGroup.x25519));
    }

    private static TlsAgreement x25519() {
        return CRYPTO.createECDomain(new TlsECConfig(NamedGroup.x25519)).createECDH();
    }

    private static byte[] publicKey(byte[] privateKey) {
        byte[] publicKey = new byte[32];
        JdkTlsCrypto.publicKey(privateKey.clone(), publicKey);
        return publicKey;
    }

    /** The 32-byte little-endian u-coordinate of a JDK X25519 public key. */
    private static byte[] encode(XECPublicKey key) {
        byte[] bigEndian = key.getU().toByteArray();
        byte[] littleEndian = new byte[32];
        for (int i = 0; i < Math.min(32, bigEndian.length); i++) {
            littleEndian[i] = bigEndian[bigEndian.length - 1 - i];
        }
        return littleEndian;
    }

    private static PublicKey decode(byte[] littleEndian) throws Exception {
        byte[] bigEndian = new byte[33];
        for (int i = 0; i < 32; i++) {
            bigEndian[32 - i] = littleEndian[i];
        }
        return KeyFactory.getInstance("X25519")
                .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(bigEndian)));
    }
}
