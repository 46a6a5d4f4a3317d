package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.TAG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the record layer leaves behind: after {@link RecordLayer#destroy} both directions' secrets, keys, IVs and
 * buffers are zeros, at once or, for a direction in use, when its thread lets go; and every call lets go of its lock,
 * which a destroy from another thread would otherwise find held. Our own package-private fields are read by
 * reflection: nothing else can see a wipe.
 */
@Timeout(30)
class RecordLayerWipeTest {
    private static final int SUITE = CipherSuite.TLS_AES_128_GCM_SHA256;
    private static final String[] SECRETS = {"secret", "iv", "nonce", "keyBytes"};

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final byte[] toUs = filled(5);
    private final byte[] fromUs = filled(6);

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    private static byte[] filled(int value) {
        byte[] bytes = new byte[32];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        Field field = owner.getClass().getDeclaredField(name);
        field.setAccessible(true);
        return field.get(owner);
    }

    private static boolean zeros(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** Tells whether the direction's protection ({@code opener} or {@code sealer}) holds only zeros. */
    private static boolean wiped(RecordLayer layer, String direction) throws ReflectiveOperationException {
        Object protection = field(layer, direction);
        for (String name : SECRETS) {
            if (!zeros((byte[]) field(protection, name))) {
                return false;
            }
        }
        return true;
    }

    private static boolean bufferWiped(RecordLayer layer, String name) throws ReflectiveOperationException {
        byte[] buffer = (byte[]) field(layer, name);
        return buffer == null || zeros(buffer);
    }

    private byte[] peerRecords(String... texts) throws IOException {
        RecordProtection sealer = new RecordProtection(SUITE, toUs, true, 0);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (String text : texts) {
            byte[] content = text.getBytes(StandardCharsets.US_ASCII);
            byte[] record = new byte[HEADER + content.length + 1 + TAG];
            System.arraycopy(content, 0, record, HEADER, content.length);
            wire.write(record, 0, sealer.seal(record, content.length, APPLICATION_DATA));
        }
        return wire.toByteArray();
    }

    private RecordLayer layer(InputStream in, OutputStream out) throws IOException {
        return new RecordLayer(
                in,
                out,
                new RecordProtection(SUITE, toUs, false, 0),
                new RecordProtection(SUITE, fromUs, true, 0),
                true);
    }

    @Test
    void destroyLeavesOnlyZerosInBothDirections() throws Exception {
        RecordLayer layer = layer(new ByteArrayInputStream(peerRecords("a secret reply")), new ByteArrayOutputStream());
        byte[] got = new byte[14];
        assertEquals(14, layer.read(got, 0, got.length));
        layer.write("a secret request".getBytes(StandardCharsets.US_ASCII), 0, 16);
        assertFalse(wiped(layer, "opener"));
        assertFalse(wiped(layer, "sealer"));
        assertFalse(bufferWiped(layer, "inbound"));
        assertFalse(bufferWiped(layer, "outbound"));

        layer.destroy();
        assertTrue(wiped(layer, "opener"), "the reading direction's secret, key, IV and nonce");
        assertTrue(wiped(layer, "sealer"), "the writing direction's");
        assertTrue(bufferWiped(layer, "inbound"), "the plaintext read");
        assertTrue(bufferWiped(layer, "outbound"), "the plaintext written (sealed in place, but its copy)");
        assertEquals(0, layer.available());
    }

    @Test
    void thePeersCloseNotifyWipesTheReadingKeyAndLeavesTheDataBeforeIt() throws Exception {
        RecordProtection peerSealer = new RecordProtection(SUITE, toUs, true, 0);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        byte[] data = new byte[HEADER + 14 + 1 + TAG];
        System.arraycopy("a secret reply".getBytes(StandardCharsets.US_ASCII), 0, data, HEADER, 14);
        wire.write(data, 0, peerSealer.seal(data, 14, APPLICATION_DATA));
        byte[] alert = new byte[HEADER + 2 + 1 + TAG];
        PostHandshake.putAlert(alert, HEADER, AlertDescription.close_notify);
        wire.write(alert, 0, peerSealer.seal(alert, 2, ALERT));
        RecordLayer layer = layer(new ByteArrayInputStream(wire.toByteArray()), new ByteArrayOutputStream());

        byte[] got = new byte[14];
        assertEquals(4, layer.read(got, 0, 4));
        assertFalse(wiped(layer, "opener"), "the close_notify is not read yet");
        assertEquals(10, layer.read(got, 4, 10));
        assertEquals("a secret reply", new String(got, StandardCharsets.US_ASCII), "the data before it, whole");
        assertEquals(-1, layer.read(got, 0, got.length), "the end of the peer's direction");
        assertTrue(layer.isInputClosed());
        assertTrue(wiped(layer, "opener"), "the peer's key, wiped at its close_notify");
        assertFalse(wiped(layer, "sealer"), "our direction goes on");
        assertEquals(-1, layer.read(got, 0, got.length), "and stays ended");
    }

    @Test
    void everyCallLetsGoOfItsLockSoThatADestroyFromAnotherThreadWipesAtOnce() throws Exception {
        RecordLayer reader = layer(new ByteArrayInputStream(peerRecords("data")), new ByteArrayOutputStream());
        pool.submit(() -> reader.read(new byte[4], 0, 4)).get(10, TimeUnit.SECONDS);
        reader.destroy();
        assertTrue(wiped(reader, "opener"), "read released the reading lock");

        RecordLayer writer = layer(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream());
        pool.submit(() -> {
                    writer.write(new byte[3], 0, 3);
                    return null;
                })
                .get(10, TimeUnit.SECONDS);
        writer.destroy();
        assertTrue(wiped(writer, "sealer"), "write released the writing lock");

        RecordLayer closer = layer(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream());
        pool.submit(() -> {
                    closer.sendCloseNotify();
                    return null;
                })
                .get(10, TimeUnit.SECONDS);
        closer.destroy();
        assertTrue(wiped(closer, "sealer"), "sendCloseNotify released the writing lock");

        RecordLayer alerter = layer(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream());
        assertTrue(pool.submit(() -> alerter.trySendAlert(AlertDescription.internal_error))
                .get(10, TimeUnit.SECONDS));
        alerter.destroy();
        assertTrue(wiped(alerter, "sealer"), "trySendAlert released the writing lock");

        RecordLayer updated = layer(new ByteArrayInputStream(keyUpdateRequestedThen("x")), new ByteArrayOutputStream());
        assertEquals(1, pool.submit(() -> updated.read(new byte[1], 0, 1)).get(10, TimeUnit.SECONDS));
        updated.destroy();
        assertTrue(wiped(updated, "sealer"), "the reader's KeyUpdate answer released the writing lock");
        assertTrue(wiped(updated, "opener"));
    }

    private byte[] keyUpdateRequestedThen(String text) throws IOException {
        RecordProtection sealer = new RecordProtection(SUITE, toUs, true, 0);
        byte[] record = new byte[HEADER + 5 + 1 + TAG];
        System.arraycopy(new byte[] {24, 0, 0, 1, 1}, 0, record, HEADER, 5);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.write(record, 0, sealer.seal(record, 5, HANDSHAKE));
        sealer.update();
        byte[] content = text.getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[HEADER + content.length + 1 + TAG];
        System.arraycopy(content, 0, data, HEADER, content.length);
        wire.write(data, 0, sealer.seal(data, content.length, APPLICATION_DATA));
        return wire.toByteArray();
    }

    @Test
    void aReaderBlockedDuringDestroyWipesItsDirectionWhenItReturns() throws Exception {
        PipedOutputStream peer = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(peer, 1 << 16);
        RecordLayer layer = layer(in, new ByteArrayOutputStream());
        Future<Integer> reading = pool.submit(() -> layer.read(new byte[16], 0, 16));
        while (!((ReentrantLock) field(layer, "readLock")).isLocked()) {
            Thread.sleep(5);
        }
        layer.destroy();
        assertFalse(wiped(layer, "opener"), "a reader in the middle of a record keeps its key until it returns");
        assertTrue(wiped(layer, "sealer"), "the idle direction is wiped at once");
        peer.write(peerRecords("last words"));
        peer.flush();
        assertEquals(10, reading.get(10, TimeUnit.SECONDS));
        assertTrue(wiped(layer, "opener"), "wiped as the reader let go");
        assertTrue(bufferWiped(layer, "inbound"));
    }

    @Test
    void aWriterBlockedDuringDestroyWipesItsDirectionWhenItReturns() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        OutputStream stalling = new OutputStream() {
            @Override
            public void write(int b) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        };
        RecordLayer layer = layer(new ByteArrayInputStream(peerRecords("x")), stalling);
        Future<?> writer = pool.submit(() -> {
            layer.write(new byte[100], 0, 100);
            return null;
        });
        assertTrue(writing.await(10, TimeUnit.SECONDS));
        layer.destroy();
        assertTrue(wiped(layer, "opener"), "the idle direction is wiped at once");
        assertFalse(wiped(layer, "sealer"), "a writer on the wire keeps its key until it returns");
        release.countDown();
        writer.get(10, TimeUnit.SECONDS);
        assertTrue(wiped(layer, "sealer"), "wiped as the writer let go");
        assertTrue(bufferWiped(layer, "outbound"));
    }

    @Test
    void aKeyUpdateAskedForWhileAWriterHoldsTheWireIsPaidByThatWriter() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        OutputStream stallingOnce = new OutputStream() {
            @Override
            public void write(int b) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                if (writing.getCount() > 0) {
                    writing.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                sent.write(bytes, offset, length);
            }
        };
        RecordLayer layer = layer(new ByteArrayInputStream(keyUpdateRequestedThen("data")), stallingOnce);
        Future<?> writer = pool.submit(() -> {
            layer.write("first".getBytes(StandardCharsets.US_ASCII), 0, 5);
            return null;
        });
        assertTrue(writing.await(10, TimeUnit.SECONDS));
        byte[] got = new byte[4];
        assertEquals(4, layer.read(got, 0, 4), "the reader does not wait for the writer");
        assertEquals("data", new String(got, StandardCharsets.US_ASCII));
        release.countDown();
        writer.get(10, TimeUnit.SECONDS);

        RecordProtection peerOpener = new RecordProtection(SUITE, fromUs, false, 0);
        byte[] wire = sent.toByteArray();
        int[] position = {0};
        assertArrayEquals(new byte[] {'f', 'i', 'r', 's', 't', APPLICATION_DATA}, open(peerOpener, wire, position));
        assertArrayEquals(
                new byte[] {24, 0, 0, 1, 0, HANDSHAKE},
                open(peerOpener, wire, position),
                "the writer paid the KeyUpdate after its data");
        assertEquals(wire.length, position[0]);
    }

    @Test
    void alertsAreFlushedToThePeer() throws Exception {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = layer(new ByteArrayInputStream(new byte[0]), new BufferedOutputStream(sent, 1 << 16));
        layer.sendCloseNotify();
        RecordProtection peerOpener = new RecordProtection(SUITE, fromUs, false, 0);
        int[] position = {0};
        assertArrayEquals(new byte[] {1, 0, ALERT}, open(peerOpener, sent.toByteArray(), position));

        ByteArrayOutputStream fatal = new ByteArrayOutputStream();
        RecordLayer failing = layer(new ByteArrayInputStream(new byte[0]), new BufferedOutputStream(fatal, 1 << 16));
        assertTrue(failing.trySendAlert(AlertDescription.decode_error));
        assertFalse(failing.trySendAlert(AlertDescription.decode_error), "one alert at most");
        int[] at = {0};
        assertArrayEquals(
                new byte[] {2, AlertDescription.decode_error, ALERT},
                open(new RecordProtection(SUITE, fromUs, false, 0), fatal.toByteArray(), at));
        assertEquals(fatal.size(), at[0]);
    }

    private static byte[] open(RecordProtection opener, byte[] wire, int[] position) throws IOException {
        int length = ((wire[position[0] + 3] & 0xff) << 8) | (wire[position[0] + 4] & 0xff);
        byte[] record = Arrays.copyOfRange(wire, position[0], position[0] + HEADER + length);
        position[0] += HEADER + length;
        int inner = opener.open(record, length);
        return Arrays.copyOfRange(record, HEADER, HEADER + inner);
    }
}
