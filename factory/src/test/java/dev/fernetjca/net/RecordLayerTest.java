package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;
import static dev.fernetjca.net.RecordProtection.MAX_PLAINTEXT;
import static dev.fernetjca.net.RecordProtection.TAG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;
import org.bouncycastle.tls.crypto.CryptoHashAlgorithm;
import org.bouncycastle.tls.crypto.TlsCryptoUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our TLS 1.3 record layer alone, over in-memory streams: records crafted by a peer's {@link RecordProtection} (so
 * every malformed, replayed or oversize case can be built), read through {@link FragmentingInputStream} so records
 * never arrive whole.
 */
@Timeout(30)
class RecordLayerTest {
    private static final int AES = CipherSuite.TLS_AES_128_GCM_SHA256;
    private static final int CHACHA = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final byte[] toUs = random(32, 1); // the peer's sending secret
    private final byte[] fromUs = random(32, 2); // ours

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** What the peer sends us, record by record, and what it makes of what we send. */
    private final class Peer {
        final RecordProtection sealer;
        final RecordProtection opener;
        final ByteArrayOutputStream wire = new ByteArrayOutputStream();

        Peer(int suite) throws IOException {
            sealer = new RecordProtection(suite, toUs, true, 0);
            opener = new RecordProtection(suite, fromUs, false, 0);
        }

        Peer record(byte type, byte[] content) throws IOException {
            byte[] record = new byte[HEADER + content.length + 1 + TAG];
            System.arraycopy(content, 0, record, HEADER, content.length);
            wire.write(record, 0, sealer.seal(record, content.length, type));
            return this;
        }

        Peer data(String text) throws IOException {
            return record(APPLICATION_DATA, text.getBytes(StandardCharsets.UTF_8));
        }

        Peer keyUpdate(int requested) throws IOException {
            record(HANDSHAKE, new byte[] {24, 0, 0, 1, (byte) requested});
            sealer.update();
            return this;
        }

        Peer alert(short description) throws IOException {
            return record(ALERT, new byte[] {
                description == AlertDescription.close_notify ? (byte) 1 : (byte) 2, (byte) description
            });
        }

        byte[] bytes() {
            return wire.toByteArray();
        }

        /** Opens one record we sent; returns its inner plaintext (content and type). */
        byte[] open(byte[] sent, int[] position) throws IOException {
            int length = ((sent[position[0] + 3] & 0xff) << 8) | (sent[position[0] + 4] & 0xff);
            byte[] record = Arrays.copyOfRange(sent, position[0], position[0] + HEADER + length);
            position[0] += HEADER + length;
            int inner = opener.open(record, length);
            return Arrays.copyOfRange(record, HEADER, HEADER + inner);
        }
    }

    private RecordLayer us(int suite, InputStream in, ByteArrayOutputStream sent) throws IOException {
        return new RecordLayer(
                new FragmentingInputStream(in, 3, 7),
                sent,
                new RecordProtection(suite, toUs, false, 0),
                new RecordProtection(suite, fromUs, true, 0),
                true);
    }

