package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;
import static dev.fernetjca.net.RecordProtection.MAX_PLAINTEXT;
import static dev.fernetjca.net.RecordProtection.TAG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The record layer at its exact edges: the messages of malformed records, a write of exactly one full record, the
 * read buffer's growth and the wipe of the buffer it outgrows, and locks that another thread can take after a destroy.
 */
@Timeout(30)
class RecordLayerEdgesTest {
    private static final int SUITE = CipherSuite.TLS_AES_128_GCM_SHA256;
    /** Threads that cannot keep the test JVM alive if a lock is never let go. */
    private static final Executor DAEMONS = task -> {
        Thread thread = new Thread(task, "record-layer-edges");
        thread.setDaemon(true);
        thread.start();
    };

    private final byte[] toUs = secret(3);
    private final byte[] fromUs = secret(4);
    private final RecordProtection peerSealer = new RecordProtection(SUITE, toUs, true, 0);

    RecordLayerEdgesTest() throws IOException {}

    private static byte[] secret(int seed) {
        byte[] secret = new byte[32];
        Arrays.fill(secret, (byte) seed);
        return secret;
    }

    private RecordLayer us(byte[] wire, ByteArrayOutputStream sent) throws IOException {
        return new RecordLayer(
                new ByteArrayInputStream(wire),
                sent,
                new RecordProtection(SUITE, toUs, false, 0),
                new RecordProtection(SUITE, fromUs, true, 0),
                true);
    }

    /** The next record of the peer's direction, around {@code content} with content type {@code type}. */
    private byte[] sealed(byte[] content, byte type) throws IOException {
        byte[] record = new byte[HEADER + content.length + 1 + TAG];
        System.arraycopy(content, 0, record, HEADER, content.length);
        return Arrays.copyOf(record, peerSealer.seal(record, content.length, type));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            joined.writeBytes(part);
        }
        return joined.toByteArray();
    }

    private static byte[] inbound(RecordLayer layer) throws ReflectiveOperationException {
        Field field = RecordLayer.class.getDeclaredField("inbound");
        field.setAccessible(true);
        return (byte[]) field.get(layer);
    }

    @Test
    void anOverflowNamesTheInnerPlaintextLength() throws IOException {
        RecordLayer layer = us(sealed(new byte[MAX_PLAINTEXT + 1], APPLICATION_DATA), new ByteArrayOutputStream());
        TlsFatalAlert overflow = assertThrows(TlsFatalAlert.class, () -> layer.read(new byte[16], 0, 16));
        assertEquals(AlertDescription.record_overflow, overflow.getAlertDescription());
        assertTrue(overflow.getMessage().endsWith("record of " + (MAX_PLAINTEXT + 2) + " bytes"), overflow::getMessage);
    }

    /** All padding, in a record whose length ends in a zero byte: the padding scan must stop at the content. */
    @Test
    void aRecordOfOnlyPaddingHasNoContentTypeWhateverItsHeaderHolds() throws IOException {
        byte[] record = sealed(new byte[256 - TAG - 1], (byte) 0);
        assertEquals(0, record[HEADER - 1], "the length's low byte, just before the content");
        RecordLayer layer = us(record, new ByteArrayOutputStream());
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, () -> layer.read(new byte[16], 0, 16));
        assertEquals(AlertDescription.unexpected_message, alert.getAlertDescription());
        assertTrue(alert.getMessage().endsWith("record without a content type"), alert::getMessage);
    }

    @Test
    void aWriteOfExactlyOneFullRecordSendsOneRecord() throws IOException {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(new byte[0], sent);
        layer.write(new byte[MAX_PLAINTEXT], 0, MAX_PLAINTEXT);
        assertEquals(HEADER + MAX_PLAINTEXT + 1 + TAG, sent.size());

        sent.reset();
        layer.write(new byte[MAX_PLAINTEXT + 1], 0, MAX_PLAINTEXT + 1);
        assertEquals(2 * (HEADER + 1 + TAG) + MAX_PLAINTEXT + 1, sent.size(), "two records");
    }

    @Test
    void aBufferHoldingExactlyWhatIsNeededIsKept() {
        byte[] buffer = new byte[300];
        assertSame(buffer, RecordLayer.fitting(buffer, 300, 1 << 16));
        byte[] grown = RecordLayer.fitting(buffer, 301, 1 << 16);
        assertEquals(600, grown.length, "doubled");
        assertEquals(256, RecordLayer.fitting(null, 5, 1 << 16).length, "the smallest buffer");
    }

    /**
     * A record that starts near the end of the buffer and is read in part is moved to the front to be finished; the
     * buffer grows to the record below half a full record, to four full records from there, and each buffer it
     * outgrows is wiped.
     */
    @Test
    void theReadBufferGrowsWithTheRecordsAndWipesWhatItOutgrows() throws Exception {
        byte[] small = new byte[100 - TAG - 1]; // 105 bytes on the wire: two and a part fill the first 256
        Arrays.fill(small, (byte) 's');
        int half = MAX_PLAINTEXT / 2;
        byte[] atHalf = new byte[half - HEADER - 1 - TAG]; // a record of exactly half a full record
        byte[] overHalf = new byte[atHalf.length + 1];
        Arrays.fill(atHalf, (byte) 'h');
        Arrays.fill(overHalf, (byte) 'o');
        RecordLayer layer = us(
                concat(
                        sealed(small, APPLICATION_DATA),
                        sealed(small, APPLICATION_DATA),
                        sealed(small, APPLICATION_DATA),
                        sealed(atHalf, APPLICATION_DATA),
                        sealed(overHalf, APPLICATION_DATA)),
                new ByteArrayOutputStream());
        byte[] buffer = new byte[3 * small.length];

        assertEquals(2 * small.length, layer.read(buffer, 0, buffer.length), "the records read whole");
        byte[] first = inbound(layer);
        assertEquals(256, first.length);
        assertEquals(small.length, layer.read(buffer, 0, buffer.length), "the record finished after a move");
        assertEquals('s', buffer[small.length - 1]);

        byte[] got = new byte[overHalf.length];
        assertEquals(atHalf.length, layer.read(got, 0, got.length));
        assertArrayEquals(atHalf, Arrays.copyOf(got, atHalf.length));
        byte[] second = inbound(layer);
        assertEquals(half, second.length, "grown to the record");
        assertArrayEquals(new byte[first.length], first, "the outgrown buffer is wiped");

        assertEquals(overHalf.length, layer.read(got, 0, got.length));
        assertArrayEquals(overHalf, got);
        assertEquals(4 * (HEADER + MAX_CIPHERTEXT), inbound(layer).length, "a stream: four full records");
        assertArrayEquals(new byte[second.length], second);
    }

    @Test
    void anotherThreadCanTakeBothLocksAfterADestroy() throws Exception {
        RecordLayer layer = us(sealed(new byte[] {'x'}, APPLICATION_DATA), new ByteArrayOutputStream());
        layer.destroy();

        CompletableFuture<Throwable> reader = CompletableFuture.supplyAsync(
                () -> assertThrows(SocketException.class, () -> layer.read(new byte[8], 0, 8)), DAEMONS);
        CompletableFuture<Throwable> writer = CompletableFuture.supplyAsync(
                () -> assertThrows(SocketException.class, () -> layer.write(new byte[8], 0, 8)), DAEMONS);

        assertEquals("connection closed", reader.get(10, TimeUnit.SECONDS).getMessage());
        assertEquals(
                "output has been shut down", writer.get(10, TimeUnit.SECONDS).getMessage());
    }
}
