package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.TAG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.junit.jupiter.api.Test;

/**
 * What a caller of {@link RecordLayer#read} sees: where the data lands, what {@link RecordLayer#available} counts
 * between reads, a read of nothing, and the end of input.
 */
class RecordLayerReadTest {
    private static final int SUITE = CipherSuite.TLS_AES_128_GCM_SHA256;
    private final byte[] toUs = filled(8);
    private final byte[] fromUs = filled(9);

    private static byte[] filled(int value) {
        byte[] bytes = new byte[32];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    private byte[] wire(boolean closeNotify, String... texts) throws IOException {
        RecordProtection sealer = new RecordProtection(SUITE, toUs, true, 0);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (String text : texts) {
            byte[] content = text.getBytes(StandardCharsets.US_ASCII);
            byte[] record = new byte[HEADER + content.length + 1 + TAG];
            System.arraycopy(content, 0, record, HEADER, content.length);
            wire.write(record, 0, sealer.seal(record, content.length, APPLICATION_DATA));
        }
        if (closeNotify) {
            byte[] record = new byte[HEADER + 2 + 1 + TAG];
            record[HEADER] = 1;
            record[HEADER + 1] = AlertDescription.close_notify;
            wire.write(record, 0, sealer.seal(record, 2, ALERT));
        }
        return wire.toByteArray();
    }

    private RecordLayer layer(InputStream in) throws IOException {
        return new RecordLayer(
                in,
                new ByteArrayOutputStream(),
                new RecordProtection(SUITE, toUs, false, 0),
                new RecordProtection(SUITE, fromUs, true, 0),
                true);
    }

    @Test
    void availableCountsWhatIsLeftOfTheRecordsAlreadyOpened() throws IOException {
        RecordLayer layer = layer(new ByteArrayInputStream(wire(false, "hello world")));
        assertEquals(0, layer.available(), "nothing opened yet");
        byte[] got = new byte[10];
        assertEquals(3, layer.read(got, 2, 3));
        assertArrayEquals(new byte[] {0, 0, 'h', 'e', 'l', 0, 0, 0, 0, 0}, got, "at the offset given, no further");
        assertEquals(8, layer.available());
        assertEquals(8, layer.read(got, 0, 10));
        assertEquals("lo world", new String(got, 0, 8, StandardCharsets.US_ASCII));
        assertEquals(0, layer.available());
    }

    @Test
    void aReadOfNothingTouchesNothing() throws IOException {
        InputStream refusing = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("must not be read");
            }
        };
        assertEquals(0, layer(refusing).read(new byte[4], 0, 0));
    }

    @Test
    void dataBeforeCloseNotifyIsHandedOutThenTheEnd() throws IOException {
        RecordLayer layer = layer(new ByteArrayInputStream(wire(true, "ab", "cd")));
        assertFalse(layer.isInputClosed());
        byte[] got = new byte[10];
        assertEquals(4, layer.read(got, 0, 10), "both records, in one read");
        assertEquals("abcd", new String(got, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(-1, layer.read(got, 0, 10));
        assertTrue(layer.isInputClosed());
        assertEquals(0, layer.available());
        assertEquals(-1, layer.read(got, 0, 10), "and again");
    }

    @Test
    void aReadStopsWhereItsRoomEndsInsideALaterRecord() throws IOException {
        RecordLayer layer = layer(new ByteArrayInputStream(wire(false, "abc", "defgh")));
        byte[] got = new byte[5];
        assertEquals(5, layer.read(got, 0, 5));
        assertEquals("abcde", new String(got, StandardCharsets.US_ASCII));
        assertEquals(3, layer.available(), "the rest of the second record");
        assertEquals(3, layer.read(got, 0, 5));
        assertEquals("fgh", new String(got, 0, 3, StandardCharsets.US_ASCII));
    }
}
