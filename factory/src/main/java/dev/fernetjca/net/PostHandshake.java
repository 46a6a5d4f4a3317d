package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;

import java.io.IOException;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.AlertLevel;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;

/**
 * The content of the peer's records after the handshake, for both record layers ({@link RecordLayer} for sockets,
 * {@link EngineRecords} for the SSLEngine): application data is the caller's; alerts (RFC 8446 6) and post-handshake
 * messages (RFC 8446 4.6) are read here. A NewSessionTicket is skipped by a client (we resume nothing) and refused by a
 * server; a KeyUpdate is handed to the caller, which owns the keys; anything else is refused. A message split over
 * records is reassembled up to {@value #MAX_MESSAGE} bytes after its header, in time linear in its length however
 * finely it is split: each of its bytes is appended once to a buffer that at least doubles when it grows. A record may
 * end one message and begin the next (RFC 8446 5.1): only what the held message still needs is joined to it. The two
 * such contents we send, our KeyUpdate and our alerts, are written by {@link #putKeyUpdate} and {@link #putAlert}.
 *
 * <p>Not thread-safe: one reader at a time, as the caller's read lock ensures.
 */
final class PostHandshake {
    /** What a record's content is to the caller. */
    enum Outcome {
        /** Application data: the record's content is the caller's. */
        APPLICATION_DATA,
        /** Nothing for the caller: a ticket skipped, or the start of a message whose rest comes in later records. */
        NOTHING,
        /** The peer's close_notify: its direction has ended, ours goes on. */
        CLOSE_NOTIFY,
        /** The peer's KeyUpdate, update_not_requested: the caller moves to the peer's next key. */
        KEY_UPDATE,
        /** The peer's KeyUpdate, update_requested: the caller moves to the peer's next key and owes its own. */
        KEY_UPDATE_REQUESTED
    }

    static final int NEW_SESSION_TICKET = 4;
    static final int KEY_UPDATE = 24;
    /** The longest post-handshake message body kept while it arrives in pieces: a NewSessionTicket is a few hundred. */
    static final int MAX_MESSAGE = 1 << 14;
    /** A handshake message's header: its type and a 3-byte length (RFC 8446 4). */
    static final int MESSAGE_HEADER = 4;
    /** The content of our KeyUpdate ({@link #putKeyUpdate}). */
    static final int KEY_UPDATE_BYTES = MESSAGE_HEADER + 1;
    /** The content of an alert: its level and description. */
    static final int ALERT_BYTES = 2;

    private static final byte[] NOTHING_HELD = new byte[0];

    private final boolean client; // only a server may send NewSessionTicket (RFC 8446 4.6.1)
    private byte[] held = NOTHING_HELD; // the unread start of a message split over records: held[0..heldLength)
    private int heldLength;

    PostHandshake(boolean client) {
        this.client = client;
    }

    /**
     * Reads the content of one opened record, {@code record[offset..offset + length)} of content type {@code type};
     * {@code length} is at most 2^14, as the caller checked.
     *
     * @throws TlsFatalAlert for an unexpected or malformed record or message: the alert to send
     * @throws TlsFatalAlertReceived for an alert other than close_notify
     */
    Outcome read(byte type, byte[] record, int offset, int length) throws IOException {
        if (heldLength > 0 && type != HANDSHAKE) {
            // RFC 8446 5.1: nothing may come between the records of one handshake message
            throw new TlsFatalAlert(AlertDescription.unexpected_message, "record inside a split handshake message");
        }
        return switch (type) {
            case APPLICATION_DATA -> Outcome.APPLICATION_DATA;
            case ALERT -> alert(record, offset, length);
            case HANDSHAKE -> handshake(record, offset, length);
            default -> throw new TlsFatalAlert(AlertDescription.unexpected_message, "record of content type " + type);
        };
    }

    /** RFC 8446 6: close_notify ends the peer's direction only; any other alert ends the connection. */
    private static Outcome alert(byte[] record, int offset, int length) throws IOException {
        if (length != ALERT_BYTES) {
            throw new TlsFatalAlert(AlertDescription.decode_error, "alert of " + length + " bytes");
        }
        short description = (short) (record[offset + 1] & 0xff);
        if (description != AlertDescription.close_notify) {
            throw new TlsFatalAlertReceived(description);
        }
        return Outcome.CLOSE_NOTIFY;
    }

