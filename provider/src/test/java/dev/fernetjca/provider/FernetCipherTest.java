package dev.fernetjca.provider;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Fernet Cipher as users call it, under whichever backend the build selects. */
class FernetCipherTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private static SecretKey newKey() throws Exception {
        return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
    }

    private static Cipher cipher(int mode, SecretKey key, FernetParameterSpec spec) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(mode, key, spec);
        return cipher;
    }

    private static Clock at(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    @Test
    void usesTheBackendTheBuildSelects() {
        String expected = System.getProperty("fernet.backend", "JDK");
        Engines engines = Engines.create();
        assertEquals(expected, Engines.backendName());
        if (expected.equals("BC")) {
            assertEquals("BC", engines.aes.getProvider().getName());
            assertEquals("BC", engines.hmac.getProvider().getName());
        } else {
            assertNotEquals("BC", engines.aes.getProvider().getName());
        }
    }

    @Test
    void anUnknownBackendFailsGetInstanceNamingTheProperty() {
        String before = System.getProperty("fernet.backend");
        System.setProperty("fernet.backend", "openssl");
        try {
            NoSuchAlgorithmException e =
                    assertThrows(NoSuchAlgorithmException.class, () -> Cipher.getInstance("Fernet", PROVIDER));
            assertTrue(e.getCause() instanceof ProviderException, String.valueOf(e.getCause()));
            assertTrue(
                    e.getCause().getMessage().contains("fernet.backend must be BC or JDK"),
                    e.getCause().getMessage());
            assertTrue(!e.getCause().getMessage().contains("openssl"), "the message repeats the value");
        } finally {
            if (before == null) {
                System.clearProperty("fernet.backend");
            } else {
                System.setProperty("fernet.backend", before);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15, 16, 17, 31, 32, 33, 1000, 65_536, 1 << 20})
    void roundTripsEverySize(int size) throws Exception {
        SecretKey key = newKey();
        byte[] plaintext = new byte[size];
        new Random(size).nextBytes(plaintext);
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, key, null);
        assertEquals(Token.tokenLength(size), encrypt.getOutputSize(size));
        byte[] token = encrypt.doFinal(plaintext);
        assertEquals(Token.tokenLength(size), token.length);
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, null);
        assertTrue(decrypt.getOutputSize(token.length) >= size);
        assertArrayEquals(plaintext, decrypt.doFinal(token));
    }

    @Test
    void updateBuffersAndReleasesNothingBeforeDoFinal() throws Exception {
        SecretKey key = newKey();
        byte[] plaintext = "attack at dawn, attack at dawn, attack at dawn".getBytes(UTF_8);
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, key, null);
        assertEquals(0, encrypt.update(plaintext, 0, 10).length);
        assertEquals(Token.tokenLength(plaintext.length), encrypt.getOutputSize(plaintext.length - 10));
        byte[] token = encrypt.doFinal(plaintext, 10, plaintext.length - 10);

        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, null);
        for (int i = 0; i < token.length - 1; i++) {
            byte[] out = decrypt.update(token, i, 1);
            assertTrue(out == null || out.length == 0, "update released bytes");
        }
        assertArrayEquals(plaintext, decrypt.doFinal(token, token.length - 1, 1));
        // the buffer is spent: the cipher is ready for the next token
        assertArrayEquals(plaintext, decrypt.doFinal(token));
    }

    @Test
    void everyTokenGetsAFreshIvAndGetIvReportsIt() throws Exception {
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, newKey(), null);
        assertNull(encrypt.getIV());
        byte[] first = encrypt.doFinal(new byte[8]);
        byte[] firstIv = encrypt.getIV();
        assertArrayEquals(Arrays.copyOfRange(Base64.getUrlDecoder().decode(first), 9, 25), firstIv);
        byte[] second = encrypt.doFinal(new byte[8]);
        assertFalse(Arrays.equals(firstIv, encrypt.getIV()));
        assertFalse(Arrays.equals(first, second));
    }

    @Test
    void secureRandomGivenToInitSuppliesTheIv() throws Exception {
        byte[] ivSource = new byte[16];
        Arrays.fill(ivSource, (byte) 0x5a);
        SecureRandom fixed = new SecureRandom() {
            private static final long serialVersionUID = 1L;

            @Override
            public void nextBytes(byte[] bytes) {
                System.arraycopy(ivSource, 0, bytes, 0, bytes.length);
            }
        };
        Cipher encrypt = Cipher.getInstance("Fernet", PROVIDER);
        encrypt.init(Cipher.ENCRYPT_MODE, newKey(), fixed);
        byte[] token = encrypt.doFinal(new byte[3]);
        assertArrayEquals(ivSource, Arrays.copyOfRange(Base64.getUrlDecoder().decode(token), 9, 25));
    }

    @Test
    void getParametersReportsTheTtlAndInitAcceptsThemBack() throws Exception {
        SecretKey key = newKey();
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, FernetParameterSpec.ttl(Duration.ofSeconds(30)));
        AlgorithmParameters parameters = decrypt.getParameters();
        assertEquals("Fernet", parameters.getAlgorithm());
        FernetParameterSpec spec = parameters.getParameterSpec(FernetParameterSpec.class);
        assertEquals(Duration.ofSeconds(30), spec.getTtl().orElseThrow());

        Cipher again = Cipher.getInstance("Fernet", PROVIDER);
        again.init(Cipher.DECRYPT_MODE, key, parameters);
        byte[] token = cipher(Cipher.ENCRYPT_MODE, key, null).doFinal(new byte[1]);
        assertArrayEquals(new byte[1], again.doFinal(token));
    }

    @Test
    void rejectsTokenOfAnotherKey() throws Exception {
        byte[] token = cipher(Cipher.ENCRYPT_MODE, newKey(), null).doFinal(new byte[5]);
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, newKey(), null);
        AEADBadTagException e = assertThrows(AEADBadTagException.class, () -> decrypt.doFinal(token));
        assertEquals("token authentication failed", e.getMessage());
        // a failure leaves the cipher usable
        assertThrows(AEADBadTagException.class, () -> decrypt.doFinal(token));
    }

    /** Timestamp 0 is a token's first second, not a sign of one from beyond the unsigned range. */
    @Test
    void aTokenDatedAtTheEpochIsJudgedByItsAge() throws Exception {
        SecretKey key = newKey();
        byte[] token = cipher(
                        Cipher.ENCRYPT_MODE, key, FernetParameterSpec.defaults().withClock(at(Instant.EPOCH)))
                .doFinal(new byte[3]);
        Duration age = Duration.ofSeconds(NOW.getEpochSecond());
        assertEquals(
                3,
                cipher(Cipher.DECRYPT_MODE, key, FernetParameterSpec.ttl(age).withClock(at(NOW)))
                        .doFinal(token)
                        .length);
        AEADBadTagException expired = assertThrows(
                AEADBadTagException.class,
                () -> cipher(
                                Cipher.DECRYPT_MODE,
                                key,
                                FernetParameterSpec.ttl(age.minusSeconds(1)).withClock(at(NOW)))
                        .doFinal(token));
        assertEquals("token expired", expired.getMessage());
    }

    /** A TTL so long that timestamp plus TTL overflows means "never expires", not "expired long ago". */
    @Test
    void aTtlTooLongToAddNeverExpiresAToken() throws Exception {
        SecretKey key = newKey();
        byte[] token = cipher(
                        Cipher.ENCRYPT_MODE, key, FernetParameterSpec.defaults().withClock(at(NOW)))
                .doFinal(new byte[3]);
        FernetParameterSpec forever =
                FernetParameterSpec.ttl(Duration.ofSeconds(Long.MAX_VALUE)).withClock(at(NOW));
        assertEquals(3, cipher(Cipher.DECRYPT_MODE, key, forever).doFinal(token).length);
    }

    @Test
    void ttlRejectsExpiredAndFutureTokensAndAcceptsBothBoundaries() throws Exception {
        SecretKey key = newKey();
        byte[] token = cipher(
                        Cipher.ENCRYPT_MODE, key, FernetParameterSpec.defaults().withClock(at(NOW)))
                .doFinal(new byte[4]);
        FernetParameterSpec ttl = FernetParameterSpec.ttl(Duration.ofSeconds(100));
        assertEquals(
                4,
                cipher(Cipher.DECRYPT_MODE, key, ttl.withClock(at(NOW.plusSeconds(100))))
                        .doFinal(token)
                        .length);
        AEADBadTagException expired = assertThrows(
                AEADBadTagException.class,
                () -> cipher(Cipher.DECRYPT_MODE, key, ttl.withClock(at(NOW.plusSeconds(101))))
                        .doFinal(token));
        assertEquals("token expired", expired.getMessage());
        assertEquals(
                4,
                cipher(Cipher.DECRYPT_MODE, key, ttl.withClock(at(NOW.minusSeconds(60))))
                        .doFinal(token)
                        .length);
        assertThrows(
                AEADBadTagException.class,
                () -> cipher(Cipher.DECRYPT_MODE, key, ttl.withClock(at(NOW.minusSeconds(61))))
                        .doFinal(token));
        // no ttl, no time check
        assertEquals(
                4,
                cipher(
                                Cipher.DECRYPT_MODE,
                                key,
                                FernetParameterSpec.defaults().withClock(at(NOW.plus(Duration.ofDays(3650)))))
                        .doFinal(token)
                        .length);
    }

    @Test
    void rejectsKeysThatAreNotFernetKeys() throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        InvalidKeyException wrongAlgorithm = assertThrows(
                InvalidKeyException.class,
                () -> cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(new byte[32], "AES")));
        assertTrue(wrongAlgorithm.getMessage().contains("AES"));
        assertThrows(
                InvalidKeyException.class,
                () -> cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(new byte[16], "Fernet")));
        SecretKey destroyed = newKey();
        destroyed.destroy();
        assertThrows(InvalidKeyException.class, () -> cipher.init(Cipher.ENCRYPT_MODE, destroyed));
        // a 32-byte SecretKeySpec named Fernet is accepted
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(new byte[32], "Fernet"));
    }

    @Test
    void rejectsForeignAndInconsistentParameters() throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        SecretKey key = newKey();
        assertThrows(
                InvalidAlgorithmParameterException.class,
                () -> cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(new byte[16])));
        assertThrows(
                InvalidAlgorithmParameterException.class,
                () -> cipher.init(
                        Cipher.DECRYPT_MODE, key, FernetParameterSpec.defaults().withIv(new byte[16])));
        assertThrows(IllegalArgumentException.class, () -> FernetParameterSpec.ttl(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> FernetParameterSpec.ttl(Duration.ofMillis(1500)));
        assertThrows(
                IllegalArgumentException.class,
                () -> FernetParameterSpec.defaults().withIv(new byte[15]));
        assertThrows(NoSuchAlgorithmException.class, () -> Cipher.getInstance("Fernet/CBC/NoPadding", PROVIDER));
    }

    @Test
    void usingAnUninitializedCipherFailsClearly() throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        assertThrows(IllegalStateException.class, () -> cipher.doFinal(new byte[1]));
    }

    @Test
    void doFinalIntoABufferChecksItsRoom() throws Exception {
        SecretKey key = newKey();
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, key, null);
        byte[] plaintext = "twelve bytes".getBytes(UTF_8);
        byte[] small = new byte[10];
        assertThrows(ShortBufferException.class, () -> encrypt.doFinal(plaintext, 0, plaintext.length, small, 0));
        byte[] out = new byte[encrypt.getOutputSize(plaintext.length) + 3];
        int tokenLength = encrypt.doFinal(plaintext, 0, plaintext.length, out, 3);
        byte[] token = Arrays.copyOfRange(out, 3, 3 + tokenLength);

        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, null);
        byte[] plain = new byte[decrypt.getOutputSize(token.length)];
        int n = decrypt.doFinal(token, 0, token.length, plain, 0);
        assertArrayEquals(plaintext, Arrays.copyOf(plain, n));
    }

    @Test
    void shortBufferOnDecryptionKeepsTheBufferedTokenForARetry() throws Exception {
        SecretKey key = newKey();
        byte[] token = cipher(Cipher.ENCRYPT_MODE, key, null).doFinal("kept for the retry".getBytes(UTF_8));
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, null);
        decrypt.update(token, 0, token.length - 4);
        assertThrows(ShortBufferException.class, () -> decrypt.doFinal(token, token.length - 4, 4, new byte[5], 0));
        byte[] out = new byte[decrypt.getOutputSize(4)];
        int n = decrypt.doFinal(token, token.length - 4, 4, out, 0);
        assertArrayEquals("kept for the retry".getBytes(UTF_8), Arrays.copyOf(out, n));
    }

    @Test
    void byteBufferApiWorks() throws Exception {
        SecretKey key = newKey();
        byte[] plaintext = "through byte buffers".getBytes(UTF_8);
        Cipher encrypt = cipher(Cipher.ENCRYPT_MODE, key, null);
        ByteBuffer tokenBuffer = ByteBuffer.allocate(encrypt.getOutputSize(plaintext.length));
        encrypt.doFinal(ByteBuffer.wrap(plaintext), tokenBuffer);
        tokenBuffer.flip();
        Cipher decrypt = cipher(Cipher.DECRYPT_MODE, key, null);
        ByteBuffer plain = ByteBuffer.allocateDirect(decrypt.getOutputSize(tokenBuffer.remaining()));
        decrypt.doFinal(tokenBuffer, plain);
        plain.flip();
        byte[] result = new byte[plain.remaining()];
        plain.get(result);
        assertArrayEquals(plaintext, result);
    }

    @Test
    void wrapsAndUnwrapsKeys() throws Exception {
        SecretKey wrapping = newKey();
        SecretKey aes = new SecretKeySpec(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "AES");
        Cipher wrap = cipher(Cipher.WRAP_MODE, wrapping, null);
        byte[] wrapped = wrap.wrap(aes);
        Cipher unwrap = cipher(Cipher.UNWRAP_MODE, wrapping, null);
        assertEquals(aes, unwrap.unwrap(wrapped, "AES", Cipher.SECRET_KEY));

        SecretKey fernetKey = newKey();
        SecretKey unwrappedFernet = (SecretKey) unwrap.unwrap(wrap.wrap(fernetKey), "Fernet", Cipher.SECRET_KEY);
        assertArrayEquals(fernetKey.getEncoded(), unwrappedFernet.getEncoded());

        wrapped[wrapped.length / 2] ^= 1;
        assertThrows(InvalidKeyException.class, () -> unwrap.unwrap(wrapped, "AES", Cipher.SECRET_KEY));
    }

    @Test
    void keyRingEncryptsWithPrimaryAndDecryptsWithAny() throws Exception {
        SecretKey oldKey = newKey();
        SecretKey newKey = newKey();
        byte[] oldToken = cipher(
                        Cipher.ENCRYPT_MODE,
                        oldKey,
                        FernetParameterSpec.defaults().withClock(at(NOW)))
                .doFinal("old".getBytes(UTF_8));
        FernetKeyRing ring = FernetKeyRing.of(newKey, oldKey);
        assertEquals(2, ring.size());
        assertArrayEquals(
                "old".getBytes(UTF_8), cipher(Cipher.DECRYPT_MODE, ring, null).doFinal(oldToken));
        byte[] ringToken = cipher(Cipher.ENCRYPT_MODE, ring, null).doFinal("new".getBytes(UTF_8));
        assertArrayEquals(
                "new".getBytes(UTF_8), cipher(Cipher.DECRYPT_MODE, newKey, null).doFinal(ringToken));
        assertThrows(
                AEADBadTagException.class,
                () -> cipher(Cipher.DECRYPT_MODE, oldKey, null).doFinal(ringToken));

        byte[] rotated = ring.rotate(oldToken);
        assertArrayEquals(
                "old".getBytes(UTF_8), cipher(Cipher.DECRYPT_MODE, newKey, null).doFinal(rotated));
        assertEquals(NOW, Fernet.of(newKey).extractTimestamp(rotated));
        assertThrows(AEADBadTagException.class, () -> FernetKeyRing.of(newKey).rotate(oldToken));
    }

    @Test
    void keyRingHoldsCopiesAndDestroysThem() throws Exception {
        SecretKey key = newKey();
        FernetKeyRing ring = FernetKeyRing.of(key);
        key.destroy();
        byte[] token = cipher(Cipher.ENCRYPT_MODE, ring, null).doFinal(new byte[2]);
        assertEquals(2, cipher(Cipher.DECRYPT_MODE, ring, null).doFinal(token).length);
        assertNull(ring.getEncoded());
        ring.destroy();
        assertTrue(ring.isDestroyed());
        assertThrows(InvalidKeyException.class, () -> cipher(Cipher.DECRYPT_MODE, ring, null));
        assertThrows(IllegalArgumentException.class, () -> FernetKeyRing.of(new SecretKeySpec(new byte[32], "AES")));
    }

    @Test
    void tokenIsUsAsciiUrlSafeBase64WithPadding() throws Exception {
        for (int size = 0; size < 40; size++) {
            byte[] token = cipher(Cipher.ENCRYPT_MODE, newKey(), null).doFinal(new byte[size]);
            String text = new String(token, US_ASCII);
            assertTrue(text.matches("[A-Za-z0-9_-]+={0,2}"), text);
            assertEquals(0, text.length() % 4);
            assertTrue(text.startsWith("gAAAAA"));
        }
    }
}
