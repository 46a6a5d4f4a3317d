package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * What the derivation leaves behind: the key copies it was handed are zeroed or destroyed, its scratch block is
 * zeroed, and its HMAC is left keyed with the public salt rather than with a pseudorandom key.
 */
class PskDerivationWipeTest {
    private static final byte[] NONZERO = new byte[32];

    static {
        Arrays.fill(NONZERO, (byte) 0x5a);
    }

    /** A key whose every {@code getEncoded} copy the test keeps, to see what the derivation did with it. */
    private static final class KeptCopyKey implements SecretKey {
        private static final long serialVersionUID = 1L;
        private final byte[] keyBytes;
        private transient byte[] handedOut;

        KeptCopyKey(byte[] keyBytes) {
            this.keyBytes = keyBytes.clone();
        }

        @Override
        public String getAlgorithm() {
            return "Fernet";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            handedOut = keyBytes.clone();
            return handedOut;
        }
    }

    @Test
    void theKeyCopyItWasHandedIsZeroedAfterUse() {
        SecretKey fernetKey = newKey();
        byte[] expectedSecret = PskDerivation.of(fernetKey).secret();
        KeptCopyKey kept = new KeptCopyKey(fernetKey.getEncoded());

        PskDerivation psk = PskDerivation.of(kept);

        assertArrayEquals(expectedSecret, psk.secret(), "the copy was read before it was zeroed");
        assertArrayEquals(new byte[32], kept.handedOut);
    }

    @Test
    void eachKeyIsDestroyedOnceDerived() {
        List<SecretKey> keys = List.of(newKey(), newKey(), newKey());
        List<PskDerivation> fromRing = PskDerivation.of(FernetKeyRing.of(keys.get(0), keys.get(1), keys.get(2)));

        List<PskDerivation> psks = PskDerivation.of(keys);

        assertEquals(3, psks.size());
        for (int i = 0; i < keys.size(); i++) {
            assertTrue(keys.get(i).isDestroyed(), "key " + i);
            assertArrayEquals(fromRing.get(i).identity(), psks.get(i).identity(), "ring order kept, key " + i);
        }
    }

    @Test
    void aRingsOwnKeysSurviveTheDerivation() {
        SecretKey primary = newKey();
        FernetKeyRing ring = FernetKeyRing.of(primary, newKey());
        PskDerivation.of(ring);
        assertFalse(primary.isDestroyed());
        assertEquals(2, ring.keys().size());
    }

    @Test
    void hkdfZeroesItsBlockAndLeavesTheMacKeyedWithTheSalt() throws Exception {
        SecretKey fernetKey = newKey();
        PskDerivation expected = PskDerivation.of(fernetKey);
        byte[] keyBytes = fernetKey.getEncoded();
        Mac hmac = PskDerivation.saltedHmac();
        byte[] block = NONZERO.clone();

        byte[] secret =
                PskDerivation.hkdf(hmac, keyBytes, PskDerivation.SECRET_INFO, PskDerivation.SECRET_BYTES, block);

        assertArrayEquals(expected.secret(), secret);
        assertArrayEquals(new byte[32], block);
        byte[] probe = "any message".getBytes(StandardCharsets.US_ASCII);
        Mac salted = Mac.getInstance("HmacSHA256");
        salted.init(new SecretKeySpec(PskDerivation.SALT, "HmacSHA256"));
        assertArrayEquals(salted.doFinal(probe), hmac.doFinal(probe));
    }

    @Test
    void oneMacServesBothValuesOfAKey() {
        SecretKey fernetKey = newKey();
        PskDerivation expected = PskDerivation.of(fernetKey);
        byte[] keyBytes = fernetKey.getEncoded();
        Mac hmac = PskDerivation.saltedHmac();
        byte[] block = new byte[32];

        byte[] identityHash = PskDerivation.hkdf(
                hmac, keyBytes, PskDerivation.IDENTITY_INFO, PskDerivation.IDENTITY_HASH_BYTES, block);
        byte[] secret =
                PskDerivation.hkdf(hmac, keyBytes, PskDerivation.SECRET_INFO, PskDerivation.SECRET_BYTES, block);

        assertEquals(
                expected.identityText(),
                PskDerivation.IDENTITY_PREFIX + HexFormat.of().formatHex(identityHash));
        assertArrayEquals(expected.secret(), secret);
    }
}
