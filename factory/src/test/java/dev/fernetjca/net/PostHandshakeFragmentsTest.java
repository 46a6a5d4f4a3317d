package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_PLAINTEXT;
import static dev.fernetjca.net.RecordProtection.TAG;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Post-handshake messages split one byte per record, as a hostile or odd peer may send them, through both record
 * layers: the socket's ({@link RecordLayer}) and the SSLEngine's ({@link EngineRecords}). A ticket is skipped and a
 * KeyUpdate followed all the same; the longest message is joined and one byte more is refused with the same alert.
 */
@Timeout(60)
class PostHandshakeFragmentsTest {
    private static final int SUITE = CipherSuite.TLS_AES_128_GCM_SHA256;
    private static final int LONGEST = PostHandshake.MAX_MESSAGE;
    private static final byte[] KEY_UPDATE_REQUESTED = {24, 0, 0, 1, 1};

    private final byte[] toUs = secret(7);
    private final byte[] fromUs = secret(8);

    private static byte[] secret(int seed) {
        byte[] secret = new byte[32];
        for (int i = 0; i < secret.length; i++) {
            secret[i] = (byte) (seed * 13 + i);
        }
        return secret;
    }

    /** The peer: seals records to us into {@link #wire}. */
    private final class Peer {
        final RecordProtection sealer;
        final ByteArrayOutputStream wire = new ByteArrayOutputStream();

        Peer() throws IOException {
            sealer = new RecordProtection(SUITE, toUs, true, 0);
        }

        Peer record(byte type, byte[] content) throws IOException {
            byte[] record = new byte[HEADER + content.length + 1 + TAG];
            System.arraycopy(content, 0, record, HEADER, content.length);
            wire.write(record, 0, sealer.seal(record, content.length, type));
            return this;
        }

        /** Sends {@code messages} one byte per record. */
        Peer bytewise(byte[] messages) throws IOException {
            for (byte b : messages) {
                record(HANDSHAKE, new byte[] {b});
            }
            return this;
        }

        /** Sends KeyUpdate(update_requested) one byte per record, then moves to its next key, as it must. */
        Peer keyUpdateBytewise() throws IOException {
            bytewise(KEY_UPDATE_REQUESTED);
            sealer.update();
            return this;
        }

        Peer data(String text) throws IOException {
            return record(APPLICATION_DATA, text.getBytes(US_ASCII));
        }
    }

    private static byte[] ticket(int bodyLength) {
        byte[] ticket = new byte[4 + bodyLength];
        Arrays.fill(ticket, (byte) 0x33);
        ticket[0] = 4;
        ticket[1] = (byte) (bodyLength >>> 16);
        ticket[2] = (byte) (bodyLength >>> 8);
        ticket[3] = (byte) bodyLength;
        return ticket;
    }

    private RecordLayer socketSide(Peer peer, ByteArrayOutputStream sent, boolean client) throws IOException {
        return new RecordLayer(
                new FragmentingInputStream(new ByteArrayInputStream(peer.wire.toByteArray()), 5, 40),
                new BufferedOutputStream(sent, 1 << 16), // only what is flushed reaches the peer
                new RecordProtection(SUITE, toUs, false, 0),
                new RecordProtection(SUITE, fromUs, true, 0),
                client);
    }