    private RecordLayer us(int suite, byte[] wire, ByteArrayOutputStream sent) throws IOException {
        return us(suite, new ByteArrayInputStream(wire), sent);
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void bothDirectionsAtOnceThenHalfClose(int suite) throws Exception {
        PipedInputStream aIn = new PipedInputStream(1 << 16);
        PipedInputStream bIn = new PipedInputStream(1 << 16);
        PipedOutputStream aOut = new PipedOutputStream(bIn);
        PipedOutputStream bOut = new PipedOutputStream(aIn);
        RecordLayer a = new RecordLayer(
                new FragmentingInputStream(aIn, 5, 3_000),
                aOut,
                new RecordProtection(suite, toUs, false, 0),
                new RecordProtection(suite, fromUs, true, 0),
                true);
        RecordLayer b = new RecordLayer(
                new FragmentingInputStream(bIn, 6, 3_000),
                bOut,
                new RecordProtection(suite, fromUs, false, 0),
                new RecordProtection(suite, toUs, true, 0),
                false);
        byte[] fromA = random(150_000, 7);
        byte[] fromB = random(90_000, 8);
        Future<?> aWrites = pool.submit(() -> {
            a.write(fromA, 0, fromA.length);
            a.sendCloseNotify();
            return null;
        });
        Future<?> bWrites = pool.submit(() -> {
            b.write(fromB, 0, fromB.length);
            b.sendCloseNotify();
            return null;
        });
        Future<byte[]> bReads = pool.submit(() -> readAll(b));
        assertArrayEquals(fromB, readAll(a));
        assertArrayEquals(fromA, bReads.get(20, TimeUnit.SECONDS));
        aWrites.get(20, TimeUnit.SECONDS);
        bWrites.get(20, TimeUnit.SECONDS);
        assertTrue(a.isInputClosed());
        assertEquals(-1, a.read(new byte[1], 0, 1), "after close_notify, input stays ended");
    }

    @Test
    void keyAndIvFollowRfc8446AndMatchBouncyCastle() throws IOException {
        // RFC 8448 3, "Simple 1-RTT Handshake": the server's application traffic secret, key and IV
        byte[] secret = HexFormat.of().parseHex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
        assertEquals(
                "9f02283b6c9c07efc26bb9f2ac92e356",
                HexFormat.of().formatHex(RecordProtection.expandLabel(secret, "key", 16)));
        assertEquals(
                "cf782b88dd83549aadf1e984", HexFormat.of().formatHex(RecordProtection.expandLabel(secret, "iv", 12)));
        for (String label : new String[] {"key", "iv", "traffic upd"}) {
            int length = label.equals("iv") ? 12 : label.equals("key") ? 32 : 32;
            byte[] theirs = TlsCryptoUtils.hkdfExpandLabel(
                            Settings.CRYPTO.createSecret(fromUs),
                            CryptoHashAlgorithm.sha256,
                            label,
                            new byte[0],
                            length)
                    .extract();
            assertArrayEquals(theirs, RecordProtection.expandLabel(fromUs, label, length), label);
        }
    }

    @Test
    void newSessionTicketsAreIgnoredWholeOrSplit() throws IOException {
        byte[] ticket = new byte[4 + 300];
        ticket[0] = 4;
        ticket[2] = 300 >>> 8;
        ticket[3] = (byte) 300;
        byte[] two = new byte[ticket.length * 2];
        System.arraycopy(ticket, 0, two, 0, ticket.length);
        System.arraycopy(ticket, 0, two, ticket.length, ticket.length);
        Peer peer = new Peer(AES)
                .record(HANDSHAKE, two)
                .record(HANDSHAKE, Arrays.copyOf(ticket, 100))
                .record(HANDSHAKE, Arrays.copyOfRange(ticket, 100, ticket.length))
                .data("after the tickets")
                .alert(AlertDescription.close_notify);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        assertEquals("after the tickets", new String(readAll(us(AES, peer.bytes(), sent))));
        assertEquals(0, sent.size(), "a ticket is not answered");
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void keyUpdateIsFollowedAndAnsweredWhenRequested(int suite) throws IOException {
        Peer peer = new Peer(suite)
                .data("one ")
                .keyUpdate(0)
                .data("two ")
                .keyUpdate(1)
                .data("three");
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(suite, peer.bytes(), sent);
        byte[] got = new byte[13];
        for (int done = 0; done < got.length; ) {
            done += layer.read(got, done, got.length - done);
        }
        assertEquals("one two three", new String(got));
        // exactly one KeyUpdate(update_not_requested) answered the request, then our data under the next key
        layer.write("reply".getBytes(), 0, 5);
        byte[] wire = sent.toByteArray();
        int[] position = {0};
        assertArrayEquals(new byte[] {24, 0, 0, 1, 0, HANDSHAKE}, peer.open(wire, position));
        peer.opener.update();
        assertArrayEquals(new byte[] {'r', 'e', 'p', 'l', 'y', APPLICATION_DATA}, peer.open(wire, position));
        assertEquals(wire.length, position[0]);
    }

    @Test
    void keyUpdateMustEndItsRecord() throws IOException {
        Peer peer = new Peer(AES).record(HANDSHAKE, new byte[] {24, 0, 0, 1, 0, 4, 0, 0, 0});
        assertAlert(AlertDescription.unexpected_message, us(AES, peer.bytes(), new ByteArrayOutputStream()));
    }

    @Test
    void otherHandshakeMessagesAndContentTypesAreRefused() throws IOException {
        byte[] finished = new byte[4 + 32];
        finished[0] = 20;
        finished[3] = 32;
        assertAlert(
                AlertDescription.unexpected_message,
                us(AES, new Peer(AES).record(HANDSHAKE, finished).bytes(), new ByteArrayOutputStream()));
        assertAlert(
                AlertDescription.unexpected_message,
                us(AES, new Peer(AES).record((byte) 20, new byte[] {1}).bytes(), new ByteArrayOutputStream()));
        assertAlert(
                AlertDescription.unexpected_message,
                us(AES, new Peer(AES).record(HANDSHAKE, new byte[0]).bytes(), new ByteArrayOutputStream()));
        // an unprotected record (here a change_cipher_spec) after the handshake
        assertAlert(
                AlertDescription.unexpected_message,
                us(AES, new byte[] {20, 3, 3, 0, 1, 1}, new ByteArrayOutputStream()));
    }

    @Test
    void recordWithoutContentTypeIsRefused() throws IOException {
        Peer peer = new Peer(AES);
        byte[] record = new byte[HEADER + 10 + TAG];
        // ten zero bytes sealed with "content type" 0: all padding, no type
        peer.wire.write(record, 0, peer.sealer.seal(record, 9, (byte) 0));
        assertAlert(AlertDescription.unexpected_message, us(AES, peer.bytes(), new ByteArrayOutputStream()));
    }

    @Test
    void paddingIsRemoved() throws IOException {
        Peer peer = new Peer(AES);
        byte[] record = new byte[HEADER + 3 + 1 + 20 + TAG];
        record[HEADER] = 'a';
        record[HEADER + 1] = 'b';
        record[HEADER + 2] = 'c';
        record[HEADER + 3] = APPLICATION_DATA; // then 20 zero bytes of padding, sealed as content of type 0
        peer.wire.write(record, 0, peer.sealer.seal(record, 3 + 1 + 19, (byte) 0));
        peer.alert(AlertDescription.close_notify);
        assertEquals("abc", new String(readAll(us(AES, peer.bytes(), new ByteArrayOutputStream()))));
    }

    @Test
    void oversizeRecordsAreRefused() throws IOException {
        byte[] header = {APPLICATION_DATA, 3, 3, (byte) ((MAX_CIPHERTEXT + 1) >>> 8), (byte) (MAX_CIPHERTEXT + 1)};
        assertAlert(AlertDescription.record_overflow, us(AES, header, new ByteArrayOutputStream()));
        Peer peer = new Peer(AES).record(APPLICATION_DATA, new byte[MAX_PLAINTEXT + 1]);
        assertAlert(AlertDescription.record_overflow, us(AES, peer.bytes(), new ByteArrayOutputStream()));
    }

    @Test
    void writesAreCutIntoRecordsOfAtMostTwoToTheFourteen() throws IOException {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(AES, new byte[0], sent);
        byte[] data = random(40_000, 9);
        layer.write(data, 0, data.length);
        Peer peer = new Peer(AES);
        byte[] wire = sent.toByteArray();
        int[] position = {0};
        ByteArrayOutputStream opened = new ByteArrayOutputStream();
        while (position[0] < wire.length) {
            byte[] inner = peer.open(wire, position);
            assertTrue(inner.length - 1 <= MAX_PLAINTEXT);
            assertEquals(APPLICATION_DATA, inner[inner.length - 1]);
            opened.write(inner, 0, inner.length - 1);
        }
        assertArrayEquals(data, opened.toByteArray());
        assertEquals(3 * (HEADER + 1 + TAG) + data.length, wire.length, "three records");
    }

    @Test
    void oneReadHandsOutTheRecordsAlreadyReadWhole() throws IOException {
        Peer peer = new Peer(AES).data("one ").data("two ").data("three");
        RecordLayer layer = unfragmented(peer.bytes());
        byte[] got = new byte[100];
        assertEquals(13, layer.read(got, 0, got.length), "three records in one read");
        assertEquals("one two three", new String(got, 0, 13, StandardCharsets.UTF_8));
    }

    @Test
    void aForgedRecordAfterGoodOnesFailsTheNextReadNotTheDataBeforeIt() throws IOException {
        Peer peer = new Peer(AES).data("good").data("forged");
        byte[] wire = peer.bytes();
        wire[wire.length - 1] ^= 1; // the last record's tag
        RecordLayer layer = unfragmented(wire);
        byte[] got = new byte[100];
        assertEquals(4, layer.read(got, 0, got.length));
        assertEquals("good", new String(got, 0, 4, StandardCharsets.UTF_8));
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, () -> layer.read(got, 0, got.length));
        assertEquals(AlertDescription.bad_record_mac, alert.getAlertDescription());
    }

    @Test
    void aStreamOfFullRecordsIsReadSeveralRecordsPerRead() throws IOException {
        Peer peer = new Peer(AES);
        byte[] data = random(8 * MAX_PLAINTEXT, 12);
        for (int i = 0; i < 8; i++) {
            peer.record(APPLICATION_DATA, Arrays.copyOfRange(data, i * MAX_PLAINTEXT, (i + 1) * MAX_PLAINTEXT));
        }
        int[] reads = {0};
        InputStream counted = new FilterInputStream(new ByteArrayInputStream(peer.bytes())) {
            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                reads[0]++;
                return super.read(buffer, offset, length);
            }
        };
        RecordLayer layer = new RecordLayer(
                counted,
                new ByteArrayOutputStream(),
                new RecordProtection(AES, toUs, false, 0),
                new RecordProtection(AES, fromUs, true, 0),
                true);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buffer = new byte[RecordLayer.RECORDS_PER_READ * MAX_PLAINTEXT];
        for (int n; got.size() < data.length && (n = layer.read(buffer, 0, buffer.length)) > 0; ) {
            got.write(buffer, 0, n);
        }
        assertArrayEquals(data, got.toByteArray());
        assertTrue(reads[0] <= 5, "two reads per record before read-ahead (16), got " + reads[0]);
    }