    /** RFC 8446 4.6: NewSessionTicket is ignored by a client, KeyUpdate followed, anything else refused. */
    private Outcome handshake(byte[] record, int offset, int length) throws IOException {
        if (length == 0) {
            throw new TlsFatalAlert(AlertDescription.unexpected_message, "empty handshake record");
        }
        int position = offset;
        int end = offset + length;
        if (heldLength > 0) {
            // RFC 8446 5.1: a record may end one message and begin the next, so only the held one's rest is joined
            position = join(record, offset, end);
            if (heldLength < wanted()) {
                return Outcome.NOTHING; // the whole record went to the held message, which goes on
            }
            Outcome outcome = message(held, 0, position == end);
            wipe();
            if (outcome != Outcome.NOTHING) {
                return outcome;
            }
        }
        while (position < end) {
            if ((record[position] & 0xff) == NEW_SESSION_TICKET && !client) {
                throw new TlsFatalAlert(AlertDescription.unexpected_message, "NewSessionTicket from a client");
            }
            int messageEnd = end - position < MESSAGE_HEADER
                    ? end + 1
                    : position + MESSAGE_HEADER + bodyLength(record, position);
            if (messageEnd > end) {
                // the rest comes in later records; nothing is held here, so a buffer of the tail's size
                held = Arrays.copyOfRange(record, position, end);
                heldLength = end - position;
                return Outcome.NOTHING;
            }
            Outcome outcome = message(record, position, messageEnd == end);
            if (outcome != Outcome.NOTHING) {
                return outcome;
            }
            position = messageEnd;
        }
        return Outcome.NOTHING;
    }

    /**
     * Reads the whole message at {@code messages[position..]}: a ticket is skipped ({@link Outcome#NOTHING}), a
     * KeyUpdate, which must end its record ({@code endsRecord}), is the caller's; anything else is refused.
     */
    private static Outcome message(byte[] messages, int position, boolean endsRecord) throws IOException {
        int messageType = messages[position] & 0xff;
        if (messageType == NEW_SESSION_TICKET) {
            return Outcome.NOTHING;
        }
        if (messageType != KEY_UPDATE) {
            throw new TlsFatalAlert(
                    AlertDescription.unexpected_message, "handshake message " + messageType + " after the handshake");
        }
        int bodyLength = bodyLength(messages, position);
        if (bodyLength != 1) {
            throw new TlsFatalAlert(AlertDescription.decode_error, "KeyUpdate of " + bodyLength + " bytes");
        }
        int requested = messages[position + MESSAGE_HEADER];
        if (requested != 0 && requested != 1) {
            throw new TlsFatalAlert(AlertDescription.illegal_parameter, "KeyUpdate request " + requested);
        }
        if (!endsRecord) {
            // RFC 8446 5.1: a message before a key change must end its record
            throw new TlsFatalAlert(AlertDescription.unexpected_message, "KeyUpdate not at the end of its record");
        }
        return requested == 1 ? Outcome.KEY_UPDATE_REQUESTED : Outcome.KEY_UPDATE;
    }

    /** The body length the header at {@code messages[position..]} declares; over {@value #MAX_MESSAGE} is refused. */
    private static int bodyLength(byte[] messages, int position) throws TlsFatalAlert {
        int bodyLength = ((messages[position + 1] & 0xff) << 16)
                | ((messages[position + 2] & 0xff) << 8)
                | (messages[position + 3] & 0xff);
        if (bodyLength > MAX_MESSAGE) {
            throw new TlsFatalAlert(AlertDescription.unexpected_message, "post-handshake message too long");
        }
        return bodyLength;
    }

    /** How long the held message is known to be: its header until that is whole, then header and body. */
    private int wanted() throws TlsFatalAlert {
        return heldLength < MESSAGE_HEADER ? MESSAGE_HEADER : MESSAGE_HEADER + bodyLength(held, 0);
    }

    /**
     * Appends to what is held the bytes of {@code record[from..to)} its message still needs, first the rest of its
     * header, then the rest of its body; returns where the bytes taken end.
     */
    private int join(byte[] record, int from, int to) throws TlsFatalAlert {
        int position = from;
        for (int wanted = wanted(); heldLength < wanted && position < to; wanted = wanted()) {
            int taken = Math.min(wanted - heldLength, to - position);
            reserve(heldLength + taken);
            System.arraycopy(record, position, held, heldLength, taken);
            heldLength += taken;
            position += taken;
        }
        return position;
    }

    /** Makes {@link #held} hold {@code needed} bytes (at most the longest message), at least doubling it. */
    private void reserve(int needed) {
        if (needed > held.length) {
            byte[] grown = new byte[Math.max(needed, Math.min(2 * held.length, MESSAGE_HEADER + MAX_MESSAGE))];
            System.arraycopy(held, 0, grown, 0, heldLength);
            Arrays.fill(held, (byte) 0);
            held = grown;
        }
    }

    /** Wipes and lets go of what is held of a split message; nothing is held afterwards. */
    void wipe() {
        Arrays.fill(held, (byte) 0);
        held = NOTHING_HELD;
        heldLength = 0;
    }

    /** Writes our KeyUpdate, update_not_requested (RFC 8446 4.6.3), as {@value #KEY_UPDATE_BYTES} bytes at offset. */
    static void putKeyUpdate(byte[] record, int offset) {
        record[offset] = KEY_UPDATE;
        record[offset + 1] = 0;
        record[offset + 2] = 0;
        record[offset + 3] = 1;
        record[offset + 4] = 0; // update_not_requested
    }

    /** Writes {@code description} as an alert, close_notify as a warning and anything else fatal, at offset. */
    static void putAlert(byte[] record, int offset, short description) {
        record[offset] = (byte) (description == AlertDescription.close_notify ? AlertLevel.warning : AlertLevel.fatal);
        record[offset + 1] = (byte) description;
    }
}
