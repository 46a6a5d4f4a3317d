package dev.fernetjca.net;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;

/**
 * Turns what Bouncy Castle threw, and what the handshake showed, into the exception a caller sees, in words an
 * operator can act on. "Does not hold a matching Fernet key" is said only when the failure proves it: a TLS 1.3 PSK
 * peer refused our identities, or an identity matched and its binder did not verify. A peer that chose a certificate,
 * offered no pre-shared key, or did not speak TLS at all is "not a fernet-jca peer". Key failures name the PSK
 * identities offered and held: they are public (docs/protocol.md), and they tell an operator in the middle of a
 * rotation which key each side has.
 *
 * <p>Pure functions of their arguments; stateless.
 */
final class TlsFailures {
    /** Identities listed in one message at most; a ring holds up to 16. */
    static final int LISTED_IDENTITIES = 4;

    /** Characters of a peer's identity shown at most; ours are 45. */
    static final int IDENTITY_CHARS = 64;

    /** The reasons {@link #reason} tells apart, as the metrics name them (docs/configuration.md). */
    static final List<String> REASONS = List.of("key-mismatch", "not-fernet-peer", "timeout", "peer-closed", "other");

    private static final String NO_MATCHING_KEY = " does not hold a matching Fernet key: ";
    private static final String NOT_A_PEER = " is not a fernet-jca peer: ";

    private TlsFailures() {}

    /** Returns which of {@link #REASONS} explains a handshake failure that {@link #translate} produced. */
    static String reason(IOException translated) {
        String message = String.valueOf(translated.getMessage());
        if (message.contains(NO_MATCHING_KEY)) {
            return "key-mismatch";
        }
        if (message.contains(NOT_A_PEER)) {
            return "not-fernet-peer";
        }
        if (translated instanceof SocketTimeoutException || translated.getCause() instanceof SocketTimeoutException) {
            return "timeout";
        }
        return translated instanceof EOFException ? "peer-closed" : "other";
    }

    /**
     * What a failed connection showed before it failed. Identities are public; nothing here is secret.
     *
     * @param peer the peer's address, as every message names it
     * @param client whether we are the client
     * @param handshakeDone whether the handshake had completed
     * @param bytesReceived how many bytes the peer had sent
     * @param spokeTls whether the peer's first bytes began a TLS record ({@link #looksLikeTls}); false if it sent none
     * @param held our identities, primary first
     * @param peerHelloSeen client: a ServerHello arrived; server: the ClientHello offered pre-shared keys
     * @param offeredByPeer server: the identities the client offered, as {@link #list} gives them; client: empty
     * @param peerChoseCertificate client: the server sent a certificate instead of taking one of our keys
     * @param identityMatched server: one of the client's identities is ours
     * @param answered server: we had sent our ServerHello
     */
    record Evidence(
            String peer,
            boolean client,
            boolean handshakeDone,
            long bytesReceived,
            boolean spokeTls,
            List<String> held,
            boolean peerHelloSeen,
            String offeredByPeer,
            boolean peerChoseCertificate,
            boolean identityMatched,
            boolean answered) {}

    /** Tells whether {@code count} first bytes from a peer can begin a TLS record: a known content type, then 3. */
    static boolean looksLikeTls(byte[] first, int count) {
        if (count <= 0) {
            return false;
        }
        int contentType = first[0] & 0xff;
        if (contentType < 20 || contentType > 24) {
            return false;
        }
        return count < 2 || first[1] == 3;
    }

    /**
     * Returns an identity a peer sent as text safe for a log line: printable ASCII kept, anything else as {@code ?},
     * at most {@link #IDENTITY_CHARS} characters, so a hostile client cannot forge log lines or fill them.
     */
    static String printable(byte[] identity) {
        StringBuilder text = new StringBuilder(Math.min(identity.length, IDENTITY_CHARS) + 3);
        for (int i = 0; i < identity.length && i < IDENTITY_CHARS; i++) {
            int c = identity[i] & 0xff;
            text.append(c >= 0x21 && c <= 0x7e ? (char) c : '?');
        }
        if (identity.length > IDENTITY_CHARS) {
            text.append("...");
        }
        return text.toString();
    }

    /** Returns identities for a message: comma-separated, at most {@link #LISTED_IDENTITIES}, "none" for none. */
    static String list(List<String> identities) {
        return list(identities, identities.size());
    }

    /** Returns the first of {@code total} identities for a message, saying how many more there are. */
    static String list(List<String> first, int total) {
        if (total == 0) {
            return "none";
        }
        int shown = Math.min(LISTED_IDENTITIES, first.size());
        String listed = String.join(", ", first.subList(0, shown));
        return shown == total ? listed : listed + " and " + (total - shown) + " more";
    }