    private RecordLayer unfragmented(byte[] wire) throws IOException {
        return new RecordLayer(
                new ByteArrayInputStream(wire),
                new ByteArrayOutputStream(),
                new RecordProtection(AES, toUs, false, 0),
                new RecordProtection(AES, fromUs, true, 0),
                true);
    }

    @Test
    void upToFourRecordsLeaveInOneWrite() throws IOException {
        CountingOutput sent = new CountingOutput();
        RecordLayer layer = us(AES, new byte[0], sent);
        byte[] data = random(5 * MAX_PLAINTEXT + 100, 10); // six records
        layer.write(data, 0, data.length);
        assertEquals(2, sent.writes, "four records, then two");
        assertArrayEquals(data, openAll(new Peer(AES), sent.toByteArray(), 6));
    }

    @Test
    void ourOwnKeyUpdateInsideABatchFollowsTheRecordsSealedBeforeIt() throws IOException {
        CountingOutput sent = new CountingOutput();
        // the third record of the batch is the last one the first key may seal
        RecordLayer layer = new RecordLayer(
                new ByteArrayInputStream(new byte[0]),
                sent,
                new RecordProtection(AES, toUs, false, 0),
                new RecordProtection(AES, fromUs, true, RecordProtection.RECORDS_PER_KEY - 3),
                true);
        byte[] data = random(4 * MAX_PLAINTEXT, 11);
        layer.write(data, 0, data.length);
        byte[] wire = sent.toByteArray();
        RecordProtection opener = new RecordProtection(AES, fromUs, false, RecordProtection.RECORDS_PER_KEY - 3);
        int position = 0;
        ByteArrayOutputStream opened = new ByteArrayOutputStream();
        for (int record = 0; record < 5; record++) {
            int length = ((wire[position + 3] & 0xff) << 8) | (wire[position + 4] & 0xff);
            byte[] sealed = Arrays.copyOfRange(wire, position, position + HEADER + length);
            position += HEADER + length;
            int inner = opener.open(sealed, length);
            byte type = sealed[HEADER + inner - 1];
            if (record == 3) {
                assertEquals(HANDSHAKE, type, "the KeyUpdate after three records under the first key");
                opener.update();
            } else {
                assertEquals(APPLICATION_DATA, type);
                opened.write(sealed, HEADER, inner - 1);
            }
        }
        assertEquals(wire.length, position);
        assertArrayEquals(data, opened.toByteArray());
    }

