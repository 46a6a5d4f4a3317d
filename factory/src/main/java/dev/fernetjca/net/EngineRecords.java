package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;
import static dev.fernetjca.net.RecordProtection.MAX_PLAINTEXT;
import static dev.fernetjca.net.RecordProtection.TAG;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;

/**
 * The TLS 1.3 record layer of a {@link PskEngine} once the handshake is done (RFC 8446 5): what {@link RecordLayer} is
 * for a socket, over the caller's buffers instead of streams. A record is copied whole from the caller's network
 * buffer into our own array and opened there, so that no byte reaches the caller's application buffer before its tag
 * has been verified; outgoing data is copied into our own array and sealed there. Post-handshake messages:
 * NewSessionTicket ignored, KeyUpdate followed, and answered when asked by the next record we seal.
 *
 * <p>Not thread-safe: the engine's lock guards it.
 */
final class EngineRecords {
    /** What sealing adds to the content: a header, the content type, the tag. */
    static final int OVERHEAD = HEADER + 1 + TAG;

    private final RecordProtection opener;
    private final RecordProtection sealer;
    private final PostHandshake postHandshake;
    private byte[] inbound; // one record, opened in place; wiped after use
    private byte[] outbound; // one record, sealed in place
    private boolean keyUpdateOwed; // the peer asked for our KeyUpdate, or our key sealed its share of records
    private boolean closeNotifyReceived;
    private boolean destroyed;

    EngineRecords(RecordProtection opener, RecordProtection sealer, boolean client) {
        this.opener = opener;
        this.sealer = sealer;
        this.postHandshake = new PostHandshake(client);
    }

    /**
     * Opens the record of {@code bodyLength} bytes after its header at {@code src}'s position (the caller saw it
     * whole), moves {@code src} past it and writes its application data to {@code dsts}, which the caller made large
     * enough for {@link #maxContent}. Returns the number of application bytes written; 0 for an alert or a
     * post-handshake message.
     *
     * @throws TlsFatalAlert for a forged, malformed or unexpected record: the alert to send
     * @throws TlsFatalAlertReceived for an alert other than close_notify
     */
    int open(ByteBuffer src, int bodyLength, ByteBuffer[] dsts, int offset, int length) throws IOException {
        if (bodyLength > MAX_CIPHERTEXT) {
            throw new TlsFatalAlert(AlertDescription.record_overflow, "record of " + bodyLength + " bytes");
        }
        inbound = RecordLayer.fitting(inbound, HEADER + bodyLength, HEADER + MAX_CIPHERTEXT);
        src.get(inbound, 0, HEADER + bodyLength);
        if (inbound[0] != APPLICATION_DATA) {
            throw new TlsFatalAlert(AlertDescription.unexpected_message, "unprotected record after the handshake");
        }
        if (bodyLength < TAG + 1) {
            // too short for a content type and a tag: a length out of range (RFC 8446 6.2), not a forgery
            throw new TlsFatalAlert(AlertDescription.decode_error, "record of " + bodyLength + " bytes");
        }
        try {
            int end = HEADER + opener.open(inbound, bodyLength);
            if (end - HEADER > MAX_PLAINTEXT + 1) {
                // RFC 8446 5.4: the inner plaintext, padding included, is at most 2^14 + 1 bytes
                throw new TlsFatalAlert(AlertDescription.record_overflow, "record of " + (end - HEADER) + " bytes");
            }
            while (end > HEADER && inbound[end - 1] == 0) {
                end--; // RFC 8446 5.4: zero padding after the content type
            }
            if (end == HEADER) {
                throw new TlsFatalAlert(AlertDescription.unexpected_message, "record without a content type");
            }
            byte type = inbound[end - 1];
            int contentLength = end - 1 - HEADER;
            if (contentLength > MAX_PLAINTEXT) {
                throw new TlsFatalAlert(AlertDescription.record_overflow, "record of " + contentLength + " bytes");
            }
            switch (postHandshake.read(type, inbound, HEADER, contentLength)) {
                case APPLICATION_DATA -> {
                    return scatter(contentLength, dsts, offset, length);
                }
                case CLOSE_NOTIFY -> closeNotifyReceived = true;
                case KEY_UPDATE -> opener.update();
                case KEY_UPDATE_REQUESTED -> {
                    opener.update();
                    keyUpdateOwed = true; // answered before the next record we seal
                }
                case NOTHING -> {
                    // a ticket skipped, or part of a message
                }
            }
            return 0;
        } finally {
            Arrays.fill(inbound, 0, HEADER + bodyLength, (byte) 0);
        }
    }