    /** Returns the exception to throw for {@code failure}, with its cause kept. */
    static IOException translate(Throwable failure, Evidence evidence) {
        if (!evidence.handshakeDone()) {
            IOException diagnosed = diagnoseHandshake(failure, evidence);
            if (diagnosed != null) {
                return withCause(diagnosed, failure);
            }
        }
        String peer = evidence.peer();
        if (failure instanceof TlsFatalAlertReceived received) {
            return withCause(
                    new SSLException(peer + " sent alert " + AlertDescription.getText(received.getAlertDescription())),
                    failure);
        }
        if (failure instanceof TlsFatalAlert raised) {
            short alert = raised.getAlertDescription();
            if (alert == AlertDescription.bad_record_mac) {
                return withCause(
                        new SSLException(
                                "record from " + peer + " failed authentication: forged, corrupted or replayed data"),
                        failure);
            }
            if (alert == AlertDescription.record_overflow) {
                return withCause(new SSLException("record from " + peer + " exceeds the TLS record limit"), failure);
            }
            return withCause(
                    evidence.handshakeDone()
                            ? new SSLException(
                                    "connection with " + peer + " failed: " + AlertDescription.getText(alert))
                            : new SSLHandshakeException(
                                    "handshake with " + peer + " failed: " + AlertDescription.getText(alert)),
                    failure);
        }
        if (failure instanceof InterruptedIOException && !(failure instanceof SocketTimeoutException)) {
            return (IOException) failure;
        }
        if (failure instanceof IOException io) {
            return io;
        }
        return withCause(
                new SSLException(
                        "TLS failure with " + peer + ": " + failure.getClass().getSimpleName()),
                failure);
    }

    /** Returns what a failed handshake proves, or null when the general translation says it as well. */
    private static IOException diagnoseHandshake(Throwable failure, Evidence evidence) {
        String peer = evidence.peer();
        if (evidence.bytesReceived() > 0 && !evidence.spokeTls()) {
            return new SSLHandshakeException(
                    peer + NOT_A_PEER + "it did not " + (evidence.client() ? "answer with" : "speak") + " TLS");
        }
        if (evidence.client()) {
            return evidence.peerChoseCertificate()
                    ? new SSLHandshakeException(peer + NOT_A_PEER + "it presented a certificate"
                            + " (it accepted none of the keys we offered: " + list(evidence.held()) + ")")
                    : diagnoseServer(failure, evidence);
        }
        return diagnoseClient(failure, evidence);
    }

    /** We are the client: what the server's alert proves. */
    private static IOException diagnoseServer(Throwable failure, Evidence evidence) {
        if (!(failure instanceof TlsFatalAlertReceived received)) {
            return null;
        }
        String peer = evidence.peer();
        short alert = received.getAlertDescription();
        String offered = list(evidence.held());
        String alertText = " (alert " + AlertDescription.getText(alert) + ")";
        if (alert == AlertDescription.unknown_psk_identity) {
            // what a PSK server says when it holds none of the offered identities, as ours does
            return new SSLHandshakeException(
                    peer + NO_MATCHING_KEY + "it knows none of the" + " identities we offered, " + offered + alertText);
        }
        if (!evidence.peerHelloSeen()
                && (alert == AlertDescription.decrypt_error || alert == AlertDescription.illegal_parameter)) {
            // the answer to our ClientHello, whose only part the server can find wrong is a PSK binder: RFC 8446
            // 4.2.11 names decrypt_error, OpenSSL 3.0 sends illegal_parameter
            return new SSLHandshakeException(peer + NO_MATCHING_KEY + "it has one of the"
                    + " identities we offered, " + offered + ", with another secret (its PSK binder check failed)"
                    + alertText);
        }
        if (alert == AlertDescription.handshake_failure) {
            // a PSK-only server with none of our keys says this, but so does one that shares no suite or group
            return new SSLHandshakeException("handshake with " + peer + " failed" + alertText
                    + ": it may hold none of the keys we offered, " + offered + ", or not be a fernet-jca peer");
        }
        return null;
    }

    /** We are the server: what the client's ClientHello proves. */
    private static IOException diagnoseClient(Throwable failure, Evidence evidence) {
        if (!(failure instanceof TlsFatalAlert raised)) { // a received alert is a TlsFatalAlertReceived, not one
            return null;
        }
        String peer = evidence.peer();
        short alert = raised.getAlertDescription();
        String held = list(evidence.held());
        if (alert == AlertDescription.unknown_psk_identity) {
            if (!evidence.peerHelloSeen()) {
                return new SSLHandshakeException(
                        peer + NOT_A_PEER + "it offered no pre-shared key" + " (we hold " + held + ")");
            }
            return new SSLHandshakeException(
                    peer + NO_MATCHING_KEY + "it offered " + evidence.offeredByPeer() + "; we hold " + held);
        }
        if (alert == AlertDescription.decrypt_error && evidence.identityMatched() && !evidence.answered()) {
            return new SSLHandshakeException(peer + NO_MATCHING_KEY + "it offered "
                    + evidence.offeredByPeer() + ", an identity we hold, with another secret (its PSK binder"
                    + " does not verify)");
        }
        return null;
    }

    private static IOException withCause(IOException e, Throwable cause) {
        if (e != cause && e.getCause() == null) {
            e.initCause(cause);
        }
        return e;
    }
}
