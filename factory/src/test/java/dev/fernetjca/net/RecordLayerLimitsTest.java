package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;
import static dev.fernetjca.net.RecordProtection.MAX_PLAINTEXT;
import static dev.fernetjca.net.RecordProtection.TAG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.api.Test;

/**
 * The record layer's limits on what a peer sends, at their exact boundaries (RFC 8446 5.1, 5.2, 5.4), and how an
 * input that ends between or inside records is told apart.
 */
class RecordLayerLimitsTest {
    private static final int SUITE = CipherSuite.TLS_AES_128_GCM_SHA256;
    private final byte[] toUs = secret(1);
    private final byte[] fromUs = secret(2);

    private static byte[] secret(int seed) {
        byte[] secret = new byte[32];
        Arrays.fill(secret, (byte) seed);
        return secret;
    }

    private RecordLayer us(byte[] wire) throws IOException {
        return new RecordLayer(
                new ByteArrayInputStream(wire),
                new ByteArrayOutputStream(),
                new RecordProtection(SUITE, toUs, false, 0),
                new RecordProtection(SUITE, fromUs, true, 0),
                true);
    }

    /** A record the peer seals around {@code content}, as the first record of its direction. */
    private byte[] sealed(byte[] content) throws IOException {
        byte[] record = new byte[HEADER + content.length + 1 + TAG];
        System.arraycopy(content, 0, record, HEADER, content.length);
        int length = new RecordProtection(SUITE, toUs, true, 0).seal(record, content.length, APPLICATION_DATA);
        return Arrays.copyOf(record, length);
    }

    @Test
    void anInputThatEndsBetweenRecordsIsACleanEofAndInsideOneIsNot() throws IOException {
        byte[] record = sealed(new byte[] {'h', 'i'});
        RecordLayer between = us(record);
        byte[] buffer = new byte[8];
        assertEquals(2, between.read(buffer, 0, 8));
        EOFException clean = assertThrows(EOFException.class, () -> between.read(buffer, 0, 8));
        assertNull(clean.getMessage(), "between records: the caller words it");

        for (int cut : new int[] {1, HEADER - 1, HEADER, HEADER + 1, record.length - 1}) {
            RecordLayer inside = us(Arrays.copyOf(record, cut));
            EOFException truncated = assertThrows(EOFException.class, () -> inside.read(buffer, 0, 8));
            assertEquals("ended inside a record", truncated.getMessage(), "cut at " + cut);
        }
    }

    @Test
    void aRecordOfTheLargestCiphertextIsReadAndOneByteMoreIsAnOverflow() throws IOException {
        byte[] largest = new byte[HEADER + MAX_CIPHERTEXT];
        largest[0] = APPLICATION_DATA;
        largest[1] = 3;
        largest[2] = 3;
        largest[3] = (byte) (MAX_CIPHERTEXT >>> 8);
        largest[4] = (byte) MAX_CIPHERTEXT;
        byte[] buffer = new byte[8];
        TlsFatalAlert forged =
                assertThrows(TlsFatalAlert.class, () -> us(largest).read(buffer, 0, 8));
        assertEquals(AlertDescription.bad_record_mac, forged.getAlertDescription(), "read whole, then judged");

        byte[] over = Arrays.copyOf(largest, largest.length + 1);
        over[3] = (byte) ((MAX_CIPHERTEXT + 1) >>> 8);
        over[4] = (byte) (MAX_CIPHERTEXT + 1);
        TlsFatalAlert overflow = assertThrows(TlsFatalAlert.class, () -> us(over).read(buffer, 0, 8));
        assertEquals(AlertDescription.record_overflow, overflow.getAlertDescription());
    }

    @Test
    void innerPlaintextOfTwoToTheFourteenPlusOneIsTheLimit() throws IOException {
        byte[] buffer = new byte[MAX_PLAINTEXT + 16];
        byte[] full = new byte[MAX_PLAINTEXT];
        Arrays.fill(full, (byte) 'f');
        assertEquals(MAX_PLAINTEXT, readAll(us(sealed(full)), buffer));

        byte[] tooMuch = new byte[MAX_PLAINTEXT + 1];
        TlsFatalAlert overflow =
                assertThrows(TlsFatalAlert.class, () -> us(sealed(tooMuch)).read(buffer, 0, buffer.length));
        assertEquals(AlertDescription.record_overflow, overflow.getAlertDescription());
    }

    private static int readAll(RecordLayer layer, byte[] buffer) throws IOException {
        int total = 0;
        while (total < MAX_PLAINTEXT) {
            int n = layer.read(buffer, total, buffer.length - total);
            if (n <= 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
