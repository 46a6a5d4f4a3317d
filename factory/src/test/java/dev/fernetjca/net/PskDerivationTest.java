package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.PROVIDER;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.testing.ExternalTools;
import dev.fernetjca.testing.Processes;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(60)
class PskDerivationTest {
    /** The key of the Fernet spec's generate.json and verify.json. */
    static final String SPEC_KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

    private static final HexFormat HEX = HexFormat.of();
    private static final SecureRandom RANDOM = new SecureRandom();

    static Stream<Arguments> keys() {
        byte[] counting = new byte[32];
        for (int i = 0; i < counting.length; i++) {
            counting[i] = (byte) i;
        }
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        return Stream.of(
                Arguments.of("the spec key", SPEC_KEY),
                Arguments.of("32 zero bytes", base64(new byte[32])),
                Arguments.of("32 bytes 0xff", base64(filled((byte) 0xff))),
                Arguments.of("bytes 0 to 31", base64(counting)),
                Arguments.of("a random key", base64(random)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keys")
    void matchesHkdfOfOpenssl(String name, String base64Key) throws Exception {
        Path openssl = ExternalTools.openssl();
        byte[] keyBytes = Base64.getUrlDecoder().decode(base64Key);
        String expectedIdentity = "fernet-jca-1-" + opensslHkdf(openssl, keyBytes, "fernet-jca/1 psk identity", 16);
        String expectedSecret = opensslHkdf(openssl, keyBytes, "fernet-jca/1 psk secret", 32);

        PskDerivation psk = PskDerivation.of(key(keyBytes));
        assertEquals(expectedIdentity, psk.identityText());
        assertArrayEquals(expectedIdentity.getBytes(US_ASCII), psk.identity());
        assertEquals(expectedSecret, HEX.formatHex(psk.secret()));
        assertEquals(List.of(expectedIdentity + " " + expectedSecret), FernetSocketFactory.externalPsks(key(keyBytes)));
    }

    /** The labels are written out here, not taken from PskDerivation, so that a changed constant fails this test. */
    @Test
    void labelsAreThoseOfTheProtocol() {
        assertEquals("fernet-jca/1 tls13 external psk", new String(PskDerivation.SALT, US_ASCII));
        assertEquals("fernet-jca/1 psk identity", new String(PskDerivation.IDENTITY_INFO, US_ASCII));
        assertEquals("fernet-jca/1 psk secret", new String(PskDerivation.SECRET_INFO, US_ASCII));
    }

    @Test
    void identityIsTheVersionLabelAnd32HexDigits() throws Exception {
        for (int i = 0; i < 50; i++) {
            assertTrue(PskDerivation.of(randomKey()).identityText().matches("fernet-jca-1-[0-9a-f]{32}"));
        }
    }

    @Test
    void distinctKeysGiveDistinctIdentitiesAndSecrets() throws Exception {
        Set<String> identities = new HashSet<>();
        Set<String> secrets = new HashSet<>();
        int count = 0;
        for (int i = 0; i < 200; i++) {
            byte[] keyBytes = new byte[32];
            RANDOM.nextBytes(keyBytes);
            count += addDerived(keyBytes, identities, secrets);
            // neighbours in one bit: the signing half and the encryption half both feed the derivation
            keyBytes[i % 32] ^= (byte) (1 << (i % 8));
            count += addDerived(keyBytes, identities, secrets);
        }
        assertEquals(count, identities.size());
        assertEquals(count, secrets.size());
    }

    @Test
    void identityNeverContainsKeyBytes() throws Exception {
        for (int i = 0; i < 200; i++) {
            byte[] keyBytes = new byte[32];
            RANDOM.nextBytes(keyBytes);
            PskDerivation psk = PskDerivation.of(key(keyBytes));
            byte[] identity = psk.identity();
            byte[] secret = psk.secret();
            String identityText = psk.identityText();
            String keyHex = HEX.formatHex(keyBytes);
            // 8-byte windows: shorter ones would match random ASCII now and then
            for (int at = 0; at + 8 <= keyBytes.length; at++) {
                byte[] window = Arrays.copyOfRange(keyBytes, at, at + 8);
                assertFalse(contains(identity, window), "identity holds raw key bytes");
                assertFalse(identityText.contains(keyHex.substring(2 * at, 2 * at + 16)), "identity holds key hex");
            }
            assertFalse(identityText.contains(base64(keyBytes).substring(0, 16)), "identity holds key base64");
            // the identity hash is not the start of the secret: the two labels give independent outputs
            byte[] identityHash = HEX.parseHex(identityText.substring("fernet-jca-1-".length()));
            assertFalse(Arrays.equals(identityHash, Arrays.copyOf(secret, identityHash.length)));
        }
    }

    @Test
    void toStringShowsNoSecretNorKey() throws Exception {
        byte[] keyBytes = Base64.getUrlDecoder().decode(SPEC_KEY);
        PskDerivation psk = PskDerivation.of(key(keyBytes));
        String secretHex = HEX.formatHex(psk.secret());
        for (String text : List.of(psk.toString(), destroyed(psk).toString())) {
            assertFalse(text.toLowerCase().contains(secretHex.substring(0, 8)), text);
            assertFalse(text.toLowerCase().contains(HEX.formatHex(keyBytes).substring(0, 8)), text);
            assertFalse(text.contains(SPEC_KEY.substring(0, 8)), text);
            assertTrue(text.contains(psk.identityText()), "the identity is public and names the key: " + text);
        }
        assertTrue(psk.toString().contains("destroyed"), psk.toString());
    }

    @Test
    void secretIsCopiedOut() throws Exception {
        PskDerivation psk = PskDerivation.of(randomKey());
        byte[] first = psk.secret();
        byte[] copy = first.clone();
        Arrays.fill(first, (byte) 0);
        assertArrayEquals(copy, psk.secret());
        byte[] identity = psk.identity();
        identity[0] ^= 1;
        assertNotEquals(new String(identity, US_ASCII), psk.identityText());
    }

    @Test
    void destroyWipesTheSecret() throws Exception {
        PskDerivation psk = PskDerivation.of(randomKey());
        byte[] held = heldSecret(psk);
        assertFalse(Arrays.equals(new byte[PskDerivation.SECRET_BYTES], held), "a secret of zeros before destroy");
        assertFalse(psk.isDestroyed());
        psk.destroy();
        assertTrue(psk.isDestroyed());
        assertArrayEquals(new byte[PskDerivation.SECRET_BYTES], held, "destroy left secret bytes in memory");
        IllegalStateException e = assertThrows(IllegalStateException.class, psk::secret);
        assertEquals("psk has been destroyed", e.getMessage());
        // the identity is public and stays, so that logs can still name the key
        assertTrue(psk.identityText().startsWith("fernet-jca-1-"));
    }

    @Test
    void ringDerivesEveryKeyInOrder() throws Exception {
        byte[] primary = new byte[32];
        byte[] older = new byte[32];
        RANDOM.nextBytes(primary);
        RANDOM.nextBytes(older);
        List<String> lines = FernetSocketFactory.externalPsks(FernetKeyRing.of(key(primary), key(older)));
        assertEquals(2, lines.size());
        assertEquals(FernetSocketFactory.externalPsks(key(primary)).get(0), lines.get(0));
        assertEquals(FernetSocketFactory.externalPsks(key(older)).get(0), lines.get(1));
    }

    private static int addDerived(byte[] keyBytes, Set<String> identities, Set<String> secrets) throws Exception {
        PskDerivation psk = PskDerivation.of(key(keyBytes));
        identities.add(psk.identityText());
        secrets.add(HEX.formatHex(psk.secret()));
        return 1;
    }

    /** HKDF-SHA256 of the key with our salt and {@code info}, computed by {@code openssl kdf}, as lower-case hex. */
    private static String opensslHkdf(Path openssl, byte[] keyBytes, String info, int length) throws Exception {
        String output = Processes.output(
                Duration.ofSeconds(10),
                openssl.toString(),
                "kdf",
                "-keylen",
                Integer.toString(length),
                "-kdfopt",
                "digest:SHA256",
                "-kdfopt",
                "hexkey:" + HEX.formatHex(keyBytes),
                "-kdfopt",
                "hexsalt:" + HEX.formatHex("fernet-jca/1 tls13 external psk".getBytes(US_ASCII)),
                "-kdfopt",
                "hexinfo:" + HEX.formatHex(info.getBytes(US_ASCII)),
                "HKDF");
        // openssl prints upper-case hex bytes separated by colons: C3:6E:...
        String hex = output.trim().replace(":", "").toLowerCase();
        assertTrue(hex.matches("[0-9a-f]{" + 2 * length + "}"), "unexpected openssl kdf output: " + output);
        return hex;
    }

    private static byte[] heldSecret(PskDerivation psk) throws ReflectiveOperationException {
        Field field = PskDerivation.class.getDeclaredField("secret");
        field.setAccessible(true);
        return (byte[]) field.get(psk);
    }

    private static PskDerivation destroyed(PskDerivation psk) {
        psk.destroy();
        return psk;
    }

    private static SecretKey key(byte[] keyBytes) throws GeneralSecurityException {
        FernetKeySpec spec = new FernetKeySpec(keyBytes);
        try {
            return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(spec);
        } finally {
            spec.destroy();
        }
    }

    private static SecretKey randomKey() {
        return SocketTestSupport.newKey();
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        for (int at = 0; at + needle.length <= haystack.length; at++) {
            if (Arrays.equals(haystack, at, at + needle.length, needle, 0, needle.length)) {
                return true;
            }
        }
        return false;
    }

    private static byte[] filled(byte value) {
        byte[] bytes = new byte[32];
        Arrays.fill(bytes, value);
        return bytes;
    }

    private static String base64(byte[] keyBytes) {
        return Base64.getUrlEncoder().encodeToString(keyBytes);
    }
}