    /** The most application data a record of {@code bodyLength} bytes can carry. */
    static int maxContent(int bodyLength) {
        return Math.max(0, Math.min(bodyLength - TAG - 1, MAX_PLAINTEXT));
    }

    private int scatter(int contentLength, ByteBuffer[] dsts, int offset, int length) {
        int position = HEADER;
        int end = HEADER + contentLength;
        for (int i = offset; i < offset + length && position < end; i++) {
            int n = Math.min(dsts[i].remaining(), end - position);
            dsts[i].put(inbound, position, n);
            position += n;
        }
        if (position != end) {
            // the engine checks the room first: reaching this would lose data
            throw new IllegalStateException("application buffers too small for a record");
        }
        return contentLength;
    }

    /** Tells whether a KeyUpdate of ours must be sealed before more data: the peer asked, or our key is worn. */
    boolean keyUpdateOwed() {
        return keyUpdateOwed || sealer.keyUpdateDue();
    }

    boolean closeNotifyReceived() {
        return closeNotifyReceived;
    }

    /**
     * Seals our KeyUpdate (update_not_requested) into {@code dst} and takes the next sending key (RFC 8446 4.6.3);
     * tells whether there was room.
     */
    boolean sealKeyUpdate(ByteBuffer dst) throws IOException {
        if (dst.remaining() < OVERHEAD + PostHandshake.KEY_UPDATE_BYTES) {
            return false;
        }
        byte[] record = outbound(PostHandshake.KEY_UPDATE_BYTES);
        PostHandshake.putKeyUpdate(record, HEADER);
        dst.put(record, 0, sealer.seal(record, PostHandshake.KEY_UPDATE_BYTES, HANDSHAKE));
        sealer.update();
        keyUpdateOwed = false;
        return true;
    }

    /**
     * Seals as much of {@code srcs} as one record holds and {@code dst} has room for; returns the bytes consumed, 0
     * when {@code dst} cannot hold a record of one byte.
     */
    int sealData(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws IOException {
        long waiting = 0;
        for (int i = offset; i < offset + length; i++) {
            waiting += srcs[i].remaining();
        }
        int chunk = (int) Math.min(Math.min(waiting, MAX_PLAINTEXT), dst.remaining() - (long) OVERHEAD);
        if (chunk <= 0) {
            return 0;
        }
        byte[] record = outbound(chunk);
        for (int i = offset, filled = 0; filled < chunk; i++) {
            int n = Math.min(srcs[i].remaining(), chunk - filled);
            srcs[i].get(record, HEADER + filled, n);
            filled += n;
        }
        dst.put(record, 0, sealer.seal(record, chunk, APPLICATION_DATA));
        return chunk;
    }

    /** Seals {@code description} (close_notify as a warning, anything else fatal); tells whether there was room. */
    boolean sealAlert(short description, ByteBuffer dst) throws IOException {
        if (dst.remaining() < OVERHEAD + PostHandshake.ALERT_BYTES) {
            return false;
        }
        byte[] record = outbound(PostHandshake.ALERT_BYTES);
        PostHandshake.putAlert(record, HEADER, description);
        dst.put(record, 0, sealer.seal(record, PostHandshake.ALERT_BYTES, ALERT));
        return true;
    }

    private byte[] outbound(int contentLength) {
        outbound = RecordLayer.fitting(outbound, HEADER + contentLength + 1 + TAG, HEADER + MAX_PLAINTEXT + 1 + TAG);
        return outbound;
    }

    /** Wipes the receiving key and what was read; nothing can be opened afterwards. */
    void destroyOpener() {
        opener.destroy();
        if (inbound != null) {
            Arrays.fill(inbound, (byte) 0);
        }
        postHandshake.wipe();
    }

    /** Wipes the sending key and what was sealed; nothing can be sealed afterwards. */
    void destroySealer() {
        sealer.destroy();
        if (outbound != null) {
            Arrays.fill(outbound, (byte) 0);
        }
    }

    /** Wipes both directions' keys; idempotent. */
    void destroy() {
        if (!destroyed) {
            destroyed = true;
            destroyOpener();
            destroySealer();
        }
    }
}
