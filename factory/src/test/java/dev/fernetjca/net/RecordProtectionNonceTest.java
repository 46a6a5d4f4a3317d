package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 8446 5.3: every byte of the 64-bit sequence number enters the nonce, so a record opens only under the sequence
 * number it was sealed with, however far apart in any byte two numbers are.
 */
class RecordProtectionNonceTest {
    private static final byte[] SECRET = new byte[32];

    static {
        Arrays.fill(SECRET, (byte) 0x5a);
    }

    private static byte[] sealed(int suite, long sequence) throws IOException {
        byte[] record = new byte[RecordProtection.HEADER + 5 + 1 + RecordProtection.TAG];
        byte[] content = {'h', 'e', 'l', 'l', 'o'};
        System.arraycopy(content, 0, record, RecordProtection.HEADER, content.length);
        new RecordProtection(suite, SECRET, true, sequence)
                .seal(record, content.length, RecordProtection.APPLICATION_DATA);
        return record;
    }

    private static int open(int suite, byte[] record, long sequence) throws IOException {
        return new RecordProtection(suite, SECRET, false, sequence)
                .open(record, record.length - RecordProtection.HEADER);
    }

    @ParameterizedTest
    @ValueSource(ints = {CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256})
    void aRecordOpensOnlyUnderItsOwnSequenceNumber(int suite) throws IOException {
        long[] sequences = {
            0, 1, 255, 256, 1L << 16, 1L << 24, 1L << 32, 1L << 40, 1L << 48, 1L << 56, 0x0102030405060708L
        };
        for (long sealedAt : sequences) {
            byte[] record = sealed(suite, sealedAt);
            for (long openedAt : sequences) {
                byte[] copy = record.clone();
                if (openedAt == sealedAt) {
                    assertEquals(6, open(suite, copy, openedAt));
                    assertArrayEquals(
                            new byte[] {'h', 'e', 'l', 'l', 'o', RecordProtection.APPLICATION_DATA},
                            Arrays.copyOfRange(copy, RecordProtection.HEADER, RecordProtection.HEADER + 6));
                } else {
                    TlsFatalAlert e = assertThrows(
                            TlsFatalAlert.class,
                            () -> open(suite, copy, openedAt),
                            "sealed at " + sealedAt + ", opened at " + openedAt);
                    assertEquals(AlertDescription.bad_record_mac, e.getAlertDescription());
                }
            }
        }
    }
}