    /** Opens {@code records} application data records of {@code wire}; returns their content. */
    private static byte[] openAll(Peer peer, byte[] wire, int records) throws IOException {
        int[] position = {0};
        ByteArrayOutputStream opened = new ByteArrayOutputStream();
        for (int i = 0; i < records; i++) {
            byte[] inner = peer.open(wire, position);
            assertEquals(APPLICATION_DATA, inner[inner.length - 1]);
            opened.write(inner, 0, inner.length - 1);
        }
        assertEquals(wire.length, position[0]);
        return opened.toByteArray();
    }

    /** Counts the writes that reach the socket. */
    private static final class CountingOutput extends ByteArrayOutputStream {
        int writes;

        @Override
        public synchronized void write(byte[] bytes, int offset, int length) {
            writes++;
            super.write(bytes, offset, length);
        }
    }

    @Test
    void replayedReorderedAndFlippedRecordsFailAuthenticationWithoutPlaintext() throws IOException {
        Peer peer = new Peer(AES).data("first").data("second");
        byte[] wire = peer.bytes();
        int firstLength = HEADER + 5 + 1 + TAG;
        byte[] first = Arrays.copyOf(wire, firstLength);
        byte[] second = Arrays.copyOfRange(wire, firstLength, wire.length);

        byte[] replayed = concat(first, first);
        byte[] reordered = concat(second, first);
        byte[] flipped = wire.clone();
        flipped[firstLength + HEADER + 2] ^= 1;
        byte[] header = wire.clone();
        header[2] = 1; // the header is additional data: legacy_record_version 3.1

        RecordLayer layer = us(AES, replayed, new ByteArrayOutputStream());
        byte[] got = new byte[5];
        assertEquals(5, readFully(layer, got));
        assertAlert(AlertDescription.bad_record_mac, layer);
        assertAlert(AlertDescription.bad_record_mac, us(AES, reordered, new ByteArrayOutputStream()));
        layer = us(AES, flipped, new ByteArrayOutputStream());
        assertEquals(5, readFully(layer, got));
        assertAlert(AlertDescription.bad_record_mac, layer);
        assertAlert(AlertDescription.bad_record_mac, us(AES, header, new ByteArrayOutputStream()));
    }

