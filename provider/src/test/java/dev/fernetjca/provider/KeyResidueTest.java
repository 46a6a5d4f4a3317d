package dev.fernetjca.provider;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.security.Provider;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

/**
 * After a Cipher moves on to another key, nothing inside it may still hold the old one: not our key copies, and not
 * the state of the AES and HMAC primitives under it (a JCE Mac keeps its padded key until its next init). Searches the
 * Cipher's whole object graph, under whichever backend the build selects, for the old key in every form those
 * primitives keep it: raw, XORed with HMAC's pads, and as the first words of an AES key schedule. The surefire
 * configuration opens the JDK's crypto packages to this test.
 */
class KeyResidueTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;

    @Test
    void reinitialisingWithAnotherKeyLeavesNoTraceOfTheFirst() throws Exception {
        SecretKey first = KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        SecretKey second = KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, first);
        byte[] token = cipher.doFinal("residue".getBytes(UTF_8));
        cipher.init(Cipher.DECRYPT_MODE, first);
        assertArrayEquals("residue".getBytes(UTF_8), cipher.doFinal(token));
        List<String> whileInUse = traces(cipher, first.getEncoded());
        assertFalse(whileInUse.isEmpty(), "the search must find the key while the cipher holds it");

        cipher.init(Cipher.DECRYPT_MODE, second);
        assertEquals(List.of(), traces(cipher, first.getEncoded()));
    }

    @Test
    void fernetCallsLeaveNoKeyInTheirPrimitives() throws Exception {
        SecretKey key = KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        TokenEngine engine = TokenEngine.ofChecked(key);
        byte[] token = engine.encrypt(new byte[40], 0, 40, 1L, new byte[16]);
        engine.decrypt(token, 0, token.length, FernetParameterSpec.defaults());
        assertFalse(traces(engine, key.getEncoded()).isEmpty(), "the search must find the key while in use");

        engine.wipe();
        assertEquals(List.of(), traces(engine, key.getEncoded()));
        assertEquals(List.of(), traces(Engines.idle(), key.getEncoded()), "the primitives, back in the pool");
    }

    /** Returns where in {@code root}'s object graph a form of {@code key} (signing key || encryption key) lies. */
    static List<String> traces(Object root, byte[] key) {
        byte[] signingKey = Arrays.copyOfRange(key, 0, 16);
        byte[] encryptionKey = Arrays.copyOfRange(key, 16, 32);
        List<byte[]> byteForms = List.of(signingKey, encryptionKey, xor(signingKey, 0x36), xor(signingKey, 0x5c));
        List<int[]> wordForms = List.of(
                words(encryptionKey, false),
                words(encryptionKey, true),
                words(signingKey, false),
                words(signingKey, true));
        List<String> found = new ArrayList<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Object[]> pending = new ArrayDeque<>();
        pending.push(new Object[] {root, root.getClass().getSimpleName()});
        while (!pending.isEmpty()) {
            Object[] next = pending.pop();
            Object object = next[0];
            String path = (String) next[1];
            if (object == null || !seen.add(object)) {
                continue;
            }
            if (object instanceof byte[] bytes) {
                byteForms.stream()
                        .filter(form -> contains(bytes, form))
                        .findAny()
                        .ifPresent(form -> found.add(path));
            } else if (object instanceof int[] ints) {
                wordForms.stream()
                        .filter(form -> contains(ints, form))
                        .findAny()
                        .ifPresent(form -> found.add(path));
            } else if (object instanceof Object[] array) {
                for (int i = 0; i < array.length; i++) {
                    pending.push(new Object[] {array[i], path + "[" + i + "]"});
                }
            } else if (object instanceof Collection<?> collection && !(object instanceof Provider)) {
                int i = 0;
                for (Object element : collection) {
                    pending.push(new Object[] {element, path + "{" + i++ + "}"});
                }
            } else if (object instanceof Map<?, ?> map && !(object instanceof Provider)) {
                map.forEach((k, v) -> pending.push(new Object[] {v, path + "{" + k + "}"}));
            } else if (worthEntering(object.getClass())) {
                for (Class<?> type = object.getClass(); type != null; type = type.getSuperclass()) {
                    for (Field field : type.getDeclaredFields()) {
                        if (Modifier.isStatic(field.getModifiers())
                                || field.getType().isPrimitive()
                                || !field.trySetAccessible()) {
                            continue;
                        }
                        try {
                            pending.push(new Object[] {field.get(object), path + "." + field.getName()});
                        } catch (IllegalAccessException e) {
                            throw new AssertionError(e);
                        }
                    }
                }
            }
        }
        return found;
    }

    /** Enters the classes that can hold key state; not providers, class loaders or threads. */
    private static boolean worthEntering(Class<?> type) {
        if (Provider.class.isAssignableFrom(type)) {
            return false;
        }
        String name = type.getName();
        return name.startsWith("dev.fernetjca.")
                || name.startsWith("javax.crypto.")
                || name.startsWith("com.sun.crypto.provider.")
                || name.startsWith("sun.security.provider.")
                || name.startsWith("java.security.MessageDigest")
                || name.startsWith("org.bouncycastle.");
    }

    private static byte[] xor(byte[] bytes, int pad) {
        byte[] result = bytes.clone();
        for (int i = 0; i < result.length; i++) {
            result[i] ^= (byte) pad;
        }
        return result;
    }

    private static int[] words(byte[] bytes, boolean littleEndian) {
        int[] result = new int[bytes.length / 4];
        for (int i = 0; i < result.length; i++) {
            int b0 = bytes[4 * i] & 0xff;
            int b1 = bytes[4 * i + 1] & 0xff;
            int b2 = bytes[4 * i + 2] & 0xff;
            int b3 = bytes[4 * i + 3] & 0xff;
            result[i] = littleEndian ? b0 | b1 << 8 | b2 << 16 | b3 << 24 : b0 << 24 | b1 << 16 | b2 << 8 | b3;
        }
        return result;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return true;
            }
        }
        return false;
    }

    private static boolean contains(int[] haystack, int[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return true;
            }
        }
        return false;
    }
}
