package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Field;
import java.net.SocketException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.tls.CipherSuite;
import org.junit.jupiter.api.Test;

/**
 * What a destroyed record protection leaves: its arrays zeroed, and the JDK cipher, which keeps the last key it was
 * given, rekeyed with zeros. The cipher is our own private field, read by reflection: nothing else can see it.
 */
class RecordProtectionWipeTest {
    private static final int TAG_BITS = 128;

    private static Object field(RecordProtection protection, String name) throws ReflectiveOperationException {
        Field field = RecordProtection.class.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(protection);
    }

    @Test
    void destroyRekeysTheCipherWithZerosAndWipesTheKeyBytes() throws Exception {
        byte[] trafficSecret = new byte[32];
        Arrays.fill(trafficSecret, (byte) 9);
        RecordProtection opener = new RecordProtection(CipherSuite.TLS_AES_128_GCM_SHA256, trafficSecret, false, 0);
        byte[] keyBytes = (byte[]) field(opener, "keyBytes");
        assertArrayEquals(RecordProtection.expandLabel(trafficSecret, "key", 16), keyBytes);

        opener.destroy();

        assertArrayEquals(new byte[16], keyBytes);
        assertArrayEquals(new byte[32], (byte[]) field(opener, "secret"));
        assertArrayEquals(new byte[12], (byte[]) field(opener, "iv"));
        // a tag made under a zero key and nonce opens only if the cipher was rekeyed with zeros
        Cipher zeroKeyed = Cipher.getInstance("AES/GCM/NoPadding");
        zeroKeyed.init(
                Cipher.ENCRYPT_MODE,
                new SecretKeySpec(new byte[16], "AES"),
                new GCMParameterSpec(TAG_BITS, new byte[12]));
        byte[] tagOnly = zeroKeyed.doFinal();
        Cipher cipher = (Cipher) field(opener, "cipher");
        assertEquals(0, cipher.doFinal(tagOnly).length);
        assertThrows(SocketException.class, () -> opener.open(new byte[5 + 17], 17));
    }

    @Test
    void aKeyUpdateReplacesTheSecretKeyAndIvInPlace() throws Exception {
        byte[] trafficSecret = new byte[32];
        Arrays.fill(trafficSecret, (byte) 7);
        RecordProtection sealer = new RecordProtection(CipherSuite.TLS_AES_128_GCM_SHA256, trafficSecret, true, 5);
        byte[] secret = (byte[]) field(sealer, "secret");
        byte[] keyBytes = (byte[]) field(sealer, "keyBytes");
        byte[] iv = (byte[]) field(sealer, "iv");

        sealer.update();

        byte[] next = RecordProtection.expandLabel(trafficSecret, "traffic upd", 32);
        assertArrayEquals(next, secret);
        assertArrayEquals(RecordProtection.expandLabel(next, "key", 16), keyBytes);
        assertArrayEquals(RecordProtection.expandLabel(next, "iv", 12), iv);
    }
}
