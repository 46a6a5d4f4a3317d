package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.ALERT;
import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HANDSHAKE;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;
import static dev.fernetjca.net.RecordProtection.MAX_PLAINTEXT;
import static dev.fernetjca.net.RecordProtection.TAG;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;

/**
 * The TLS 1.3 record layer after the handshake (RFC 8446 5): application data, alerts and the post-handshake
 * messages (read by {@link PostHandshake}; KeyUpdate answered), with one lock, one buffer and one {@link RecordProtection}
 * per direction, so that a connection streaming both ways encrypts and decrypts at the same time. Records are read
 * into the reader's buffer, as many as one system call brings, and each is opened there in its turn; each write is
 * copied once into the writer's buffer and sealed there, up to four records per system call. Buffers are allocated on
 * first use and grow with the largest record seen (to four full records once one arrives or leaves: a stream), so an
 * idle connection holds none and one that carries small messages small ones.
 *
 * <p>A read timeout loses nothing: the bytes of a record read so far stay in the buffer, and the next read goes on.
 * Protocol errors are thrown as {@link TlsFatalAlert} (the alert to send) and received alerts as
 * {@link TlsFatalAlertReceived}; the caller fails the connection for good.
 *
 * <p>One reader and one writer thread at a time; {@link #trySendAlert} and {@link #destroy} from any thread.
 */
final class RecordLayer {
    /** Records one read from the socket may bring, and one {@link #read} may hand out. */
    static final int RECORDS_PER_READ = 4;
    /** Records sealed into one buffer and written to the socket at once by {@link #write}. */
    static final int RECORDS_PER_WRITE = 4;
    /** What a record adds to its content: header, content type, tag. */
    private static final int RECORD_OVERHEAD = HEADER + 1 + TAG;

    private final InputStream in;
    private final OutputStream out;

    private final ReentrantLock readLock = new ReentrantLock();
    private final RecordProtection opener;
    private byte[] inbound; // records read from the wire, each opened in place when its turn comes
    private int recordStart; // the next record not yet opened: inbound[recordStart..filled) came from the wire
    private int filled;
    private int plainPosition; // unread application data: inbound[plainPosition..plainEnd), before recordStart
    private int plainEnd;
    private IOException deferred; // a record after data already handed out failed: thrown by the next read
    private volatile int available;
    private final PostHandshake postHandshake; // alerts and post-handshake messages, under readLock
    private volatile boolean inputClosed;

    private final ReentrantLock writeLock = new ReentrantLock();
    private final RecordProtection sealer;
    private byte[] outbound;
    private boolean outputClosed;
    private volatile boolean keyUpdateOwed; // the peer asked for our KeyUpdate; the next record sender pays it

    private volatile boolean destroyed;

    RecordLayer(InputStream in, OutputStream out, RecordProtection opener, RecordProtection sealer, boolean client) {
        this.postHandshake = new PostHandshake(client);
        this.in = in;
        this.out = out;
        this.opener = opener;
        this.sealer = sealer;
    }

