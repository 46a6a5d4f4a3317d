package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.TAG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The peer's KeyUpdate (RFC 8446 4.6.3) as the record layer must follow it: both requests, our answer and when it
 * leaves, the keys really changing in each direction, and the length checks on post-handshake messages (whole, split
 * over records, too long).
 */
@Timeout(30)
class RecordLayerKeyUpdateTest {
    private static final int AES = CipherSuite.TLS_AES_128_GCM_SHA256;
    private static final int CHACHA = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
    /** RFC 8446 4: a handshake message's body is at most what we keep, 2^14 bytes. */
    private static final int LONGEST_MESSAGE = 1 << 14;

    private final byte[] toUs = secret(3);
    private final byte[] fromUs = secret(4);

    private static byte[] secret(int seed) {
        byte[] secret = new byte[32];
        for (int i = 0; i < secret.length; i++) {
            secret[i] = (byte) (seed * 31 + i);
        }
        return secret;
    }

    /** The peer's side: seals what it sends us, opens what we send it. */
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
            return record(APPLICATION_DATA, text.getBytes(StandardCharsets.US_ASCII));
        }

        /** Sends KeyUpdate with {@code requested}; {@code follow}: moves to the next sending key, as it must. */
        Peer keyUpdate(int requested, boolean follow) throws IOException {
            record(HANDSHAKE, new byte[] {24, 0, 0, 1, (byte) requested});
            if (follow) {
                sealer.update();
            }
            return this;
        }

        /** Opens the record of {@code sent} at {@code position[0]}; returns content and type. */
        byte[] open(byte[] sent, int[] position) throws IOException {
            int length = ((sent[position[0] + 3] & 0xff) << 8) | (sent[position[0] + 4] & 0xff);
            byte[] record = Arrays.copyOfRange(sent, position[0], position[0] + HEADER + length);
            position[0] += HEADER + length;
            int inner = opener.open(record, length);
            return Arrays.copyOfRange(record, HEADER, HEADER + inner);
        }
    }

    private RecordLayer us(int suite, byte[] wire, ByteArrayOutputStream sent) throws IOException {
        return new RecordLayer(
                new FragmentingInputStream(new ByteArrayInputStream(wire), 2, 9),
                new BufferedOutputStream(sent, 1 << 16), // only what is flushed reaches the peer
                new RecordProtection(suite, toUs, false, 0),
                new RecordProtection(suite, fromUs, true, 0),
                true);
    }

    private static String read(RecordLayer layer, int length) throws IOException {
        byte[] got = new byte[length];
        for (int done = 0; done < length; ) {
            int n = layer.read(got, done, length - done);
            assertTrue(n > 0, "data expected, got " + n);
            done += n;
        }
        return new String(got, StandardCharsets.US_ASCII);
    }

    private static void assertAlert(short expected, String detail, RecordLayer layer) {
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, () -> {
            byte[] buffer = new byte[1 << 15];
            while (layer.read(buffer, 0, buffer.length) >= 0) {
                // keep reading until the refusal
            }
        });
        assertEquals(AlertDescription.getText(expected), AlertDescription.getText(alert.getAlertDescription()));
        assertTrue(alert.getMessage().contains(detail), alert.getMessage());
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void anUnrequestedKeyUpdateChangesOnlyThePeersKeyAndIsNotAnswered(int suite) throws IOException {
        Peer peer = new Peer(suite).data("before ").keyUpdate(0, true).data("after");
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(suite, peer.wire.toByteArray(), sent);
        assertEquals("before after", read(layer, 12));
        assertEquals(0, sent.size(), "update_not_requested is not answered");
        layer.write("reply".getBytes(StandardCharsets.US_ASCII), 0, 5);
        byte[] wire = sent.toByteArray();
        int[] position = {0};
        assertArrayEquals(
                new byte[] {'r', 'e', 'p', 'l', 'y', APPLICATION_DATA},
                peer.open(wire, position),
                "our sending key is the one from the handshake still");
        assertEquals(wire.length, position[0], "nothing but the reply");
    }

    @ParameterizedTest(name = "suite 0x{0}")
    @ValueSource(ints = {AES, CHACHA})
    void aRequestedKeyUpdateIsAnsweredAtOnceByTheReaderWhenNoWriterHoldsTheWire(int suite) throws IOException {
        Peer peer = new Peer(suite).keyUpdate(1, true).data("after");
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(suite, peer.wire.toByteArray(), sent);
        assertEquals("after", read(layer, 5));
        byte[] answer = sent.toByteArray();
        assertTrue(answer.length > 0, "answered and flushed before any write of ours");
        int[] position = {0};
        assertArrayEquals(
                new byte[] {24, 0, 0, 1, 0, HANDSHAKE},
                peer.open(answer, position),
                "KeyUpdate(update_not_requested), sealed under the old key");
        assertEquals(answer.length, position[0], "one answer");

        layer.write("x".getBytes(StandardCharsets.US_ASCII), 0, 1);
        byte[] next = Arrays.copyOfRange(sent.toByteArray(), answer.length, sent.size());
        int[] underOldKey = {0};
        TlsFatalAlert stale = assertThrows(TlsFatalAlert.class, () -> peer.open(next, underOldKey));
        assertEquals(AlertDescription.bad_record_mac, stale.getAlertDescription(), "the old key no longer opens it");
        RecordProtection updated = new RecordProtection(suite, fromUs, false, 0);
        updated.update();
        byte[] record = next.clone();
        int inner = updated.open(record, next.length - HEADER);
        assertArrayEquals(
                new byte[] {'x', APPLICATION_DATA},
                Arrays.copyOfRange(record, HEADER, HEADER + inner),
                "the next key, from sequence number 0");
    }

    @Test
    void aRecordSealedUnderThePeersOldKeyAfterItsKeyUpdateFails() throws IOException {
        Peer peer = new Peer(AES).keyUpdate(0, false).data("stale");
        assertAlert(AlertDescription.bad_record_mac, "", us(AES, peer.wire.toByteArray(), new ByteArrayOutputStream()));
    }

    @Test
    void aKeyUpdateWhoseBytesArriveInTwoRecordsIsFollowedOnceWhole() throws IOException {
        Peer peer = new Peer(AES).record(HANDSHAKE, new byte[] {24, 0}).record(HANDSHAKE, new byte[] {0, 1, 0});
        peer.sealer.update();
        peer.data("joined");
        assertEquals("joined", read(us(AES, peer.wire.toByteArray(), new ByteArrayOutputStream()), 6));
    }

    @Test
    void keyUpdatesOfTheWrongLengthOrRequestAreRefused() throws IOException {
        assertAlert(AlertDescription.decode_error, "KeyUpdate of 0 bytes", withHandshake(new byte[] {24, 0, 0, 0}));
        assertAlert(
                AlertDescription.decode_error, "KeyUpdate of 2 bytes", withHandshake(new byte[] {24, 0, 0, 2, 0, 0}));
        assertAlert(
                AlertDescription.illegal_parameter, "KeyUpdate request 2", withHandshake(new byte[] {24, 0, 0, 1, 2}));
        assertAlert(AlertDescription.illegal_parameter, "KeyUpdate request -1", withHandshake(new byte[] {
            24, 0, 0, 1, (byte) 0xff
        }));
    }

    private RecordLayer withHandshake(byte[] content) throws IOException {
        return us(AES, new Peer(AES).record(HANDSHAKE, content).wire.toByteArray(), new ByteArrayOutputStream());
    }

    @Test
    void aTicketOfTheLongestLengthArrivesSplitAndIsSkipped() throws IOException {
        byte[] ticket = new byte[4 + LONGEST_MESSAGE];
        ticket[0] = 4;
        ticket[1] = (byte) (LONGEST_MESSAGE >>> 16);
        ticket[2] = (byte) (LONGEST_MESSAGE >>> 8);
        ticket[3] = (byte) LONGEST_MESSAGE;
        Peer peer = new Peer(AES)
                .record(HANDSHAKE, Arrays.copyOf(ticket, 10_000))
                .record(HANDSHAKE, Arrays.copyOfRange(ticket, 10_000, ticket.length))
                .data("after the ticket");
        assertEquals("after the ticket", read(us(AES, peer.wire.toByteArray(), new ByteArrayOutputStream()), 16));
    }

    @Test
    void aDeclaredLengthOneByteOverTheLongestIsRefusedAtOnce() throws IOException {
        int length = LONGEST_MESSAGE + 1;
        byte[] header = {4, (byte) (length >>> 16), (byte) (length >>> 8), (byte) length, 0, 0};
        assertAlert(AlertDescription.unexpected_message, "post-handshake message too long", withHandshake(header));
        byte[] huge = {4, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        assertAlert(AlertDescription.unexpected_message, "post-handshake message too long", withHandshake(huge));
    }

    @Test
    void aLengthOverTheLongestInTheRecordEndingTheLongestIsRefused() throws IOException {
        // a message of the longest length, then in its last record a header one byte over (RFC 8446 5.1 lets a record
        // begin the next message: the bound is per message)
        byte[] pieces = new byte[4 + LONGEST_MESSAGE + 4];
        pieces[0] = 4;
        pieces[2] = (byte) (LONGEST_MESSAGE >>> 8);
        int over = LONGEST_MESSAGE + 1;
        pieces[4 + LONGEST_MESSAGE] = 4;
        pieces[4 + LONGEST_MESSAGE + 1] = (byte) (over >>> 16);
        pieces[4 + LONGEST_MESSAGE + 2] = (byte) (over >>> 8);
        pieces[4 + LONGEST_MESSAGE + 3] = (byte) over;
        Peer peer = new Peer(AES)
                .record(HANDSHAKE, Arrays.copyOf(pieces, 10_000))
                .record(HANDSHAKE, Arrays.copyOfRange(pieces, 10_000, pieces.length));
        assertAlert(
                AlertDescription.unexpected_message,
                "post-handshake message too long",
                us(AES, peer.wire.toByteArray(), new ByteArrayOutputStream()));
    }

    @Test
    void aTicketCutShortByDataIsRefused() throws IOException {
        // declares 8 bytes, brings 2, then application data
        Peer peer =
                new Peer(AES).record(HANDSHAKE, new byte[] {4, 0, 0, 8, 1, 2}).data("x");
        assertAlert(
                AlertDescription.unexpected_message,
                "record inside a split handshake message",
                us(AES, peer.wire.toByteArray(), new ByteArrayOutputStream()));
    }

    @Test
    void twoMessagesInOneRecordAreBothHandledAndAHeaderSplitOverRecordsIsJoined() throws IOException {
        byte[] ticket = {4, 0, 0, 2, 7, 7};
        byte[] both = new byte[ticket.length + 5];
        System.arraycopy(ticket, 0, both, 0, ticket.length);
        System.arraycopy(new byte[] {24, 0, 0, 1, 1}, 0, both, ticket.length, 5);
        Peer peer = new Peer(AES)
                .record(HANDSHAKE, new byte[] {4, 0}) // a ticket's header cut in two
                .record(HANDSHAKE, new byte[] {0, 3, 1, 2, 3})
                .record(HANDSHAKE, both);
        peer.sealer.update();
        peer.data("done");
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        RecordLayer layer = us(AES, peer.wire.toByteArray(), sent);
        assertEquals("done", read(layer, 4));
        int[] position = {0};
        assertArrayEquals(new byte[] {24, 0, 0, 1, 0, HANDSHAKE}, peer.open(sent.toByteArray(), position));
    }
}
