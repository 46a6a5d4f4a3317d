package dev.fernetjca.provider;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

/** The convenience class, with Python's names and meanings. */
class FernetTest {

    @Test
    void generatedKeyIsPythonShaped() {
        String key = Fernet.generateKey();
        assertEquals(44, key.length());
        assertTrue(key.endsWith("="));
        assertEquals(32, Base64.getUrlDecoder().decode(key).length);
    }

    @Test
    void encryptsAndDecryptsWithAndWithoutTtl() throws Exception {
        Fernet fernet = Fernet.of(Fernet.generateKey());
        byte[] token = fernet.encrypt("hi".getBytes(UTF_8));
        assertArrayEquals("hi".getBytes(UTF_8), fernet.decrypt(token));
        assertArrayEquals("hi".getBytes(UTF_8), fernet.decrypt(token, Duration.ofSeconds(60)));
        Instant stamp = fernet.extractTimestamp(token);
        assertTrue(Duration.between(stamp, Instant.now()).abs().getSeconds() <= 2);
    }

    @Test
    void expiredTokenIsRejected() throws Exception {
        SecretKey key = KeyGenerator.getInstance("Fernet", TestVectors.PROVIDER).generateKey();
        Cipher cipher = Cipher.getInstance("Fernet", TestVectors.PROVIDER);
        cipher.init(
                Cipher.ENCRYPT_MODE,
                key,
                FernetParameterSpec.defaults()
                        .withClock(Clock.fixed(Instant.now().minusSeconds(100), ZoneOffset.UTC)));
        byte[] old = cipher.doFinal(new byte[1]);
        Fernet fernet = Fernet.of(key);
        assertThrows(AEADBadTagException.class, () -> fernet.decrypt(old, Duration.ofSeconds(10)));
        assertEquals(1, fernet.decrypt(old, Duration.ofSeconds(1000)).length);
        assertEquals(1, fernet.decrypt(old).length);
    }

    @Test
    void multiFernetDecryptsOldTokensAndRotatesThem() throws Exception {
        String oldKey = Fernet.generateKey();
        String newKey = Fernet.generateKey();
        byte[] oldToken = Fernet.of(oldKey).encrypt("payload".getBytes(UTF_8));
        Fernet multi = Fernet.of(newKey, oldKey);
        assertArrayEquals("payload".getBytes(UTF_8), multi.decrypt(oldToken));
        byte[] rotated = multi.rotate(oldToken);
        assertArrayEquals("payload".getBytes(UTF_8), Fernet.of(newKey).decrypt(rotated));
        assertEquals(
                Fernet.of(oldKey).extractTimestamp(oldToken), Fernet.of(newKey).extractTimestamp(rotated));
        assertThrows(AEADBadTagException.class, () -> Fernet.of(oldKey).decrypt(multi.encrypt(new byte[1])));
        assertThrows(AEADBadTagException.class, () -> Fernet.of(newKey).extractTimestamp(oldToken));
        assertEquals("Fernet[2 keys]", multi.toString());
    }

    @Test
    void isSafeToShareAcrossThreads() throws Exception {
        Fernet fernet = Fernet.of(Fernet.generateKey());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int task = 0; task < 16; task++) {
                byte[] message = ("message " + task).getBytes(UTF_8);
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        if (!Arrays.equals(message, fernet.decrypt(fernet.encrypt(message)))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badKeysFailClearly() {
        assertThrows(IllegalArgumentException.class, () -> Fernet.of("not a key"));
        assertThrows(IllegalArgumentException.class, () -> Fernet.of(Fernet.generateKey(), "short"));
    }

    /** Python's Fernet and MultiFernet.rotate draw a fresh random IV for every token; so must we. */
    @Test
    void encryptAndRotateDrawAFreshIvForEveryToken() throws Exception {
        Fernet fernet = Fernet.of(Fernet.generateKey(), Fernet.generateKey());
        byte[] data = "same data".getBytes(UTF_8);
        byte[] token = fernet.encrypt(data);
        List<String> ivs = new ArrayList<>(List.of(iv(token), iv(fernet.encrypt(data))));
        ivs.add(iv(fernet.rotate(token)));
        ivs.add(iv(fernet.rotate(token)));
        assertEquals(ivs.size(), ivs.stream().distinct().count(), "an IV came twice: " + ivs);
        assertTrue(ivs.stream().noneMatch(iv -> iv.equals("0".repeat(32))), "an IV of zeros: " + ivs);
    }

    private static String iv(byte[] token) {
        byte[] raw = Base64.getUrlDecoder().decode(token);
        StringBuilder hex = new StringBuilder();
        for (int i = 9; i < 25; i++) {
            hex.append(String.format("%02x", raw[i]));
        }
        return hex.toString();
    }
}
