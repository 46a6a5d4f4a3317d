package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.RECORDS_PER_KEY;
import static dev.fernetjca.net.RecordProtection.TAG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.SocketException;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RecordProtection} at its edges: the shortest record, the header it writes, records at an offset, when our
 * own KeyUpdate falls due, what a KeyUpdate resets, what it refuses to be built from, and a destroyed protection.
 */
class RecordProtectionEdgesTest {
    private static final int AES = CipherSuite.TLS_AES_128_GCM_SHA256;
    private static final int CHACHA = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;

    private static byte[] secret() {
        byte[] secret = new byte[32];
        for (int i = 0; i < secret.length; i++) {
            secret[i] = (byte) (7 * i + 1);
        }
        return secret;
    }

    private static void assertAlert(short expected, String detail, TlsFatalAlert alert) {
        assertEquals(AlertDescription.getText(expected), AlertDescription.getText(alert.getAlertDescription()));
        assertTrue(alert.getMessage().contains(detail), alert.getMessage());
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void theShortestRecordHoldsOnlyItsTypeAndShorterOnesAreRefused(int suite) throws IOException {
        byte[] record = new byte[HEADER + 1 + TAG];
        assertEquals(
                HEADER + 1 + TAG, new RecordProtection(suite, secret(), true, 0).seal(record, 0, APPLICATION_DATA));
        RecordProtection opener = new RecordProtection(suite, secret(), false, 0);
        assertEquals(1, opener.open(record.clone(), 1 + TAG), "an empty record: its content type alone");
        assertEquals(APPLICATION_DATA, openedType(suite, record));
        TlsFatalAlert tooShort = assertThrows(
                TlsFatalAlert.class,
                () -> new RecordProtection(suite, secret(), false, 0).open(new byte[HEADER + TAG], TAG));
        assertAlert(AlertDescription.bad_record_mac, "record too short", tooShort);
    }

    private static byte openedType(int suite, byte[] sealed) throws IOException {
        byte[] record = sealed.clone();
        new RecordProtection(suite, secret(), false, 0).open(record, 1 + TAG);
        return record[HEADER];
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void theHeaderSaysApplicationDataTls12AndTheBodyLength(int suite) throws IOException {
        byte[] record = new byte[HEADER + 300 + 1 + TAG];
        int length = new RecordProtection(suite, secret(), true, 0).seal(record, 300, (byte) 22);
        assertEquals(HEADER + 317, length);
        assertArrayEquals(new byte[] {23, 3, 3, 0x01, 0x3d}, Arrays.copyOf(record, HEADER));
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void recordsSealedOneAfterAnotherInOneBufferOpenAtTheirOffsets(int suite) throws IOException {
        RecordProtection sealer = new RecordProtection(suite, secret(), true, 0);
        byte[] buffer = new byte[2 * (HEADER + 3 + 1 + TAG) + 4];
        System.arraycopy(new byte[] {1, 2, 3}, 0, buffer, HEADER, 3);
        int first = sealer.seal(buffer, 0, 3, APPLICATION_DATA);
        System.arraycopy(new byte[] {4, 5, 6}, 0, buffer, first + HEADER, 3);
        int second = sealer.seal(buffer, first, 3, APPLICATION_DATA);
        assertEquals(first, second);
        RecordProtection opener = new RecordProtection(suite, secret(), false, 0);
        assertEquals(4, opener.open(buffer, 0, 3 + 1 + TAG));
        assertEquals(4, opener.open(buffer, first, 3 + 1 + TAG));
        assertArrayEquals(new byte[] {1, 2, 3, APPLICATION_DATA}, Arrays.copyOfRange(buffer, HEADER, HEADER + 4));
        assertArrayEquals(
                new byte[] {4, 5, 6, APPLICATION_DATA}, Arrays.copyOfRange(buffer, first + HEADER, first + HEADER + 4));
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void ourKeyUpdateFallsDueAtTheLimitAndOnlyForSending(int suite) throws IOException {
        assertFalse(new RecordProtection(suite, secret(), true, RECORDS_PER_KEY - 1).keyUpdateDue());
        assertTrue(new RecordProtection(suite, secret(), true, RECORDS_PER_KEY).keyUpdateDue());
        assertTrue(new RecordProtection(suite, secret(), true, -2).keyUpdateDue(), "2^64 - 2, unsigned");
        assertFalse(new RecordProtection(suite, secret(), false, RECORDS_PER_KEY).keyUpdateDue(), "the peer's key");
        RecordProtection sealer = new RecordProtection(suite, secret(), true, RECORDS_PER_KEY - 1);
        sealer.seal(new byte[HEADER + 1 + TAG], 0, APPLICATION_DATA);
        assertTrue(sealer.keyUpdateDue(), "counted by sealing");
        sealer.update();
        assertFalse(sealer.keyUpdateDue(), "a new key starts counting again");
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void aKeyUpdateStartsTheSequenceAgainUnderTheNextKey(int suite) throws IOException {
        RecordProtection sealer = new RecordProtection(suite, secret(), true, 41);
        sealer.update();
        byte[] record = new byte[HEADER + 2 + 1 + TAG];
        record[HEADER] = 'o';
        record[HEADER + 1] = 'k';
        sealer.seal(record, 2, APPLICATION_DATA);

        RecordProtection stale = new RecordProtection(suite, secret(), false, 0);
        assertAlert(
                AlertDescription.bad_record_mac,
                "",
                assertThrows(TlsFatalAlert.class, () -> stale.open(record.clone(), 19)));
        RecordProtection counting = new RecordProtection(suite, secret(), false, 41);
        counting.update();
        assertEquals(3, counting.open(record.clone(), 19), "next key, sequence number 0");
        RecordProtection notReset = new RecordProtection(suite, secret(), false, 41);
        notReset.update();
        notReset.open(sealedFirst(suite), 1 + TAG);
        assertAlert(
                AlertDescription.bad_record_mac,
                "",
                assertThrows(TlsFatalAlert.class, () -> notReset.open(record.clone(), 19)));
    }

    private static byte[] sealedFirst(int suite) throws IOException {
        RecordProtection sealer = new RecordProtection(suite, secret(), true, 0);
        sealer.update();
        byte[] record = new byte[HEADER + 1 + TAG];
        sealer.seal(record, 0, APPLICATION_DATA);
        return record;
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {31, 33})
    void refusesATrafficSecretOfAnotherLength(int length) {
        assertAlert(
                AlertDescription.internal_error,
                "unexpected traffic secret length",
                assertThrows(TlsFatalAlert.class, () -> new RecordProtection(AES, new byte[length], true, 0)));
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_AES_128_CCM_SHA256})
    void refusesASuiteWeDoNotOffer(int suite) {
        assertAlert(
                AlertDescription.internal_error,
                "unexpected cipher suite",
                assertThrows(TlsFatalAlert.class, () -> new RecordProtection(suite, secret(), true, 0)));
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void aDestroyedProtectionIsZerosAndRefusesWork(int suite) throws Exception {
        RecordProtection protection = new RecordProtection(suite, secret(), true, 0);
        protection.seal(new byte[HEADER + 1 + TAG], 0, APPLICATION_DATA);
        protection.destroy();
        for (String name : new String[] {"secret", "iv", "nonce", "keyBytes"}) {
            Field field = RecordProtection.class.getDeclaredField(name);
            field.setAccessible(true);
            assertArrayEquals(new byte[((byte[]) field.get(protection)).length], (byte[]) field.get(protection), name);
        }
        SocketException sealing = assertThrows(
                SocketException.class, () -> protection.seal(new byte[HEADER + 1 + TAG], 0, APPLICATION_DATA));
        assertEquals("connection closed", sealing.getMessage());
        assertThrows(SocketException.class, () -> protection.open(new byte[HEADER + 1 + TAG], 1 + TAG));
    }
}