    @Test
    void sequenceNumbersNeverWrap() throws IOException {
        RecordProtection sealer = new RecordProtection(AES, fromUs, true, -2L);
        RecordProtection opener = new RecordProtection(AES, fromUs, false, -2L);
        byte[] record = new byte[HEADER + 1 + TAG + 1];
        int length = sealer.seal(record, 1, APPLICATION_DATA);
        assertEquals(2, opener.open(record, length - HEADER), "sequence number 2^64 - 2 is used as any other");
        TlsFatalAlert exhausted = assertThrows(TlsFatalAlert.class, () -> sealer.seal(record, 1, APPLICATION_DATA));
        assertEquals(AlertDescription.internal_error, exhausted.getAlertDescription());
        assertThrows(TlsFatalAlert.class, () -> opener.open(record, length - HEADER));
    }

    @Test
    void sequenceNumbersMustMatch() throws IOException {
        RecordProtection sealer = new RecordProtection(AES, fromUs, true, 1);
        RecordProtection opener = new RecordProtection(AES, fromUs, false, 0);
        byte[] record = new byte[HEADER + 1 + TAG + 1];
        int length = sealer.seal(record, 1, APPLICATION_DATA);
        TlsFatalAlert skipped = assertThrows(TlsFatalAlert.class, () -> opener.open(record, length - HEADER));
        assertEquals(AlertDescription.bad_record_mac, skipped.getAlertDescription());
    }

    @Test
    void closeNotifyEndsInputOnlyAndWhatFollowsIsNotRead() throws IOException {
        byte[] wire = concat(
                new Peer(AES).data("data").alert(AlertDescription.close_notify).bytes(),
                new byte[] {1, 2, 3, 4, 5, 6, 7}); // anything after close_notify is never read
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(AES, wire, sent);
        assertEquals("data", new String(readAll(layer)));
        assertEquals(-1, layer.read(new byte[1], 0, 1));
        layer.write(new byte[] {42}, 0, 1); // our direction goes on
        layer.sendCloseNotify();
        layer.sendCloseNotify(); // once only
        byte[] out = sent.toByteArray();
        int[] position = {0};
        Peer peer = new Peer(AES);
        assertArrayEquals(new byte[] {42, APPLICATION_DATA}, peer.open(out, position));
        assertArrayEquals(new byte[] {1, 0, ALERT}, peer.open(out, position));
        assertEquals(out.length, position[0]);
        assertThrows(SocketException.class, () -> layer.write(new byte[1], 0, 1));
    }

