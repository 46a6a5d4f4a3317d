package dev.fernetjca.provider;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.AlgorithmParameters;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.spec.InvalidKeySpecException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The provider's JCA contract at its edges: the services a new provider registers, keys given as plain
 * {@code SecretKeySpec}s, wrapping every kind of key, the SPI's own checks behind the {@code Cipher} facade, what
 * {@code toString} shows, and what is wiped once used.
 */
class ProviderContractTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;

    private static SecretKey newKey() throws Exception {
        return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
    }

    @Test
    void aNewProviderRegistersEveryService() throws Exception {
        Provider fresh = new FernetProvider();
        for (String type : List.of("Cipher", "KeyGenerator", "SecretKeyFactory", "AlgorithmParameters")) {
            Provider.Service service = fresh.getService(type, "Fernet");
            assertNotNull(service, type);
            assertNotNull(service.newInstance(null), type);
        }
        Cipher cipher = Cipher.getInstance("Fernet", fresh);
        SecretKey key = KeyGenerator.getInstance("Fernet", fresh).generateKey();
        cipher.init(Cipher.ENCRYPT_MODE, key);
        byte[] token = cipher.doFinal("fresh".getBytes(UTF_8));
        cipher.init(
                Cipher.DECRYPT_MODE,
                SecretKeyFactory.getInstance("Fernet", fresh).translateKey(key));
        assertArrayEquals("fresh".getBytes(UTF_8), cipher.doFinal(token));
        assertNotNull(AlgorithmParameters.getInstance("Fernet", fresh));
    }

    @Test
    void aSecretKeySpecOfThirtyTwoBytesIsAKeyAndOfAnyOtherLengthIsNot() throws Exception {
        byte[] raw = newKey().getEncoded();
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(raw, "Fernet"));
        byte[] token = cipher.doFinal(new byte[3]);
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(raw, "fernet"));
        assertEquals(3, cipher.doFinal(token).length);

        InvalidKeyException shortKey = assertThrows(
                InvalidKeyException.class,
                () -> cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(Arrays.copyOf(raw, 16), "Fernet")));
        assertEquals("a Fernet key is 32 bytes, got 16", shortKey.getMessage());
        InvalidKeyException noEncoding =
                assertThrows(InvalidKeyException.class, () -> cipher.init(Cipher.ENCRYPT_MODE, new RawKey(null)));
        assertEquals("a Fernet key is 32 bytes, got 0", noEncoding.getMessage());
        InvalidKeyException otherAlgorithm = assertThrows(
                InvalidKeyException.class, () -> cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(raw, "AES")));
        assertEquals("key algorithm must be Fernet, got AES", otherAlgorithm.getMessage());

        SecretKeyFactory factory = SecretKeyFactory.getInstance("Fernet", PROVIDER);
        assertArrayEquals(
                raw, factory.generateSecret(new SecretKeySpec(raw, "Fernet")).getEncoded());
        InvalidKeySpecException spec = assertThrows(
                InvalidKeySpecException.class,
                () -> factory.generateSecret(new SecretKeySpec(Arrays.copyOf(raw, 31), "Fernet")));
        assertEquals("a Fernet key is 32 bytes, got 31", spec.getMessage());
        assertEquals(
                "Fernet keys come from a FernetKeySpec or a SecretKeySpec, got null",
                assertThrows(InvalidKeySpecException.class, () -> factory.generateSecret(null))
                        .getMessage());
        assertEquals(
                "Fernet keys come from a FernetKeySpec or a SecretKeySpec, got javax.crypto.spec.PBEKeySpec",
                assertThrows(
                                InvalidKeySpecException.class,
                                () -> factory.generateSecret(new PBEKeySpec("pw".toCharArray())))
                        .getMessage());
    }

    @Test
    void translateKeyCopiesAKeyAndKeepsARing() throws Exception {
        SecretKeyFactory factory = SecretKeyFactory.getInstance("Fernet", PROVIDER);
        byte[] raw = newKey().getEncoded();
        SecretKey translated = factory.translateKey(new SecretKeySpec(raw, "Fernet"));
        assertInstanceOf(FernetSecretKey.class, translated);
        assertArrayEquals(raw, translated.getEncoded());
        FernetKeyRing ring = FernetKeyRing.of(newKey(), newKey());
        assertSame(ring, factory.translateKey(ring));
        assertThrows(InvalidKeyException.class, () -> factory.translateKey(new SecretKeySpec(raw, "AES")));
    }

    /** A key whose encoding the test chooses, null included. */
    private record RawKey(byte[] encoded) implements SecretKey {
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
            return encoded == null ? null : encoded.clone();
        }
    }

    @Test
    void wrapsAndUnwrapsSecretPrivateAndPublicKeys() throws Exception {
        SecretKey key = newKey();
        Cipher wrap = Cipher.getInstance("Fernet", PROVIDER);
        wrap.init(Cipher.WRAP_MODE, key);
        Cipher unwrap = Cipher.getInstance("Fernet", PROVIDER);
        unwrap.init(Cipher.UNWRAP_MODE, key);

        KeyPair pair = KeyPairGenerator.getInstance("EC").generateKeyPair();
        Key privateKey = unwrap.unwrap(wrap.wrap(pair.getPrivate()), "EC", Cipher.PRIVATE_KEY);
        assertArrayEquals(pair.getPrivate().getEncoded(), privateKey.getEncoded());
        Key publicKey = unwrap.unwrap(wrap.wrap(pair.getPublic()), "EC", Cipher.PUBLIC_KEY);
        assertEquals(pair.getPublic(), publicKey);

        SecretKey aes = new SecretKeySpec(new byte[16], "AES");
        assertEquals(aes, unwrap.unwrap(wrap.wrap(aes), "AES", Cipher.SECRET_KEY));
        Key fernet = unwrap.unwrap(wrap.wrap(key), "Fernet", Cipher.SECRET_KEY);
        assertInstanceOf(FernetSecretKey.class, fernet);
        assertEquals(key, fernet);

        InvalidKeyException shortFernet = assertThrows(
                InvalidKeyException.class, () -> unwrap.unwrap(wrap.wrap(aes), "Fernet", Cipher.SECRET_KEY));
        assertEquals("a Fernet key is 32 bytes, got 16", shortFernet.getCause().getMessage());
        InvalidKeyException notAKey =
                assertThrows(InvalidKeyException.class, () -> unwrap.unwrap(wrap.wrap(aes), "EC", Cipher.PRIVATE_KEY));
        assertEquals("unwrapped bytes are not a EC key", notAKey.getMessage());
    }

    /** The {@code Cipher} facade checks its state before calling the SPI; the SPI must not rely on it. */
    @Test
    void theSpiRefusesUseBeforeInit() {
        FernetCipherSpi spi = new FernetCipherSpi();
        assertEquals(
                "cipher not initialized",
                assertThrows(IllegalStateException.class, () -> spi.engineUpdate(new byte[1], 0, 1))
                        .getMessage());
        assertThrows(IllegalStateException.class, () -> spi.engineDoFinal(new byte[1], 0, 1));
        // not initialized at all, rather than initialized for another mode
        assertEquals(
                "cipher not initialized",
                assertThrows(IllegalStateException.class, () -> spi.engineWrap(new SecretKeySpec(new byte[16], "AES")))
                        .getMessage());
        assertEquals(
                "cipher not initialized",
                assertThrows(
                                IllegalStateException.class,
                                () -> spi.engineUnwrap(new byte[100], "AES", Cipher.SECRET_KEY))
                        .getMessage());
        assertNull(spi.engineGetParameters());
    }

    @Test
    void wrapAndUnwrapBeforeInitOrInAnotherModeAreRefused() throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        SecretKey key = newKey();
        assertThrows(IllegalStateException.class, () -> cipher.wrap(key));
        assertThrows(IllegalStateException.class, () -> cipher.unwrap(new byte[100], "AES", Cipher.SECRET_KEY));
        cipher.init(Cipher.ENCRYPT_MODE, key);
        assertThrows(IllegalStateException.class, () -> cipher.wrap(key));
        cipher.init(Cipher.WRAP_MODE, key);
        assertThrows(IllegalStateException.class, () -> cipher.unwrap(new byte[100], "AES", Cipher.SECRET_KEY));
    }

    /** Only called by the JDK under a restricted crypto policy; still a key's true size, and a key check. */
    @Test
    void theSpiReportsTheKeySizeInBits() throws Exception {
        FernetCipherSpi spi = new FernetCipherSpi();
        assertEquals(256, spi.engineGetKeySize(newKey()));
        assertEquals(256, spi.engineGetKeySize(FernetKeyRing.of(newKey(), newKey())));
        assertThrows(InvalidKeyException.class, () -> spi.engineGetKeySize(new SecretKeySpec(new byte[16], "AES")));
    }

    @Test
    void nullAlgorithmParametersMeanTheDefaults() throws Exception {
        SecretKey key = newKey();
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, key, (AlgorithmParameters) null);
        byte[] token = cipher.doFinal(new byte[2]);
        cipher.init(Cipher.DECRYPT_MODE, key, (AlgorithmParameters) null);
        assertEquals(2, cipher.doFinal(token).length);
        assertEquals(
                "FernetParameterSpec[ttl=none, clock=" + Clock.systemUTC() + ", iv=random]",
                cipher.getParameters().toString());
    }

    @Test
    void toStringsShowTheShapeNeverTheKey() throws Exception {
        Clock clock = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
        assertEquals(
                "FernetParameterSpec[ttl=none, clock=" + clock + ", iv=random]",
                FernetParameterSpec.defaults().withClock(clock).toString());
        assertEquals(
                "FernetParameterSpec[ttl=30s, clock=" + clock + ", iv=fixed]",
                FernetParameterSpec.ttl(Duration.ofSeconds(30))
                        .withClock(clock)
                        .withIv(new byte[16])
                        .toString());
        FernetKeySpec spec = new FernetKeySpec(newKey().getEncoded());
        assertEquals("FernetKeySpec[32 bytes]", spec.toString());
        assertFalse(spec.isDestroyed());
        spec.destroy();
        assertTrue(spec.isDestroyed());
        assertEquals("FernetKeySpec[destroyed]", spec.toString());

        FernetKeyRing ring = FernetKeyRing.of(newKey(), newKey(), newKey());
        assertEquals("Fernet", ring.getAlgorithm());
        assertNull(ring.getFormat());
        assertNull(ring.getEncoded());
        assertFalse(ring.isDestroyed());
        assertEquals("FernetKeyRing[3 keys]", ring.toString());
        SecretKey key = newKey();
        assertFalse(key.isDestroyed());
        assertTrue(key.equals(key));

        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(
                Cipher.DECRYPT_MODE,
                key,
                FernetParameterSpec.ttl(Duration.ofSeconds(30)).withClock(clock));
        assertEquals(
                "FernetParameterSpec[ttl=30s, clock=" + clock + ", iv=random]",
                cipher.getParameters().toString());
    }

    @Test
    void destroyingASpecOrARingWipesItsBytes() throws Exception {
        SecretKey key = newKey();
        byte[] raw = key.getEncoded();
        FernetKeySpec spec = new FernetKeySpec(raw);
        assertFalse(KeyResidueTest.traces(spec, raw).isEmpty(), "the search must find the key while held");
        spec.destroy();
        assertEquals(List.of(), KeyResidueTest.traces(spec, raw));

        FernetKeyRing ring = FernetKeyRing.of(key, newKey());
        assertFalse(KeyResidueTest.traces(ring, raw).isEmpty(), "the search must find the key while held");
        ring.destroy();
        assertTrue(ring.isDestroyed());
        assertEquals(List.of(), KeyResidueTest.traces(ring, raw));
    }

    /** Buffered plaintext is wiped once doFinal used it, and by a re-init that drops it unused. */
    @Test
    void theCipherKeepsNoBufferedPlaintext() throws Exception {
        SecretKey key = newKey();
        // key-shaped plaintext, so that the residue search looks for it in every form
        byte[] secret = newKey().getEncoded();
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, key);
        cipher.update(secret, 0, 20);
        assertFalse(KeyResidueTest.traces(cipher, secret).isEmpty(), "the search must find buffered input");
        cipher.doFinal(secret, 20, 12);
        assertEquals(List.of(), KeyResidueTest.traces(cipher, secret));

        cipher.update(secret);
        cipher.init(Cipher.ENCRYPT_MODE, key);
        assertEquals(List.of(), KeyResidueTest.traces(cipher, secret));
    }

    @Test
    void rotationDrawsAFreshIvEachTime() throws Exception {
        SecretKey old = newKey();
        FernetKeyRing ring = FernetKeyRing.of(newKey(), old);
        byte[] token = Fernet.of(old).encrypt("rotate".getBytes(UTF_8));
        byte[] first = ring.rotate(token);
        byte[] second = ring.rotate(token);
        assertFalse(Arrays.equals(first, second), "two rotations of one token must differ in their IV");
        assertArrayEquals("rotate".getBytes(UTF_8), Fernet.of(ring).decrypt(second));
    }
}