    /** Reads what the socket side hands out until the peer's records end. */
    private static String readAll(RecordLayer layer) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buffer = new byte[100];
        try {
            for (int n; (n = layer.read(buffer, 0, buffer.length)) > 0; ) {
                got.write(buffer, 0, n);
            }
        } catch (EOFException end) {
            // the test's wire simply ends
        }
        return got.toString(US_ASCII);
    }

    private EngineRecords engineSide(boolean client) throws IOException {
        return new EngineRecords(
                new RecordProtection(SUITE, toUs, false, 0), new RecordProtection(SUITE, fromUs, true, 0), client);
    }

    /** Opens every record of the peer's wire through the engine side; returns the application data. */
    private static String openAll(EngineRecords records, Peer peer) throws IOException {
        ByteBuffer wire = ByteBuffer.wrap(peer.wire.toByteArray());
        ByteBuffer app = ByteBuffer.allocate(MAX_PLAINTEXT);
        while (wire.hasRemaining()) {
            int body = ((wire.get(wire.position() + 3) & 0xff) << 8) | (wire.get(wire.position() + 4) & 0xff);
            records.open(wire, body, new ByteBuffer[] {app}, 0, 1);
        }
        return new String(app.array(), 0, app.position(), US_ASCII);
    }

    /** The peer's record opener, to read what we sent. */
    private byte[] openOurs(byte[] sent, int[] position, RecordProtection opener) throws IOException {
        int length = ((sent[position[0] + 3] & 0xff) << 8) | (sent[position[0] + 4] & 0xff);
        byte[] record = Arrays.copyOfRange(sent, position[0], position[0] + HEADER + length);
        position[0] += HEADER + length;
        int inner = opener.open(record, length);
        return Arrays.copyOfRange(record, HEADER, HEADER + inner);
    }

    @Test
    void aTicketAndAKeyUpdateOneBytePerRecordAreFollowedByTheSocket() throws IOException {
        Peer peer = new Peer()
                .data("before ")
                .bytewise(ticket(300))
                .keyUpdateBytewise()
                .data("after");
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = socketSide(peer, sent, true);
        assertEquals("before after", readAll(layer), "the data after the KeyUpdate opens under the peer's next key");
        int[] position = {0};
        RecordProtection peerOpener = new RecordProtection(SUITE, fromUs, false, 0);
        assertArrayEquals(
                new byte[] {24, 0, 0, 1, 0, HANDSHAKE}, openOurs(sent.toByteArray(), position, peerOpener), "answered");
        assertEquals(sent.size(), position[0], "answered once");
    }

    @Test
    void aTicketAndAKeyUpdateOneBytePerRecordAreFollowedByTheEngine() throws IOException {
        Peer peer = new Peer()
                .data("before ")
                .bytewise(ticket(300))
                .keyUpdateBytewise()
                .data("after");
        EngineRecords records = engineSide(true);
        assertFalse(records.keyUpdateOwed());
        assertEquals("before after", openAll(records, peer));
        assertTrue(records.keyUpdateOwed(), "update_requested: ours is owed");
        ByteBuffer answer = ByteBuffer.allocate(100);
        assertTrue(records.sealKeyUpdate(answer));
        answer.flip();
        byte[] sent = new byte[answer.remaining()];
        answer.get(sent);
        int[] position = {0};
        assertArrayEquals(
                new byte[] {24, 0, 0, 1, 0, HANDSHAKE},
                openOurs(sent, position, new RecordProtection(SUITE, fromUs, false, 0)));
    }

    @ParameterizedTest(name = "client {0}")
    @ValueSource(booleans = {true, false})
    void aKeyUpdateOneBytePerRecordIsFollowedOnEitherSide(boolean client) throws IOException {
        Peer peer = new Peer().keyUpdateBytewise().data("next key");
        assertEquals("next key", readAll(socketSide(peer, new ByteArrayOutputStream(), client)));
        assertEquals("next key", openAll(engineSide(client), peer));
    }

    @Test
    void aServerRefusesATicketAtItsFirstByteOnBoth() throws IOException {
        Peer peer = new Peer().bytewise(ticket(300));
        TlsFatalAlert socket =
                assertThrows(TlsFatalAlert.class, () -> readAll(socketSide(peer, new ByteArrayOutputStream(), false)));
        assertEquals(AlertDescription.unexpected_message, socket.getAlertDescription());
        TlsFatalAlert engine = assertThrows(TlsFatalAlert.class, () -> openAll(engineSide(false), peer));
        assertEquals(AlertDescription.unexpected_message, engine.getAlertDescription());
        assertEquals(socket.getMessage(), engine.getMessage(), "the same reader, the same words");
    }

    @Test
    void theLongestTicketOneBytePerRecordIsJoinedOnBoth() throws IOException {
        Peer peer = new Peer().bytewise(ticket(LONGEST)).data("after the ticket");
        assertEquals("after the ticket", readAll(socketSide(peer, new ByteArrayOutputStream(), true)));
        assertEquals("after the ticket", openAll(engineSide(true), peer));
    }

    @Test
    void aLengthOverTheLongestIsRefusedWithTheSameAlertOnBoth() throws IOException {
        // a length one over the longest, its header one byte per record: refused before any body arrives
        int over = LONGEST + 1;
        assertTooLong(new Peer().bytewise(new byte[] {4, (byte) (over >>> 16), (byte) (over >>> 8), (byte) over}));
        // the same header after the longest ticket, in the record that ends it: the bound is per message
        byte[] longest = ticket(LONGEST);
        assertTooLong(new Peer()
                .bytewise(Arrays.copyOf(longest, longest.length - 1))
                .record(HANDSHAKE, new byte[] {
                    longest[longest.length - 1], 4, (byte) (over >>> 16), (byte) (over >>> 8), (byte) over
                }));
    }

    /**
     * RFC 8446 5.1: a record may carry the end of one message and the start of the next. A ticket near the longest, its
     * last record also the start of a second ticket: together more than the longest message, each within it.
     */
    @Test
    void aRecordEndingANearLongestTicketMayStartTheNextOnBoth() throws IOException {
        byte[] first = ticket(LONGEST - 4);
        byte[] second = ticket(300);
        byte[] joint = new byte[first.length - 16000 + 200];
        System.arraycopy(first, 16000, joint, 0, first.length - 16000);
        System.arraycopy(second, 0, joint, first.length - 16000, 200);
        Peer peer = new Peer()
                .record(HANDSHAKE, Arrays.copyOf(first, 16000))
                .record(HANDSHAKE, joint)
                .record(HANDSHAKE, Arrays.copyOfRange(second, 200, second.length))
                .record(HANDSHAKE, KEY_UPDATE_REQUESTED);
        peer.sealer.update();
        peer.data("after");
        assertEquals("after", readAll(socketSide(peer, new ByteArrayOutputStream(), true)));
        EngineRecords records = engineSide(true);
        assertEquals("after", openAll(records, peer));
        assertTrue(records.keyUpdateOwed(), "the KeyUpdate after both tickets was followed");
    }

    @Test
    void destroyingEitherSideWipesTheStartOfAMessageItHolds() throws Exception {
        Peer peer = new Peer().data("x").bytewise(Arrays.copyOf(ticket(300), 10));
        RecordLayer layer = socketSide(peer, new ByteArrayOutputStream(), true);
        assertEquals("x", readAll(layer));
        byte[] socketHeld = held(field(layer, "postHandshake"));
        assertFalse(zeros(socketHeld), "ten bytes of a ticket held");
        layer.destroy();
        assertTrue(zeros(socketHeld), "wiped by the socket side's destroy");

        EngineRecords records = engineSide(true);
        assertEquals("x", openAll(records, peer));
        byte[] engineHeld = held(field(records, "postHandshake"));
        assertFalse(zeros(engineHeld), "ten bytes of a ticket held");
        records.destroyOpener();
        assertTrue(zeros(engineHeld), "wiped with the engine side's receiving key");
    }

    /** Our own private field, read by reflection: nothing else can see a wipe. */
    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        Field field = owner.getClass().getDeclaredField(name);
        field.setAccessible(true);
        return field.get(owner);
    }

    private static byte[] held(Object postHandshake) throws ReflectiveOperationException {
        return (byte[]) field(postHandshake, "held");
    }

    private static boolean zeros(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private void assertTooLong(Peer peer) {
        TlsFatalAlert socket =
                assertThrows(TlsFatalAlert.class, () -> readAll(socketSide(peer, new ByteArrayOutputStream(), true)));
        assertEquals(AlertDescription.unexpected_message, socket.getAlertDescription());
        assertTrue(socket.getMessage().endsWith("; post-handshake message too long"), socket.getMessage());
        TlsFatalAlert engine = assertThrows(TlsFatalAlert.class, () -> openAll(engineSide(true), peer));
        assertEquals(AlertDescription.unexpected_message, engine.getAlertDescription());
        assertTrue(engine.getMessage().endsWith("; post-handshake message too long"), engine.getMessage());
    }
}
