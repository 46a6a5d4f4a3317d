package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_PLAINTEXT;
import static dev.fernetjca.net.RecordProtection.TAG;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine's record layer alone: records crafted by a peer's {@link RecordProtection}, so that post-handshake
 * messages, padding, alerts and malformed records can be built, opened from and sealed into ByteBuffers.
 */
class EngineRecordsTest {
    private static final int AES = CipherSuite.TLS_AES_128_GCM_SHA256;
    private static final int CHACHA = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;

    private final byte[] toUs = random(32, 1);
    private final byte[] fromUs = random(32, 2);

    private static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private EngineRecords us(int suite, boolean client) throws IOException {
        return new EngineRecords(
                new RecordProtection(suite, toUs, false, 0), new RecordProtection(suite, fromUs, true, 0), client);
    }

    /** The peer: seals records to us, opens ours. */
    private final class Peer {
        final RecordProtection sealer;
        final RecordProtection opener;

        Peer(int suite) throws IOException {
            sealer = new RecordProtection(suite, toUs, true, 0);
            opener = new RecordProtection(suite, fromUs, false, 0);
        }

        /** Seals content, its type, then {@code padding} zeros (RFC 8446 5.4). */
        ByteBuffer record(byte type, byte[] content, int padding) throws IOException {
            byte[] record = new byte[HEADER + content.length + 1 + padding + TAG];
            System.arraycopy(content, 0, record, HEADER, content.length);
            if (padding == 0) {
                return ByteBuffer.wrap(record, 0, sealer.seal(record, content.length, type));
            }
            record[HEADER + content.length] = type; // the last zero is what seal appends as the "type"
            return ByteBuffer.wrap(record, 0, sealer.seal(record, content.length + padding, (byte) 0));
        }

        ByteBuffer record(byte type, byte[] content) throws IOException {
            return record(type, content, 0);
        }

        /** Opens one record we sent; returns its inner plaintext (content and type). */
        byte[] open(ByteBuffer sent) throws IOException {
            int length = ((sent.get(sent.position() + 3) & 0xff) << 8) | (sent.get(sent.position() + 4) & 0xff);
            byte[] record = new byte[HEADER + length];
            sent.get(record);
            int inner = opener.open(record, length);
            return Arrays.copyOfRange(record, HEADER, HEADER + inner);
        }
    }

