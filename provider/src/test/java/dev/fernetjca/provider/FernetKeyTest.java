package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.security.InvalidParameterException;
import java.security.spec.InvalidKeySpecException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Keys, key specs, the KeyGenerator and the SecretKeyFactory; and that no key ever shows in text. */
class FernetKeyTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final String PYTHON_KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

    @Test
    void keyGeneratorMakes256BitKeysOnly() throws Exception {
        KeyGenerator generator = KeyGenerator.getInstance("Fernet", PROVIDER);
        SecretKey first = generator.generateKey();
        assertEquals("Fernet", first.getAlgorithm());
        assertEquals("RAW", first.getFormat());
        assertEquals(32, first.getEncoded().length);
        assertFalse(Arrays.equals(first.getEncoded(), generator.generateKey().getEncoded()));
        generator.init(256);
        assertThrows(InvalidParameterException.class, () -> generator.init(128));
    }

    @Test
    void factoryConvertsBothWays() throws Exception {
        SecretKeyFactory factory = SecretKeyFactory.getInstance("Fernet", PROVIDER);
        SecretKey key = factory.generateSecret(new FernetKeySpec(PYTHON_KEY));
        assertArrayEquals(Base64.getUrlDecoder().decode(PYTHON_KEY), key.getEncoded());
        FernetKeySpec spec = (FernetKeySpec) factory.getKeySpec(key, FernetKeySpec.class);
        assertEquals(PYTHON_KEY, spec.toBase64());
        SecretKeySpec raw = (SecretKeySpec) factory.getKeySpec(key, SecretKeySpec.class);
        assertEquals("Fernet", raw.getAlgorithm());
        assertEquals(key, factory.generateSecret(raw));
        assertEquals(key, factory.generateSecret(new SecretKeySpec(key.getEncoded(), "AnyName")));
        assertEquals(key, factory.translateKey(raw));
        assertThrows(InvalidKeySpecException.class, () -> factory.generateSecret(new SecretKeySpec(new byte[16], "X")));
        assertThrows(InvalidKeySpecException.class, () -> factory.generateSecret(new PBEKeySpec(new char[4])));
        assertThrows(
                InvalidKeySpecException.class,
                () -> factory.getKeySpec(FernetKeyRing.of(key, key), FernetKeySpec.class));
    }

    @Test
    void keySpecReadsOnlyStrictKeyStrings() {
        assertEquals(PYTHON_KEY, new FernetKeySpec(PYTHON_KEY).toBase64());
        List<String> bad = List.of(
                "",
                PYTHON_KEY + "\n",
                " " + PYTHON_KEY,
                PYTHON_KEY.substring(0, 43),
                PYTHON_KEY.replace('_', '/'),
                PYTHON_KEY.substring(0, 43) + "A",
                Base64.getUrlEncoder().encodeToString(new byte[31]) + "AAAA");
        for (String text : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FernetKeySpec(text));
            assertFalse(text.length() > 8 && e.getMessage().contains(text.trim()), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new FernetKeySpec(new byte[31]));
    }

    @Test
    void aMissingKeyStringSaysWhatWasExpected() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> new FernetKeySpec((String) null));
        assertEquals("no key given: expected a Fernet key, 44 characters of url-safe base64", e.getMessage());
    }

    @Test
    void keysAreCopiedDefensivelyAndDestroyable() throws Exception {
        byte[] raw = new byte[32];
        raw[0] = 7;
        FernetKeySpec spec = new FernetKeySpec(raw);
        raw[0] = 8;
        assertEquals(7, spec.getEncoded()[0]);
        spec.getEncoded()[0] = 9;
        assertEquals(7, spec.getEncoded()[0]);

        SecretKey key = SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(spec);
        spec.destroy();
        assertTrue(spec.isDestroyed());
        assertThrows(IllegalStateException.class, spec::toBase64);
        assertEquals(7, key.getEncoded()[0]);
        key.destroy();
        assertTrue(key.isDestroyed());
        assertThrows(IllegalStateException.class, key::getEncoded);
        assertEquals("FernetSecretKey[destroyed]", key.toString());
    }

    @Test
    void keysRefuseSerialization() throws Exception {
        SecretKey key = KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        for (Object value : List.of(key, FernetKeyRing.of(key))) {
            try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream())) {
                assertThrows(NotSerializableException.class, () -> out.writeObject(value));
            }
        }
    }

    @Test
    void equalKeysCompareEqualWithAHashThatIgnoresTheBytes() throws Exception {
        SecretKeyFactory factory = SecretKeyFactory.getInstance("Fernet", PROVIDER);
        SecretKey a = factory.generateSecret(new FernetKeySpec(PYTHON_KEY));
        SecretKey b = factory.generateSecret(new FernetKeySpec(PYTHON_KEY));
        SecretKey other = KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        assertEquals(a, b);
        assertNotEquals(a, other);
        assertEquals(a.hashCode(), other.hashCode());
    }

    /** Canary: a known key is used every way we can think of; no text we produce may contain it. */
    @Test
    void noMessageOrToStringEverContainsTheKey() throws Exception {
        byte[] raw = Base64.getUrlDecoder().decode(PYTHON_KEY);
        List<String> forbidden = List.of(
                PYTHON_KEY,
                PYTHON_KEY.substring(0, 20),
                HexFormat.of().formatHex(raw),
                HexFormat.of().formatHex(raw).substring(0, 16),
                Base64.getEncoder().encodeToString(raw).substring(0, 20));
        List<String> seen = new ArrayList<>();
        SecretKeyFactory factory = SecretKeyFactory.getInstance("Fernet", PROVIDER);
        SecretKey key = factory.generateSecret(new FernetKeySpec(PYTHON_KEY));
        FernetKeyRing ring = FernetKeyRing.of(key);
        Fernet fernet = Fernet.of(PYTHON_KEY);
        seen.add(key.toString());
        seen.add(ring.toString());
        seen.add(fernet.toString());
        seen.add(new FernetKeySpec(PYTHON_KEY).toString());
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, key);
        seen.add(cipher.toString());
        seen.add(String.valueOf(cipher.getParameters()));
        byte[] token = fernet.encrypt(new byte[3]);
        token[token.length / 2] ^= 1;
        byte[] tampered = token;
        collect(seen, () -> cipher.doFinal(tampered));
        collect(seen, () -> new FernetKeySpec(PYTHON_KEY + " "));
        collect(seen, () -> new FernetKeySpec(PYTHON_KEY.replace('-', '+')));
        collect(seen, () -> Fernet.of(PYTHON_KEY.substring(1) + "A"));
        collect(seen, () -> cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(raw, "AES")));
        collect(seen, () -> cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(raw, 0, 31, "Fernet")));
        collect(seen, () -> factory.generateSecret(new SecretKeySpec(raw, 0, 30, "Fernet")));
        collect(seen, () -> new ObjectOutputStream(new ByteArrayOutputStream()).writeObject(key));
        key.destroy();
        collect(seen, key::getEncoded);
        collect(seen, () -> cipher.init(Cipher.ENCRYPT_MODE, key));
        assertTrue(seen.size() >= 14);
        for (String text : seen) {
            for (String secret : forbidden) {
                assertFalse(text.contains(secret), "key material in: " + text.replace(secret, "<KEY>"));
            }
        }
    }

    private interface Action {
        void run() throws Exception;
    }

    private static void collect(List<String> seen, Action action) {
        try {
            action.run();
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                seen.add(t.toString());
            }
            return;
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void tamperedTokenMessageIsFixed() throws Exception {
        Fernet fernet = Fernet.of(PYTHON_KEY);
        byte[] token = fernet.encrypt("secret plaintext".getBytes());
        token[30] ^= 2;
        AEADBadTagException e = assertThrows(AEADBadTagException.class, () -> fernet.decrypt(token));
        assertTrue(List.of("token authentication failed", "malformed token").contains(e.getMessage()), e.getMessage());
    }
}
