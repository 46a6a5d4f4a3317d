package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.net.PostHandshake.Outcome;
import java.io.IOException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.AlertLevel;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PostHandshake} alone, over plain arrays: what each content type means to the caller, every refusal with its
 * alert and words, messages split at every point, the bound on a split message, and the reassembly buffer itself (read
 * by reflection: only there can its growth and its wipes be seen). Each record's content is placed between bytes of
 * other content, so that an offset wrongly applied reads the wrong bytes.
 */
class PostHandshakeTest {
    private static final int LONGEST = PostHandshake.MAX_MESSAGE;
    private static final int LIMIT = PostHandshake.MESSAGE_HEADER + LONGEST;
    private static final byte[] KEY_UPDATE = {24, 0, 0, 1, 0};
    private static final byte[] KEY_UPDATE_REQUESTED = {24, 0, 0, 1, 1};

    private final PostHandshake client = new PostHandshake(true);
    private final PostHandshake server = new PostHandshake(false);

    /** Reads {@code content} as a record of {@code type}, the content 3 bytes into an array of other bytes. */
    private static Outcome read(PostHandshake reader, byte type, byte... content) throws IOException {
        byte[] record = new byte[3 + content.length + 7];
        Arrays.fill(record, (byte) 0x55);
        System.arraycopy(content, 0, record, 3, content.length);
        return reader.read(type, record, 3, content.length);
    }

    private static TlsFatalAlert refused(
            short alert, String message, PostHandshake reader, byte type, byte... content) {
        TlsFatalAlert refusal = assertThrows(TlsFatalAlert.class, () -> read(reader, type, content));
        assertEquals(
                AlertDescription.getText(alert),
                AlertDescription.getText(refusal.getAlertDescription()),
                refusal.getMessage());
        // Bouncy Castle puts the alert first: "unexpected_message(10); ...", then our words, exactly
        assertTrue(refusal.getMessage().endsWith("; " + message), refusal.getMessage());
        return refusal;
    }

    /** A NewSessionTicket whose body is {@code bodyLength} bytes of 7. */
    private static byte[] ticket(int bodyLength) {
        byte[] ticket = new byte[4 + bodyLength];
        Arrays.fill(ticket, (byte) 7);
        ticket[0] = 4;
        ticket[1] = (byte) (bodyLength >>> 16);
        ticket[2] = (byte) (bodyLength >>> 8);
        ticket[3] = (byte) bodyLength;
        return ticket;
    }

