package dev.fernetjca.provider;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The pool of scrubbed primitives that {@link Fernet} and {@link FernetKeyRing#rotate} borrow for each call: what
 * comes back holds no key (its HMAC and AES compute with the all-zero key), whatever the call's outcome; it is reused;
 * it is bounded; and a change of backend never hands out the other backend's primitives.
 */
class EnginesPoolTest {
    private static final byte[] MESSAGE = "pooled".getBytes(UTF_8);

    @Test
    void everyCallGivesBackPrimitivesKeyedWithZerosOnly() throws Exception {
        SecretKey keyA =
                KeyGenerator.getInstance("Fernet", TestVectors.PROVIDER).generateKey();
        SecretKey keyB =
                KeyGenerator.getInstance("Fernet", TestVectors.PROVIDER).generateKey();
        Fernet fernet = Fernet.of(keyA);
        Fernet rotating = Fernet.of(FernetKeyRing.of(keyB, keyA));
        byte[] token = fernet.encrypt(MESSAGE);
        assertOnlyZeroKeyedIdle(keyA, "encrypt");
        assertArrayEquals(MESSAGE, fernet.decrypt(token));
        assertOnlyZeroKeyedIdle(keyA, "decrypt");
        fernet.extractTimestamp(token);
        assertOnlyZeroKeyedIdle(keyA, "extractTimestamp");
        byte[] rotated = rotating.rotate(token);
        assertOnlyZeroKeyedIdle(keyA, "rotate");
        assertOnlyZeroKeyedIdle(keyB, "rotate");
        byte[] forged = rotated.clone();
        forged[forged.length - 5] ^= 1; // in the tag's base64
        assertThrows(AEADBadTagException.class, () -> rotating.decrypt(forged));
        assertOnlyZeroKeyedIdle(keyB, "failed decrypt");
    }

    @Test
    void failedDecryptGivesItsPrimitivesBackScrubbed() throws Exception {
        SecretKey key = KeyGenerator.getInstance("Fernet", TestVectors.PROVIDER).generateKey();
        Fernet fernet = Fernet.of(key);
        byte[] token = fernet.encrypt(MESSAGE);
        byte[] forged = token.clone();
        forged[forged.length - 5] ^= 1;
        drainCurrentBackend();

        assertThrows(AEADBadTagException.class, () -> fernet.decrypt(forged));
        List<Engines> idle = idleOfCurrentBackend();
        assertEquals(1, idle.size(), "the failed call's primitives are back");
        assertZeroKeyed(idle.get(0));
        assertEquals(List.of(), KeyResidueTest.traces(idle.get(0), key.getEncoded()));

        assertArrayEquals(MESSAGE, fernet.decrypt(token));
        assertEquals(1, idleOfCurrentBackend().size());
        assertSame(idle.get(0), idleOfCurrentBackend().get(0), "the next call reuses them");
    }

    @Test
    void eachKindOfCallGivesBackWhatItBorrowed() throws Exception {
        SecretKey key = newKey();
        Fernet fernet = Fernet.of(FernetKeyRing.of(key, newKey()));
        byte[] token = fernet.encrypt(MESSAGE);
        drainCurrentBackend();
        List<ThrowingCall> calls = List.of(
                () -> fernet.encrypt(MESSAGE),
                () -> fernet.decrypt(token),
                () -> fernet.decrypt(token, Duration.ofMinutes(1)),
                () -> fernet.extractTimestamp(token),
                () -> fernet.rotate(token));
        Engines first = null;
        for (ThrowingCall call : calls) {
            call.run();
            List<Engines> idle = idleOfCurrentBackend();
            assertEquals(1, idle.size(), "one call borrows one and gives it back");
            first = first == null ? idle.get(0) : first;
            assertSame(first, idle.get(0), "and the next call reuses it");
            assertZeroKeyed(first);
        }
    }

    @Test
    void wipingTwiceGivesBackOnce() {
        drainCurrentBackend();
        SecretKey key = newKey();
        TokenEngine engine = TokenEngine.ofChecked(key);
        engine.encrypt(MESSAGE, 0, MESSAGE.length, 1L, new byte[16]);
        engine.wipe();
        engine.wipe();
        assertEquals(1, idleOfCurrentBackend().size());
        assertEquals(List.of(), KeyResidueTest.traces(engine, key.getEncoded()));
    }

    @Test
    void keepsNoMoreThanTheLimit() {
        drainCurrentBackend();
        for (int i = 0; i < Engines.IDLE_LIMIT + 3; i++) {
            Engines.giveBack(Engines.create());
        }
        assertEquals(Engines.IDLE_LIMIT, idleOfCurrentBackend().size());
        drainCurrentBackend();
    }

    @Test
    void aChangedBackendNeverGetsTheOtherBackendsPrimitives() throws Exception {
        String configured = System.getProperty(Engines.BACKEND_PROPERTY);
        String current = Engines.backendName();
        String other = current.equals("BC") ? "JDK" : "BC";
        Fernet fernet = Fernet.of(Fernet.generateKey());
        byte[] token = fernet.encrypt(MESSAGE); // leaves the current backend's primitives idle
        String currentProvider = Engines.borrow().hmac.getProvider().getName();
        fernet.encrypt(MESSAGE);
        try {
            System.setProperty(Engines.BACKEND_PROPERTY, other);
            for (int i = idleOfOtherBackends(currentProvider); i > 0; i--) {
                Engines.borrow(); // so that the next call makes its own
            }
            assertArrayEquals(MESSAGE, fernet.decrypt(token));
            Engines borrowed = Engines.borrow();
            assertNotEquals(currentProvider, borrowed.hmac.getProvider().getName());
            Engines.giveBack(borrowed);
        } finally {
            if (configured == null) {
                System.clearProperty(Engines.BACKEND_PROPERTY);
            } else {
                System.setProperty(Engines.BACKEND_PROPERTY, configured);
            }
        }
        assertTrue(idleOfOtherBackends(currentProvider) > 0, "the other backend's primitives were pooled");
        for (int i = 0; i < 3; i++) {
            assertEquals(currentProvider, Engines.borrow().hmac.getProvider().getName());
        }
    }

    @Test
    void concurrentCallsWithDifferentKeysNeverShareAnEngine() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int task = 0; task < 8; task++) {
                Fernet fernet = Fernet.of(Fernet.generateKey()); // a primitive keyed by another task fails the tag
                byte[] message = ("task " + task).getBytes(UTF_8);
                results.add(threads.submit(() -> {
                    for (int i = 0; i < 300; i++) {
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
            threads.shutdownNow();
        }
        assertTrue(idleOfCurrentBackend().size() <= Engines.IDLE_LIMIT);
        for (Engines idle : Engines.idle()) {
            assertZeroKeyed(idle);
        }
    }

    private static SecretKey newKey() {
        try {
            return KeyGenerator.getInstance("Fernet", TestVectors.PROVIDER).generateKey();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /** Checks that some primitives are idle and that all of them compute under zeros and hold no form of the key. */
    private static void assertOnlyZeroKeyedIdle(SecretKey key, String after) throws GeneralSecurityException {
        List<Engines> idle = Engines.idle();
        assertFalse(idle.isEmpty(), "primitives idle after " + after);
        for (Engines engines : idle) {
            assertZeroKeyed(engines);
            assertEquals(List.of(), KeyResidueTest.traces(engines, key.getEncoded()), "after " + after);
        }
    }

    /** Checks that the Mac and both ciphers compute under the all-zero key, against the platform's own primitives. */
    private static void assertZeroKeyed(Engines engines) throws GeneralSecurityException {
        byte[] zeros = new byte[16];
        Mac reference = Mac.getInstance("HmacSHA256");
        reference.init(new SecretKeySpec(zeros, "HmacSHA256"));
        assertArrayEquals(reference.doFinal(MESSAGE), engines.hmac.doFinal(MESSAGE));

        Cipher aes = Cipher.getInstance("AES/CBC/NoPadding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(zeros, "AES"), new IvParameterSpec(zeros));
        byte[] block = Arrays.copyOf(MESSAGE, 16);
        byte[] expected = aes.doFinal(block);
        assertArrayEquals(expected, Arrays.copyOf(engines.aes.doFinal(block), 16));
        assertArrayEquals(block, engines.aesNoPadding.doFinal(expected));
    }

    private static List<Engines> idleOfCurrentBackend() {
        String provider = Engines.create().hmac.getProvider().getName();
        List<Engines> result = new ArrayList<>();
        for (Engines engines : Engines.idle()) {
            if (engines.hmac.getProvider().getName().equals(provider)) {
                result.add(engines);
            }
        }
        return result;
    }

    private static int idleOfOtherBackends(String provider) {
        int count = 0;
        for (Engines engines : Engines.idle()) {
            if (!engines.hmac.getProvider().getName().equals(provider)) {
                count++;
            }
        }
        return count;
    }

    private static void drainCurrentBackend() {
        for (int i = idleOfCurrentBackend().size(); i > 0; i--) {
            Engines.borrow();
        }
        assertEquals(List.of(), idleOfCurrentBackend());
    }

    /** A call of the class under test. */
    private interface ThrowingCall {
        void run() throws Exception;
    }
}
