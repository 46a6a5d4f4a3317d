package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.Arrays;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsAgreement;
import org.bouncycastle.tls.crypto.TlsECConfig;
import org.junit.jupiter.api.Test;

/**
 * What an X25519 exchange of {@link JdkTlsCrypto} leaves behind once its secret is made, or refused: our ephemeral
 * private key and the peer's value are zeros. The agreement's own fields are read by reflection: nothing else can
 * see a wipe.
 */
class JdkTlsCryptoWipeTest {
    private static final JdkTlsCrypto CRYPTO = new JdkTlsCrypto();

    private static TlsAgreement x25519() {
        return CRYPTO.createECDomain(new TlsECConfig(NamedGroup.x25519)).createECDH();
    }

    private static byte[] field(TlsAgreement agreement, String name) throws ReflectiveOperationException {
        Field field = agreement.getClass().getDeclaredField(name);
        field.setAccessible(true);
        return (byte[]) field.get(agreement);
    }

    @Test
    void theKeysAreZerosOnceTheSecretIsMade() throws Exception {
        TlsAgreement ours = x25519();
        TlsAgreement theirs = x25519();
        byte[] ourPublic = ours.generateEphemeral();
        ours.receivePeerValue(theirs.generateEphemeral());
        theirs.receivePeerValue(ourPublic);
        assertFalse(Arrays.equals(new byte[32], field(ours, "privateKey")));
        assertFalse(Arrays.equals(new byte[32], field(ours, "peerPublicKey")));

        byte[] secret = ours.calculateSecret().extract();
        assertArrayEquals(theirs.calculateSecret().extract(), secret, "both sides agree");
        assertNotEquals(0, Arrays.hashCode(secret));
        assertArrayEquals(new byte[32], field(ours, "privateKey"), "our ephemeral private key");
        assertArrayEquals(new byte[32], field(ours, "peerPublicKey"), "the peer's value");
    }

    @Test
    void theKeysAreZerosWhenALowOrderPeerValueIsRefused() throws Exception {
        TlsAgreement ours = x25519();
        ours.generateEphemeral();
        byte[] lowOrder = new byte[32];
        lowOrder[0] = 1; // u = 1: of order 4, the shared secret is all zeros
        ours.receivePeerValue(lowOrder);
        assertThrows(TlsFatalAlert.class, ours::calculateSecret);
        assertArrayEquals(new byte[32], field(ours, "privateKey"));
        assertArrayEquals(new byte[32], field(ours, "peerPublicKey"));
    }

    @Test
    void otherGroupsAreLeftToBouncyCastle() {
        assertTrue(CRYPTO.hasNamedGroup(NamedGroup.x25519));
        assertFalse(CRYPTO.createECDomain(new TlsECConfig(NamedGroup.secp256r1))
                .getClass()
                .getName()
                .startsWith(JdkTlsCrypto.class.getName()));
        assertTrue(CRYPTO.createECDomain(new TlsECConfig(NamedGroup.x25519))
                .getClass()
                .getName()
                .startsWith(JdkTlsCrypto.class.getName()));
    }
}
