package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.NamedGroup;
import org.junit.jupiter.api.Test;

/** What the crypto claims beyond X25519 and ChaCha20-Poly1305 is Bouncy Castle's answer, not a blanket yes. */
class JdkTlsCryptoGroupsTest {
    /** A code point no registry assigns: nothing can support it. */
    private static final int UNASSIGNED = 0x7a7a;

    private final JdkTlsCrypto crypto = new JdkTlsCrypto();

    @Test
    void aGroupOtherThanX25519IsBouncyCastlesAnswer() {
        assertTrue(crypto.hasNamedGroup(NamedGroup.x25519));
        assertTrue(crypto.hasNamedGroup(NamedGroup.secp256r1), "the JDK's own EC");
        assertFalse(crypto.hasNamedGroup(UNASSIGNED));
    }

    @Test
    void anEncryptionAlgorithmOtherThanChaChaIsBouncyCastlesAnswer() {
        assertEquals(Boolean.TRUE, crypto.isSupportedEncryptionAlgorithm(EncryptionAlgorithm.AES_128_GCM));
        assertNotEquals(Boolean.TRUE, crypto.isSupportedEncryptionAlgorithm(UNASSIGNED), "not claimed");
    }
}