    @Test
    void otherAlertsEndTheConnection() throws IOException {
        RecordLayer layer =
                us(AES, new Peer(AES).alert(AlertDescription.handshake_failure).bytes(), new ByteArrayOutputStream());
        TlsFatalAlertReceived received = assertThrows(TlsFatalAlertReceived.class, () -> layer.read(new byte[1], 0, 1));
        assertEquals(AlertDescription.handshake_failure, received.getAlertDescription());
        assertAlert(
                AlertDescription.decode_error,
                us(AES, new Peer(AES).record(ALERT, new byte[] {1, 0, 0}).bytes(), new ByteArrayOutputStream()));
    }

    @Test
    void anEndWithoutCloseNotifyIsATruncation() throws IOException {
        byte[] wire = new Peer(AES).data("data").data("more").bytes();
        RecordLayer atBoundary = us(AES, Arrays.copyOf(wire, wire.length / 2), new ByteArrayOutputStream());
        assertEquals(4, readFully(atBoundary, new byte[4]));
        assertThrows(EOFException.class, () -> atBoundary.read(new byte[1], 0, 1));
        RecordLayer inside = us(AES, Arrays.copyOf(wire, wire.length - 3), new ByteArrayOutputStream());
        assertEquals(4, readFully(inside, new byte[4]));
        assertThrows(EOFException.class, () -> inside.read(new byte[1], 0, 1));
    }