    private static int open(EngineRecords records, ByteBuffer record, ByteBuffer app) throws IOException {
        int body = ((record.get(record.position() + 3) & 0xff) << 8) | (record.get(record.position() + 4) & 0xff);
        return records.open(record, body, new ByteBuffer[] {app}, 0, 1);
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void keyUpdateIsFollowedAndAnsweredBeforeTheNextRecord(int suite) throws IOException {
        Peer peer = new Peer(suite);
        EngineRecords records = us(suite, true);
        ByteBuffer app = ByteBuffer.allocate(MAX_PLAINTEXT);
        assertEquals(4, open(records, peer.record(APPLICATION_DATA, "one ".getBytes(UTF_8)), app));
        assertEquals(0, open(records, peer.record(HANDSHAKE, new byte[] {24, 0, 0, 1, 0}), app));
        peer.sealer.update();
        assertFalse(records.keyUpdateOwed(), "update_not_requested asks for nothing");
        assertEquals(4, open(records, peer.record(APPLICATION_DATA, "two ".getBytes(UTF_8)), app));
        assertEquals(0, open(records, peer.record(HANDSHAKE, new byte[] {24, 0, 0, 1, 1}), app));
        peer.sealer.update();
        assertTrue(records.keyUpdateOwed());
        assertEquals(5, open(records, peer.record(APPLICATION_DATA, "three".getBytes(UTF_8)), app));
        assertEquals("one two three", new String(app.array(), 0, app.position(), UTF_8));

        ByteBuffer wire = ByteBuffer.allocate(1000);
        assertTrue(records.sealKeyUpdate(wire));
        assertFalse(records.keyUpdateOwed());
        records.sealData(new ByteBuffer[] {ByteBuffer.wrap("reply".getBytes(UTF_8))}, 0, 1, wire);
        wire.flip();
        assertArrayEquals(new byte[] {24, 0, 0, 1, 0, HANDSHAKE}, peer.open(wire));
        peer.opener.update();
        assertArrayEquals(new byte[] {'r', 'e', 'p', 'l', 'y', APPLICATION_DATA}, peer.open(wire));
    }

    @Test
    void newSessionTicketsAreIgnoredByAClientWholeOrSplitAndRefusedByAServer() throws IOException {
        Peer peer = new Peer(AES);
        EngineRecords client = us(AES, true);
        ByteBuffer app = ByteBuffer.allocate(MAX_PLAINTEXT);
        byte[] ticket = new byte[4 + 200];
        ticket[0] = 4;
        ticket[3] = (byte) 200;
        assertEquals(0, open(client, peer.record(HANDSHAKE, ticket), app));
        assertEquals(0, open(client, peer.record(HANDSHAKE, Arrays.copyOf(ticket, 100)), app));
        TlsFatalAlert between = assertThrows(
                TlsFatalAlert.class, () -> open(client, peer.record(APPLICATION_DATA, new byte[] {1}), app));
        assertEquals(AlertDescription.unexpected_message, between.getAlertDescription());

        Peer again = new Peer(AES);
        EngineRecords split = us(AES, true);
        assertEquals(0, open(split, again.record(HANDSHAKE, Arrays.copyOf(ticket, 100)), app));
        assertEquals(0, open(split, again.record(HANDSHAKE, Arrays.copyOfRange(ticket, 100, ticket.length)), app));
        assertEquals(1, open(split, again.record(APPLICATION_DATA, new byte[] {1}), app));

        TlsFatalAlert fromClient = assertThrows(
                TlsFatalAlert.class, () -> open(us(AES, false), new Peer(AES).record(HANDSHAKE, ticket), app));
        assertEquals(AlertDescription.unexpected_message, fromClient.getAlertDescription());
    }

    @Test
    void closeNotifyEndsInputAndOtherAlertsFail() throws IOException {
        Peer peer = new Peer(AES);
        EngineRecords records = us(AES, true);
        ByteBuffer app = ByteBuffer.allocate(MAX_PLAINTEXT);
        assertEquals(0, open(records, peer.record(ALERT, new byte[] {1, 0}), app));
        assertTrue(records.closeNotifyReceived());

        Peer other = new Peer(AES);
        TlsFatalAlertReceived received = assertThrows(
                TlsFatalAlertReceived.class,
                () -> open(us(AES, true), other.record(ALERT, new byte[] {2, AlertDescription.bad_record_mac}), app));
        assertEquals(AlertDescription.bad_record_mac, received.getAlertDescription());
    }

    @Test
    void malformedRecordsAreRefusedAndNothingReachesTheApplication() throws IOException {
        ByteBuffer app = ByteBuffer.allocate(MAX_PLAINTEXT);
        ByteBuffer forged = new Peer(AES).record(APPLICATION_DATA, "secret".getBytes(UTF_8));
        forged.put(HEADER + 1, (byte) (forged.get(HEADER + 1) ^ 1));
        assertAlert(AlertDescription.bad_record_mac, () -> open(us(AES, true), forged, app));
        ByteBuffer plain = new Peer(AES).record(APPLICATION_DATA, "secret".getBytes(UTF_8));
        plain.put(0, HANDSHAKE);
        assertAlert(AlertDescription.unexpected_message, () -> open(us(AES, true), plain, app));
        ByteBuffer noType = new Peer(AES).record((byte) 0, new byte[0]);
        assertAlert(AlertDescription.unexpected_message, () -> open(us(AES, true), noType, app));
        ByteBuffer keyUpdateThenMore = new Peer(AES).record(HANDSHAKE, new byte[] {24, 0, 0, 1, 0, 4, 0, 0, 0});
        assertAlert(AlertDescription.unexpected_message, () -> open(us(AES, true), keyUpdateThenMore, app));
        byte[] tooShort = new byte[HEADER + TAG];
        tooShort[0] = APPLICATION_DATA;
        tooShort[1] = 3;
        tooShort[2] = 3;
        tooShort[4] = TAG; // no room for a content type
        assertAlert(AlertDescription.decode_error, () -> open(us(AES, true), ByteBuffer.wrap(tooShort), app));
        assertAlert(
                AlertDescription.record_overflow,
                () -> us(AES, true).open(ByteBuffer.allocate(20_000), 16_641, new ByteBuffer[] {app}, 0, 1));
        assertEquals(0, app.position(), "no byte of a refused record reached the application");
    }

    @Test
    void paddingIsRemoved() throws IOException {
        ByteBuffer app = ByteBuffer.allocate(MAX_PLAINTEXT);
        assertEquals(2, open(us(AES, true), new Peer(AES).record(APPLICATION_DATA, new byte[] {7, 8}, 300), app));
        assertArrayEquals(new byte[] {7, 8}, Arrays.copyOf(app.array(), app.position()));
    }

    @Test
    void paddingCannotStretchARecordPastTheLimit() throws IOException {
        ByteBuffer app = ByteBuffer.allocate(MAX_PLAINTEXT);
        ByteBuffer longest = new Peer(AES).record(APPLICATION_DATA, random(MAX_PLAINTEXT - 199, 5), 199);
        assertEquals(MAX_PLAINTEXT - 199, open(us(AES, true), longest, app), "2^14 + 1 bytes with the padding");
        app.clear();
        ByteBuffer over = new Peer(AES).record(APPLICATION_DATA, random(MAX_PLAINTEXT, 6), 199);
        assertAlert(AlertDescription.record_overflow, () -> open(us(AES, true), over, app));
        assertEquals(0, app.position(), "no byte of a refused record reached the application");
    }

    @Test
    void dataIsSealedInRecordsThatFitTheBufferAndAtMostTwoToTheFourteen() throws IOException {
        EngineRecords records = us(AES, true);
        Peer peer = new Peer(AES);
        ByteBuffer data = ByteBuffer.wrap(random(40_000, 3));
        ByteBuffer small = ByteBuffer.allocate(EngineRecords.OVERHEAD);
        assertEquals(0, records.sealData(new ByteBuffer[] {data}, 0, 1, small), "no room for one byte");
        ByteBuffer wire = ByteBuffer.allocate(20_000);
        assertEquals(MAX_PLAINTEXT, records.sealData(new ByteBuffer[] {data}, 0, 1, wire));
        ByteBuffer tight = ByteBuffer.allocate(EngineRecords.OVERHEAD + 100);
        assertEquals(100, records.sealData(new ByteBuffer[] {data}, 0, 1, tight));
        wire.flip();
        assertEquals(MAX_PLAINTEXT + 1, peer.open(wire).length);
        tight.flip();
        assertEquals(101, peer.open(tight).length);
    }

    private static void assertAlert(short expected, Opening opening) {
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, opening::open);
        assertEquals(expected, alert.getAlertDescription(), alert.getMessage());
    }

    @FunctionalInterface
    private interface Opening {
        void open() throws IOException;
    }
}