    /**
     * Reads application data like {@link InputStream#read(byte[], int, int)}; -1 after the peer's close_notify. Blocks
     * for one record at most; records already read whole are opened too while {@code length} has room, so that a
     * stream's reader gets up to {@value #RECORDS_PER_READ} records' data per call.
     */
    int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        readLock.lock();
        try {
            if (destroyed) {
                throw new SocketException("connection closed");
            }
            if (deferred != null) {
                throw deferred;
            }
            while (plainPosition == plainEnd) {
                if (inputClosed) {
                    return -1;
                }
                readRecord(true);
            }
            int n = 0;
            while (true) {
                int chunk = Math.min(length - n, plainEnd - plainPosition);
                System.arraycopy(inbound, plainPosition, buffer, offset + n, chunk);
                plainPosition += chunk;
                n += chunk;
                if (n == length || inputClosed) {
                    break;
                }
                try {
                    if (!readRecord(false)) {
                        break;
                    }
                } catch (IOException e) {
                    deferred = e; // the data before it is the caller's; the failure comes with the next read
                    break;
                }
            }
            available = plainEnd - plainPosition;
            return n;
        } finally {
            readLock.unlock();
            if (destroyed) {
                destroy();
            }
        }
    }

    /** Returns how many decrypted bytes can be read without blocking. */
    int available() {
        return available;
    }

    /** Tells whether the peer's close_notify has arrived. */
    boolean isInputClosed() {
        return inputClosed;
    }

    /**
     * Opens and handles the next record, reading it from the wire if {@code mayBlock} (then with as many of the
     * following records as one read gives); without {@code mayBlock}, only a record already read whole. Returns whether
     * a record was handled; application data, if it carried any, is then at {@code inbound[plainPosition..plainEnd)}.
     */
    private boolean readRecord(boolean mayBlock) throws IOException {
        if (!buffered(HEADER, mayBlock)) {
            return false;
        }
        int start = recordStart;
        int length = ((inbound[start + 3] & 0xff) << 8) | (inbound[start + 4] & 0xff);
        if (inbound[start] != APPLICATION_DATA) {
            throw new TlsFatalAlert(AlertDescription.unexpected_message, "unprotected record after the handshake");
        }
        if (length > MAX_CIPHERTEXT) {
            throw new TlsFatalAlert(AlertDescription.record_overflow, "record of " + length + " bytes");
        }
        if (!buffered(HEADER + length, mayBlock)) {
            return false;
        }
        start = recordStart; // reading may have moved the record to the front of the buffer
        recordStart = start + HEADER + length;
        int content = start + HEADER;
        int end = content + opener.open(inbound, start, length);
        if (end - content > MAX_PLAINTEXT + 1) {
            // RFC 8446 5.4: the inner plaintext, padding included, is at most 2^14 + 1 bytes
            throw new TlsFatalAlert(AlertDescription.record_overflow, "record of " + (end - content) + " bytes");
        }
        while (end > content && inbound[end - 1] == 0) {
            end--; // RFC 8446 5.4: zero padding after the content type
        }
        if (end == content) {
            throw new TlsFatalAlert(AlertDescription.unexpected_message, "record without a content type");
        }
        byte type = inbound[end - 1];
        int contentLength = end - 1 - content;
        if (contentLength > MAX_PLAINTEXT) {
            throw new TlsFatalAlert(AlertDescription.record_overflow, "record of " + contentLength + " bytes");
        }
        switch (postHandshake.read(type, inbound, content, contentLength)) {
            case APPLICATION_DATA -> {
                plainPosition = content;
                plainEnd = content + contentLength;
                available = contentLength;
            }
            case CLOSE_NOTIFY -> {
                inputClosed = true;
                opener.destroy(); // the peer sends nothing more: its key is of no use, as the engine's is not
            }
            case KEY_UPDATE -> opener.update();
            case KEY_UPDATE_REQUESTED -> {
                opener.update();
                keyUpdateOwed = true;
                payKeyUpdateWithoutWaiting();
            }
            case NOTHING -> {
                // a ticket skipped, or part of a message
            }
        }
        return true;
    }

    /**
     * Tells whether {@code inbound[recordStart..recordStart + needed)} came from the wire, reading until it has if
     * {@code mayBlock}: a read takes whatever the socket has, up to the buffer's room, so that one system call can
     * bring several records. A timeout loses nothing: what was read stays, and the next call goes on from there.
     */
    private boolean buffered(int needed, boolean mayBlock) throws IOException {
        while (filled - recordStart < needed) {
            if (!mayBlock) {
                return false;
            }
            makeRoom(needed);
            int got = in.read(inbound, filled, inbound.length - filled);
            if (got < 0) {
                throw new EOFException(filled == recordStart ? null : "ended inside a record");
            }
            filled += got;
        }
        return true;
    }

    /**
     * Makes room for a record of {@code needed} bytes from {@code recordStart}; only when no application data is
     * left unread, so that the bytes before {@code recordStart} are free. The part of the record already read moves to
     * the front; the buffer grows to the record, or, for a full-size record (a stream), to
     * {@value #RECORDS_PER_READ} of them.
     */
    private void makeRoom(int needed) {
        int partial = filled - recordStart;
        if (inbound != null && needed <= inbound.length) {
            if (recordStart + needed > inbound.length || partial == 0) {
                System.arraycopy(inbound, recordStart, inbound, 0, partial);
                recordStart = 0;
                filled = partial;
            }
            return;
        }
        int limit = RECORDS_PER_READ * (HEADER + MAX_CIPHERTEXT);
        byte[] grown = needed > MAX_PLAINTEXT / 2 ? new byte[limit] : fitting(inbound, needed, limit);
        if (inbound != null) {
            System.arraycopy(inbound, recordStart, grown, 0, partial);
            Arrays.fill(inbound, (byte) 0);
        }
        inbound = grown;
        recordStart = 0;
        filled = partial;
        plainPosition = plainEnd = 0;
    }

    /**
     * Sends the KeyUpdate the peer asked for unless a writer holds the wire: the reader must never wait for a writer
     * that waits for the peer, or two peers that both stream would deadlock. A writer pays it before its next record.
     */
    private void payKeyUpdateWithoutWaiting() throws IOException {
        if (writeLock.tryLock()) {
            try {
                payKeyUpdate();
                out.flush();
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Under writeLock: sends our KeyUpdate (update_not_requested) and takes the next sending key (RFC 8446 4.6.3). */
    private void payKeyUpdate() throws IOException {
        if (!keyUpdateOwed || outputClosed) {
            return;
        }
        keyUpdateOwed = false;
        byte[] record = outbound(PostHandshake.KEY_UPDATE_BYTES);
        PostHandshake.putKeyUpdate(record, HEADER);
        out.write(record, 0, sealer.seal(record, PostHandshake.KEY_UPDATE_BYTES, HANDSHAKE));
        sealer.update();
    }

    /**
     * Encrypts and sends {@code length} bytes, at most 2^14 per record, and up to {@value #RECORDS_PER_WRITE} records
     * per write to the socket: one system call, and one wake-up of the peer's reader, for 64 KiB instead of four.
     */
    void write(byte[] buffer, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            if (outputClosed) {
                throw new SocketException("output has been shut down");
            }
            int end = offset + length;
            int position = offset;
            while (position < end) {
                int left = end - position;
                int records = Math.min(RECORDS_PER_WRITE, (left + MAX_PLAINTEXT - 1) / MAX_PLAINTEXT);
                byte[] batch = outbound(Math.min(left, records * MAX_PLAINTEXT) + (records - 1) * RECORD_OVERHEAD);
                int fill = 0;
                for (int record = 0; record < records; record++) {
                    if (sealer.keyUpdateDue()) {
                        keyUpdateOwed = true; // our own, before one key seals too many records (RFC 8446 5.5)
                    }
                    if (keyUpdateOwed) {
                        out.write(
                                batch, 0, fill); // what the old key sealed goes first; the KeyUpdate reuses the buffer
                        fill = 0;
                        payKeyUpdate();
                    }
                    int chunk = Math.min(end - position, MAX_PLAINTEXT);
                    System.arraycopy(buffer, position, batch, fill + HEADER, chunk);
                    fill += sealer.seal(batch, fill, chunk, APPLICATION_DATA);
                    position += chunk;
                }
                out.write(batch, 0, fill);
            }
            payKeyUpdate();
            out.flush();
        } finally {
            writeLock.unlock();
            if (destroyed) {
                destroy();
            }
        }
    }

    /** Sends close_notify; nothing can be sent after it. Does nothing if it was sent already. */
    void sendCloseNotify() throws IOException {
        writeLock.lock();
        try {
            sendAlert(AlertDescription.close_notify);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Sends {@code description} (close_notify as a warning, anything else fatal) unless a writer holds the wire or
     * output is closed; tells whether it was sent.
     */
    boolean trySendAlert(short description) throws IOException {
        if (!writeLock.tryLock()) {
            return false;
        }
        try {
            return sendAlert(description);
        } finally {
            writeLock.unlock();
        }
    }

    private boolean sendAlert(short description) throws IOException {
        if (outputClosed || destroyed) {
            return false;
        }
        outputClosed = true;
        byte[] record = outbound(PostHandshake.ALERT_BYTES);
        PostHandshake.putAlert(record, HEADER, description);
        out.write(record, 0, sealer.seal(record, PostHandshake.ALERT_BYTES, ALERT));
        out.flush();
        return true;
    }

    /**
     * Under writeLock: the writer's buffer, grown to hold a record of {@code contentLength} bytes (or, for a batch of
     * records, their contents and all but one record's header, type and tag).
     */
    private byte[] outbound(int contentLength) {
        outbound = fitting(
                outbound, contentLength + RECORD_OVERHEAD, RECORDS_PER_WRITE * (MAX_PLAINTEXT + RECORD_OVERHEAD));
        return outbound;
    }

    /**
     * Returns {@code buffer} if it holds {@code needed} bytes, else a larger one (at least double, at most
     * {@code limit}): a connection that carries only small records keeps small buffers, a stream of full records
     * allocates its buffer once.
     */
    static byte[] fitting(byte[] buffer, int needed, int limit) {
        if (buffer != null && buffer.length >= needed) {
            return buffer;
        }
        int grown = buffer == null ? needed : Math.max(needed, Math.min(limit, 2 * buffer.length));
        return new byte[Math.max(grown, Math.min(limit, 256))];
    }

    /**
     * Wipes both directions' keys, now or, for a direction in use, when its thread lets go: a connection being closed
     * must not wait for a blocked reader or writer.
     */
    @SuppressFBWarnings(
            value = "AT_STALE_THREAD_WRITE_OF_PRIMITIVE",
            justification = "outputClosed is read and written only under writeLock, a ReentrantLock, which "
                    + "the detector does not see")
    void destroy() {
        destroyed = true;
        if (readLock.tryLock()) {
            try {
                opener.destroy();
                if (inbound != null) {
                    Arrays.fill(inbound, (byte) 0);
                }
                plainPosition = plainEnd = 0;
                available = 0;
                postHandshake.wipe();
            } finally {
                readLock.unlock();
            }
        }
        if (writeLock.tryLock()) {
            try {
                outputClosed = true;
                sealer.destroy();
                if (outbound != null) {
                    Arrays.fill(outbound, (byte) 0);
                }
            } finally {
                writeLock.unlock();
            }
        }
    }
}