    @Test
    void readTimeoutsLoseNothing() throws IOException {
        Peer peer = new Peer(CHACHA);
        byte[] data = random(50_000, 10);
        for (int i = 0; i < data.length; i += 1_000) {
            peer.record(APPLICATION_DATA, Arrays.copyOfRange(data, i, i + 1_000));
        }
        peer.alert(AlertDescription.close_notify);
        InputStream timingOut = new FilterInputStream(new ByteArrayInputStream(peer.bytes())) {
            private int calls;

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                if (++calls % 3 == 0) {
                    throw new SocketTimeoutException("read timed out");
                }
                return super.read(buffer, offset, Math.min(length, 100));
            }
        };
        RecordLayer layer = us(CHACHA, timingOut, new ByteArrayOutputStream());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buffer = new byte[700];
        int timeouts = 0;
        while (true) {
            int n;
            try {
                n = layer.read(buffer, 0, buffer.length);
            } catch (SocketTimeoutException e) {
                timeouts++;
                continue;
            }
            if (n < 0) {
                break;
            }
            got.write(buffer, 0, n);
        }
        assertTrue(timeouts > 100, "timeouts: " + timeouts);
        assertArrayEquals(data, got.toByteArray());
    }

    @Test
    void paddingCannotStretchARecordPastTheLimit() throws IOException {
        Peer peer = new Peer(AES);
        byte[] record = new byte[HEADER + MAX_PLAINTEXT + 1 + 200 + TAG];
        record[HEADER + MAX_PLAINTEXT] = APPLICATION_DATA; // 2^14 bytes of content, its type, then 199 zeros
        peer.wire.write(record, 0, peer.sealer.seal(record, MAX_PLAINTEXT + 1 + 199, (byte) 0));
        assertAlert(AlertDescription.record_overflow, us(AES, peer.bytes(), new ByteArrayOutputStream()));
    }

    @Test
    void nothingMayComeBetweenTheRecordsOfASplitHandshakeMessage() throws IOException {
        Peer peer =
                new Peer(AES).record(HANDSHAKE, new byte[] {4, 0, 0, 8, 1, 2}).data("in between");
        assertAlert(AlertDescription.unexpected_message, us(AES, peer.bytes(), new ByteArrayOutputStream()));
    }

    @Test
    void aServerRefusesANewSessionTicketFromItsClient() throws IOException {
        Peer peer = new Peer(AES).record(HANDSHAKE, new byte[] {4, 0, 0, 1, 0});
        RecordLayer server = new RecordLayer(
                new ByteArrayInputStream(peer.bytes()),
                new ByteArrayOutputStream(),
                new RecordProtection(AES, toUs, false, 0),
                new RecordProtection(AES, fromUs, true, 0),
                false);
        assertAlert(AlertDescription.unexpected_message, server);
    }

    /** RFC 8446 5.5: no key seals too many records; we move to the next one by our own KeyUpdate, unasked. */
    @Test
    void weUpdateOurSendingKeyBeforeItSealsTooManyRecords() throws IOException {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        long last = RecordProtection.RECORDS_PER_KEY - 1;
        RecordLayer layer = new RecordLayer(
                new ByteArrayInputStream(new byte[0]),
                sent,
                new RecordProtection(AES, toUs, false, 0),
                new RecordProtection(AES, fromUs, true, last),
                true);
        layer.write(new byte[MAX_PLAINTEXT + 10], 0, MAX_PLAINTEXT + 10);
        RecordProtection peerOpener = new RecordProtection(AES, fromUs, false, last);
        byte[] wire = sent.toByteArray();
        int[] position = {0};
        byte[] first = openNext(peerOpener, wire, position);
        assertEquals(MAX_PLAINTEXT + 1, first.length);
        assertEquals(APPLICATION_DATA, first[first.length - 1]);
        assertArrayEquals(
                new byte[] {24, 0, 0, 1, 0, HANDSHAKE},
                openNext(peerOpener, wire, position),
                "our own KeyUpdate, not asking the peer for one");
        peerOpener.update();
        byte[] second = openNext(peerOpener, wire, position);
        assertEquals(10 + 1, second.length, "the rest sealed under the next key, from sequence number 0");
        assertEquals(wire.length, position[0]);
    }

    @Test
    void aDestroyedLayerNeitherReadsNorOpens() throws IOException {
        Peer peer = new Peer(AES).data("late");
        RecordLayer layer = us(AES, peer.bytes(), new ByteArrayOutputStream());
        layer.destroy();
        assertThrows(SocketException.class, () -> layer.read(new byte[10], 0, 10));
    }

    private static byte[] openNext(RecordProtection opener, byte[] wire, int[] position) throws IOException {
        int length = ((wire[position[0] + 3] & 0xff) << 8) | (wire[position[0] + 4] & 0xff);
        byte[] record = Arrays.copyOfRange(wire, position[0], position[0] + HEADER + length);
        position[0] += HEADER + length;
        int inner = opener.open(record, length);
        return Arrays.copyOfRange(record, HEADER, HEADER + inner);
    }

    @Test
    void destroyWipesAndStopsOutput() throws IOException {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(AES, new byte[0], sent);
        layer.destroy();
        assertThrows(SocketException.class, () -> layer.write(new byte[1], 0, 1));
        assertEquals(false, layer.trySendAlert(AlertDescription.close_notify));
        assertEquals(0, sent.size());
    }

    @Test
    void buffersGrowWithTheLargestRecordAndNoFurther() {
        int limit = HEADER + MAX_CIPHERTEXT;
        byte[] small = RecordLayer.fitting(null, 30, limit);
        assertEquals(256, small.length, "a one-byte message does not cost a full record's buffer");
        assertTrue(small == RecordLayer.fitting(small, 200, limit));
        assertEquals(512, RecordLayer.fitting(small, 300, limit).length);
        assertEquals(5_000, RecordLayer.fitting(small, 5_000, limit).length);
        assertEquals(limit, RecordLayer.fitting(new byte[10_000], 10_001, limit).length);
    }

    private static void assertAlert(short expected, RecordLayer layer) {
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, () -> readAll(layer));
        assertEquals(AlertDescription.getText(expected), AlertDescription.getText(alert.getAlertDescription()));
    }

    private static byte[] readAll(RecordLayer layer) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[5_000];
        for (int n; (n = layer.read(buffer, 0, buffer.length)) >= 0; ) {
            all.write(buffer, 0, n);
        }
        return all.toByteArray();
    }

    private static int readFully(RecordLayer layer, byte[] into) throws IOException {
        int done = 0;
        while (done < into.length) {
            int n = layer.read(into, done, into.length - done);
            if (n < 0) {
                break;
            }
            done += n;
        }
        return done;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
