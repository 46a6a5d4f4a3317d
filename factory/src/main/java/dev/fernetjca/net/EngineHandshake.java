package dev.fernetjca.net;

import static dev.fernetjca.net.RecordProtection.APPLICATION_DATA;
import static dev.fernetjca.net.RecordProtection.HEADER;
import static dev.fernetjca.net.RecordProtection.MAX_CIPHERTEXT;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.SecurityParameters;
import org.bouncycastle.tls.TlsFatalAlert;

/**
 * The handshake of one {@link PskEngine}: Bouncy Castle's protocol object with the sockets' settings, fed exactly one
 * record at a time as {@link TlsEngine} feeds it, what the peer showed so far (for {@link TlsFailures}), and the
 * hand-over of the application traffic secrets to {@link EngineRecords}.
 *
 * <p>Not thread-safe: the engine's lock guards it.
 */
final class EngineHandshake {
    /**
     * The records Bouncy Castle (1.84) seals in a server's handshake flight, one message each: EncryptedExtensions and
     * Finished. A client seals one, its Finished.
     */
    static final int SERVER_SEALED_RECORDS = 2;

    private final TlsEngine.Side side;
    private final int flightRecords; // sealed records in our handshake flights; none may follow
    private int sealedRecords;
    private final List<PskDerivation> psks;
    private final String peer;
    private final List<String> heldIdentities; // public, for failure messages
    private final byte[] firstBytes = new byte[2]; // the peer's first bytes: do they begin a TLS record?
    private long bytesReceived;
    private boolean answered; // we answered a flight of the peer's: for a server, its ServerHello is out

    EngineHandshake(boolean client, int[] suites, List<PskDerivation> psks, String peer) {
        this.side = client
                ? new TlsEngine.ClientSide(new PskTlsClient(Settings.CRYPTO, psks, suites))
                : new TlsEngine.ServerSide(new PskTlsServer(Settings.CRYPTO, psks, suites));
        this.flightRecords = client ? 1 : SERVER_SEALED_RECORDS;
        this.psks = psks;
        this.peer = peer;
        this.heldIdentities = psks.stream().map(PskDerivation::identityText).toList();
    }

    /** Starts the handshake; returns what to send first: a client's ClientHello, nothing for a server. */
    byte[] begin() throws IOException {
        side.begin();
        return flight(output());
    }

    boolean isClient() {
        return side.isClient();
    }

    long bytesReceived() {
        return bytesReceived;
    }

    /**
     * Refuses a record header that cannot be TLS (content type outside 20 to 23, major version other than 3, a body
     * over the limit) at once rather than waiting for a body that never comes: Bouncy Castle judges the header alone
     * and queues its alert.
     */
    void checkHeader(byte[] header, int bodyLength) throws IOException {
        if (header[0] >= 20 && header[0] <= 23 && header[1] == 3 && bodyLength <= MAX_CIPHERTEXT) {
            return;
        }
        noteReceived(header, HEADER);
        side.offerInput(header, 0, HEADER);
        throw new TlsFatalAlert(
                bodyLength > MAX_CIPHERTEXT ? AlertDescription.record_overflow : AlertDescription.unexpected_message);
    }

    /** Offers one whole record to Bouncy Castle; returns what it has to send in answer, possibly nothing. */
    byte[] offer(byte[] record) throws IOException {
        noteReceived(record, record.length);
        side.offerInput(record, 0, record.length);
        byte[] output = flight(output());
        answered |= output.length > 0;
        return output;
    }

    /**
     * Returns {@code output}, Bouncy Castle's next handshake bytes, once sure that no record follows our flights: one
     * would be sealed under our application traffic key, whose sequence our {@link EngineRecords} starts again at 0 (a
     * nonce used twice). Bouncy Castle sends nothing after its Finished today; this keeps it so.
     *
     * @throws TlsFatalAlert internal_error if a record follows the last one our flights seal
     */
    byte[] flight(byte[] output) throws TlsFatalAlert {
        for (int at = 0; at < output.length; ) {
            if (sealedRecords == flightRecords || output.length - at < HEADER) {
                throw new TlsFatalAlert(AlertDescription.internal_error, "records after the handshake");
            }
            sealedRecords += output[at] == APPLICATION_DATA ? 1 : 0;
            at += HEADER + (((output[at + 3] & 0xff) << 8) | (output[at + 4] & 0xff));
        }
        return output;
    }

    /** Tells whether the handshake goes on; throws if Bouncy Castle stopped it without completing. */
    boolean isHandshaking() throws SSLException {
        if (side.isHandshaking()) {
            return true;
        }
        if (!side.isConnected()) {
            throw new SSLException("handshake with " + peer + " ended before it completed");
        }
        return false;
    }

    /** Returns what Bouncy Castle has to send: handshake flights, or the alert of a failure. */
    byte[] output() {
        byte[] output = new byte[side.getAvailableOutputBytes()];
        side.readOutput(output, 0, output.length);
        return output;
    }

    /** Abandons the handshake with Bouncy Castle's close (user_canceled, close_notify); returns them to send. */
    byte[] close() throws IOException {
        side.close();
        return output();
    }

    /**
     * Takes the application traffic secrets from Bouncy Castle once its handshake is complete, builds our record
     * layer from them and fills {@code session}; Bouncy Castle is not used again. The secrets are consumed, and our
     * copies wiped.
     */
    EngineRecords takeOver(PskSession session) throws IOException {
        int index = side.selectedIndex();
        if (index < 0) {
            // Bouncy Castle offers only psk_dhe_ke with our keys: a handshake without one of them must never pass
            throw new SSLException("handshake with " + peer + " completed without one of our keys");
        }
        SecurityParameters parameters = side.securityParameters();
        byte[] clientSecret = parameters.getTrafficSecretClient().extract();
        byte[] serverSecret = parameters.getTrafficSecretServer().extract();
        try {
            int suite = parameters.getCipherSuite();
            boolean client = side.isClient();
            RecordProtection opener = new RecordProtection(suite, client ? serverSecret : clientSecret, false, 0);
            RecordProtection sealer = new RecordProtection(suite, client ? clientSecret : serverSecret, true, 0);
            session.established(suite, psks.get(index).identityText());
            return new EngineRecords(opener, sealer, client);
        } finally {
            Arrays.fill(clientSecret, (byte) 0);
            Arrays.fill(serverSecret, (byte) 0);
        }
    }

    /** Returns the identities of the keys we hold, primary first: public (docs/protocol.md). */
    List<String> heldIdentities() {
        return heldIdentities;
    }

    /** Returns which key of the ring the peer matched, 0 for the primary, -1 if none yet. */
    int selectedIndex() {
        return side.selectedIndex();
    }

    /** Counts what the peer sent and keeps its first bytes, which tell whether it speaks TLS at all. */
    private void noteReceived(byte[] bytes, int count) {
        if (bytesReceived < firstBytes.length) {
            int copied = (int) Math.min(count, firstBytes.length - bytesReceived);
            System.arraycopy(bytes, 0, firstBytes, (int) bytesReceived, copied);
        }
        bytesReceived += count;
    }

    /** What the connection showed so far, for {@link TlsFailures#translate}. */
    TlsFailures.Evidence evidence(boolean handshakeDone) {
        boolean spokeTls = TlsFailures.looksLikeTls(firstBytes, (int) Math.min(bytesReceived, firstBytes.length));
        return side.evidence(peer, handshakeDone, bytesReceived, spokeTls, heldIdentities, answered);
    }
}