    private static byte[] concat(byte[]... parts) {
        byte[] all = new byte[Arrays.stream(parts).mapToInt(part -> part.length).sum()];
        int position = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, position, part.length);
            position += part.length;
        }
        return all;
    }

    private static byte[] held(PostHandshake reader) throws ReflectiveOperationException {
        Field field = PostHandshake.class.getDeclaredField("held");
        field.setAccessible(true);
        return (byte[]) field.get(reader);
    }

    private static boolean zeros(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** Tells, by the one record that must follow nothing held, that no message is waiting for its rest. */
    private static void assertNothingHeld(PostHandshake reader) throws IOException {
        assertEquals(Outcome.APPLICATION_DATA, read(reader, APPLICATION_DATA, (byte) 'x'), "nothing held");
    }

    @Test
    void applicationDataIsTheCallersAndLeftAsItWas() throws IOException {
        byte[] record = {1, 2, 3, 4};
        assertEquals(Outcome.APPLICATION_DATA, client.read(APPLICATION_DATA, record, 1, 2));
        assertArrayEquals(new byte[] {1, 2, 3, 4}, record);
        assertEquals(Outcome.APPLICATION_DATA, read(server, APPLICATION_DATA));
    }

    @Test
    void closeNotifyAtEitherLevelEndsThePeersDirection() throws IOException {
        assertEquals(Outcome.CLOSE_NOTIFY, read(client, ALERT, (byte) AlertLevel.warning, (byte) 0));
        assertEquals(Outcome.CLOSE_NOTIFY, read(server, ALERT, (byte) AlertLevel.fatal, (byte) 0));
    }

    @ParameterizedTest(name = "alert {0}")
    @ValueSource(shorts = {20, 90, 255})
    void everyOtherAlertIsReceivedAsAFailureWhateverItsLevel(short description) {
        for (short level : new short[] {AlertLevel.warning, AlertLevel.fatal}) {
            TlsFatalAlertReceived received = assertThrows(
                    TlsFatalAlertReceived.class, () -> read(client, ALERT, (byte) level, (byte) description));
            assertEquals(description, received.getAlertDescription(), "unsigned, as sent");
        }
    }

    @Test
    void anAlertOfAnyOtherLengthIsADecodeError() {
        refused(AlertDescription.decode_error, "alert of 0 bytes", client, ALERT);
        refused(AlertDescription.decode_error, "alert of 1 bytes", client, ALERT, (byte) 1);
        refused(AlertDescription.decode_error, "alert of 3 bytes", client, ALERT, (byte) 1, (byte) 0, (byte) 0);
    }

    @Test
    void otherContentTypesAreRefused() {
        refused(AlertDescription.unexpected_message, "record of content type 20", client, (byte) 20, (byte) 1);
        refused(AlertDescription.unexpected_message, "record of content type 24", server, (byte) 24, (byte) 1);
        refused(AlertDescription.unexpected_message, "record of content type -1", client, (byte) 0xff);
    }

    @Test
    void keyUpdatesAreHandedToTheCallerWithTheirRequest() throws IOException {
        assertEquals(Outcome.KEY_UPDATE, read(client, HANDSHAKE, KEY_UPDATE));
        assertEquals(Outcome.KEY_UPDATE_REQUESTED, read(client, HANDSHAKE, KEY_UPDATE_REQUESTED));
        assertEquals(Outcome.KEY_UPDATE, read(server, HANDSHAKE, KEY_UPDATE));
        assertEquals(Outcome.KEY_UPDATE_REQUESTED, read(server, HANDSHAKE, KEY_UPDATE_REQUESTED));
        assertNothingHeld(client);
        assertNothingHeld(server);
    }

    @Test
    void malformedKeyUpdatesAreRefused() {
        refused(
                AlertDescription.decode_error,
                "KeyUpdate of 0 bytes",
                client,
                HANDSHAKE,
                (byte) 24,
                (byte) 0,
                (byte) 0,
                (byte) 0);
        refused(
                AlertDescription.decode_error,
                "KeyUpdate of 2 bytes",
                client,
                HANDSHAKE,
                (byte) 24,
                (byte) 0,
                (byte) 0,
                (byte) 2,
                (byte) 0,
                (byte) 0);
        refused(
                AlertDescription.illegal_parameter,
                "KeyUpdate request 2",
                client,
                HANDSHAKE,
                (byte) 24,
                (byte) 0,
                (byte) 0,
                (byte) 1,
                (byte) 2);
        refused(
                AlertDescription.illegal_parameter,
                "KeyUpdate request -1",
                client,
                HANDSHAKE,
                (byte) 24,
                (byte) 0,
                (byte) 0,
                (byte) 1,
                (byte) 0xff);
        refused(
                AlertDescription.unexpected_message,
                "KeyUpdate not at the end of its record",
                new PostHandshake(true),
                HANDSHAKE,
                concat(KEY_UPDATE, ticket(0)));
        refused(
                AlertDescription.unexpected_message,
                "KeyUpdate not at the end of its record",
                new PostHandshake(true),
                HANDSHAKE,
                concat(KEY_UPDATE, new byte[] {4}));
    }

    @Test
    void aClientSkipsTicketsOfAnyLengthAndWhatFollowsThemIsRead() throws IOException {
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, ticket(2)));
        assertNothingHeld(client);
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, ticket(0)), "a header alone is a whole message");
        assertNothingHeld(client);
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, concat(ticket(0), ticket(255), ticket(3))));
        assertNothingHeld(client);
        assertEquals(
                Outcome.KEY_UPDATE_REQUESTED,
                read(client, HANDSHAKE, concat(ticket(1), ticket(256), KEY_UPDATE_REQUESTED)));
        assertNothingHeld(client);
    }

    @Test
    void aServerRefusesATicketAtItsFirstByte() throws IOException {
        refused(AlertDescription.unexpected_message, "NewSessionTicket from a client", server, HANDSHAKE, (byte) 4);
        PostHandshake split = new PostHandshake(false);
        assertEquals(Outcome.NOTHING, read(split, HANDSHAKE, (byte) 24, (byte) 0));
        refused(
                AlertDescription.unexpected_message,
                "KeyUpdate not at the end of its record",
                split,
                HANDSHAKE,
                (byte) 0,
                (byte) 1,
                (byte) 0,
                (byte) 4);
        PostHandshake huge = new PostHandshake(false);
        refused(
                AlertDescription.unexpected_message,
                "NewSessionTicket from a client",
                huge,
                HANDSHAKE,
                (byte) 4,
                (byte) 0xff,
                (byte) 0xff,
                (byte) 0xff);
    }

    @Test
    void otherHandshakeMessagesAreRefusedOnceWhole() throws IOException {
        refused(
                AlertDescription.unexpected_message,
                "handshake message 5 after the handshake",
                client,
                HANDSHAKE,
                (byte) 5,
                (byte) 0,
                (byte) 0,
                (byte) 0);
        refused(
                AlertDescription.unexpected_message,
                "handshake message 200 after the handshake",
                server,
                HANDSHAKE,
                (byte) 200,
                (byte) 0,
                (byte) 0,
                (byte) 1,
                (byte) 0);
        PostHandshake split = new PostHandshake(true);
        assertEquals(Outcome.NOTHING, read(split, HANDSHAKE, (byte) 20, (byte) 0, (byte) 0, (byte) 2, (byte) 1));
        refused(
                AlertDescription.unexpected_message,
                "handshake message 20 after the handshake",
                split,
                HANDSHAKE,
                (byte) 1);
    }

    @Test
    void anEmptyHandshakeRecordIsRefused() {
        refused(AlertDescription.unexpected_message, "empty handshake record", client, HANDSHAKE);
    }

    @Test
    void nothingMayComeBetweenThePiecesOfAMessage() throws IOException {
        for (byte type : new byte[] {APPLICATION_DATA, ALERT, (byte) 20}) {
            PostHandshake reader = new PostHandshake(true);
            assertEquals(Outcome.NOTHING, read(reader, HANDSHAKE, (byte) 4, (byte) 0));
            refused(
                    AlertDescription.unexpected_message,
                    "record inside a split handshake message",
                    reader,
                    type,
                    (byte) 1,
                    (byte) 0);
        }
    }

    /** Two tickets and a KeyUpdate, cut into records of every size: the same messages, however they arrive. */
    @Test
    void messagesSplitAtEveryPointAreJoined() throws IOException {
        byte[] messages = concat(ticket(255), ticket(3), KEY_UPDATE_REQUESTED);
        for (int size = 1; size <= messages.length; size++) {
            PostHandshake reader = new PostHandshake(true);
            for (int start = 0; start < messages.length; start += size) {
                byte[] piece = Arrays.copyOfRange(messages, start, Math.min(messages.length, start + size));
                Outcome expected = start + size >= messages.length ? Outcome.KEY_UPDATE_REQUESTED : Outcome.NOTHING;
                assertEquals(expected, read(reader, HANDSHAKE, piece), "records of " + size + " bytes, at " + start);
            }
            assertNothingHeld(reader);
        }
    }

    @Test
    void theBytesAfterAMessageThatEndsInARecordAreKeptForTheNext() throws IOException {
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, (byte) 4, (byte) 0));
        // the first ticket ends here; the second begins, with one byte of its body
        assertEquals(
                Outcome.NOTHING,
                read(client, HANDSHAKE, (byte) 0, (byte) 1, (byte) 9, (byte) 4, (byte) 0, (byte) 0, (byte) 3, (byte)
                        1));
        assertEquals(Outcome.KEY_UPDATE, read(client, HANDSHAKE, concat(new byte[] {2, 3}, KEY_UPDATE)));
        assertNothingHeld(client);
        // the same from a record read while nothing was held
        assertEquals(Outcome.NOTHING, read(server, HANDSHAKE, (byte) 24, (byte) 0, (byte) 0, (byte) 1));
        assertEquals(Outcome.KEY_UPDATE_REQUESTED, read(server, HANDSHAKE, (byte) 1));
        assertNothingHeld(server);
    }

    @Test
    void aDeclaredLengthIsBoundedAtTheLongestMessage() throws IOException {
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, (byte) 4, (byte) 0, (byte) 0x40, (byte) 0));
        for (int declared : new int[] {LONGEST + 1, 0x010000, 0x800000, 0xffffff}) {
            refused(
                    AlertDescription.unexpected_message,
                    "post-handshake message too long",
                    new PostHandshake(true),
                    HANDSHAKE,
                    (byte) 4,
                    (byte) (declared >>> 16),
                    (byte) (declared >>> 8),
                    (byte) declared);
        }
    }

    @Test
    void theLongestMessageIsJoinedAndTheRecordEndingItMayBeginTheNext() throws Exception {
        byte[] longest = ticket(LONGEST);
        // records of at most 2^14 bytes: the whole record, then 3 bytes, then the last, which makes it exactly whole
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, Arrays.copyOf(longest, LONGEST)));
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, Arrays.copyOfRange(longest, LONGEST, LIMIT - 1)));
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, longest[LIMIT - 1]));
        assertNothingHeld(client);

        // the record that ends the longest may begin the next message: the bound is per message, not per record
        PostHandshake next = new PostHandshake(true);
        assertEquals(Outcome.NOTHING, read(next, HANDSHAKE, Arrays.copyOf(longest, LONGEST)));
        assertEquals(Outcome.NOTHING, read(next, HANDSHAKE, Arrays.copyOfRange(longest, LONGEST, LIMIT - 1)));
        assertEquals(Outcome.NOTHING, read(next, HANDSHAKE, longest[LIMIT - 1], (byte) 4));
        assertArrayEquals(new byte[] {4}, held(next), "only the next message's start is held");
        assertEquals(Outcome.KEY_UPDATE, read(next, HANDSHAKE, concat(new byte[] {0, 0, 0}, KEY_UPDATE)));
        assertNothingHeld(next);
    }

    @Test
    void aRecordIsReadToItsLastByteAndNoFurther() throws IOException {
        // content that fills its array, read whole and joined: a byte read past the record would throw
        assertEquals(Outcome.NOTHING, client.read(HANDSHAKE, ticket(3), 0, 7));
        byte[] ticket = ticket(3);
        assertEquals(Outcome.NOTHING, client.read(HANDSHAKE, ticket, 0, 2));
        assertEquals(Outcome.NOTHING, client.read(HANDSHAKE, ticket, 2, 5));
        assertNothingHeld(client);
    }

    /** What is held after a message ends inside it is the next message's start and nothing else: no old bytes left. */
    @Test
    void nothingOfAMessageThatEndedStaysBehindWhatIsHeld() throws Exception {
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, Arrays.copyOf(ticket(40), 20)));
        byte[] before = held(client);
        assertEquals(
                Outcome.NOTHING,
                read(client, HANDSHAKE, concat(Arrays.copyOfRange(ticket(40), 20, 44), new byte[] {4, 0, 0, 9, 1})));
        byte[] after = held(client);
        assertTrue(zeros(before), "the ended ticket's buffer is wiped");
        int heldLength = 5;
        assertArrayEquals(new byte[] {4, 0, 0, 9, 1}, Arrays.copyOf(after, heldLength));
        assertTrue(zeros(Arrays.copyOfRange(after, heldLength, after.length)), "nothing after what is held");
        assertEquals(
                Outcome.KEY_UPDATE, read(client, HANDSHAKE, concat(new byte[] {2, 3, 4, 5, 6, 7, 8, 9}, KEY_UPDATE)));
    }

    /**
     * The reassembly is linear: a message of the longest length, one byte per record, lives in one buffer that doubles
     * when full (16 buffers in all, not one per record), capped at the longest message; each buffer left behind is
     * wiped, and so is the last once the message is whole.
     */
    @Test
    void theBufferDoublesUpToTheLongestMessageAndIsWipedWhenLeft() throws Exception {
        byte[] longest = ticket(LONGEST);
        List<byte[]> buffers = new ArrayList<>();
        for (int i = 0; i < LIMIT - 1; i++) {
            assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, longest[i]));
            byte[] buffer = held(client);
            int expected = Math.min(Integer.highestOneBit(i + 1) << (Integer.bitCount(i + 1) == 1 ? 0 : 1), LIMIT);
            assertEquals(expected, buffer.length, "room after " + (i + 1) + " bytes");
            if (buffers.isEmpty() || buffers.get(buffers.size() - 1) != buffer) {
                buffers.add(buffer);
            }
        }
        assertEquals(16, buffers.size(), "1, 2, 4, ..., 2^14 bytes, then the longest message");
        byte[] last = buffers.get(buffers.size() - 1);
        assertEquals(LIMIT, last.length);
        assertArrayEquals(Arrays.copyOf(longest, LIMIT - 1), Arrays.copyOf(last, LIMIT - 1));
        for (byte[] left : buffers.subList(0, buffers.size() - 1)) {
            assertTrue(zeros(left), "a buffer left behind is wiped");
        }
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, longest[LIMIT - 1]));
        assertTrue(zeros(last), "wiped once the message was whole");
        assertEquals(0, held(client).length, "let go of");
    }

    @Test
    void theTailOfARecordIsCopiedOnceIntoABufferOfItsSize() throws Exception {
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, concat(ticket(1), new byte[] {4, 0, 0, 9, 1, 2})));
        assertArrayEquals(new byte[] {4, 0, 0, 9, 1, 2}, held(client));
        byte[] before = held(client);
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, (byte) 3));
        assertNotSame(before, held(client));
        assertEquals(12, held(client).length, "doubled");
        byte[] buffer = held(client);
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, (byte) 4, (byte) 5, (byte) 6, (byte) 7, (byte) 8));
        assertSame(buffer, held(client), "room enough: appended in place");
        assertArrayEquals(new byte[] {4, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8}, held(client));
    }

    @Test
    void wipeLeavesZerosAndNothingHeld() throws Exception {
        assertEquals(Outcome.NOTHING, read(client, HANDSHAKE, (byte) 4, (byte) 0, (byte) 0, (byte) 9, (byte) 1));
        byte[] buffer = held(client);
        assertFalse(zeros(buffer), "a message held");
        client.wipe();
        assertTrue(zeros(buffer));
        assertEquals(0, held(client).length);
        assertNothingHeld(client);
        client.wipe(); // idempotent
        assertNothingHeld(client);
    }

    @Test
    void ourKeyUpdateAndAlertsAreWrittenAtTheOffsetGiven() throws IOException {
        byte[] record = new byte[9];
        Arrays.fill(record, (byte) 0x55);
        PostHandshake.putKeyUpdate(record, 2);
        assertArrayEquals(new byte[] {0x55, 0x55, 24, 0, 0, 1, 0, 0x55, 0x55}, record, "update_not_requested");
        assertEquals(5, PostHandshake.KEY_UPDATE_BYTES);
        assertEquals(Outcome.KEY_UPDATE, client.read(HANDSHAKE, record, 2, PostHandshake.KEY_UPDATE_BYTES));

        byte[] alert = new byte[5];
        PostHandshake.putAlert(alert, 1, AlertDescription.close_notify);
        assertArrayEquals(new byte[] {0, AlertLevel.warning, AlertDescription.close_notify, 0, 0}, alert);
        assertEquals(Outcome.CLOSE_NOTIFY, client.read(ALERT, alert, 1, PostHandshake.ALERT_BYTES));
        PostHandshake.putAlert(alert, 2, AlertDescription.bad_record_mac);
        assertArrayEquals(
                new byte[] {0, AlertLevel.warning, AlertLevel.fatal, AlertDescription.bad_record_mac, 0}, alert);
        PostHandshake.putAlert(alert, 0, AlertDescription.user_canceled);
        assertArrayEquals(new byte[] {AlertLevel.fatal, AlertDescription.user_canceled}, Arrays.copyOf(alert, 2));
        PostHandshake.putAlert(alert, 0, (short) 255);
        assertEquals((byte) 255, alert[1]);
    }
}
