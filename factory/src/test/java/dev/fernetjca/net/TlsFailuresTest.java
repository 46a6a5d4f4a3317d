package dev.fernetjca.net;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;
import org.junit.jupiter.api.Test;

/** The failure translation alone: each diagnosis, and what it must not claim without proof. */
class TlsFailuresTest {
    private static final String PEER = "/192.0.2.7:4433";
    private static final String OURS = "fernet-jca-1-00000000000000000000000000000001";
    private static final String OLD = "fernet-jca-1-00000000000000000000000000000002";
    private static final String THEIRS = "fernet-jca-1-0000000000000000000000000000000f";
    private static final String MISMATCH = "does not hold a matching Fernet key";

    /** A client whose handshake saw TLS from the server, and nothing else yet. */
    private static TlsFailures.Evidence client(boolean serverHelloSeen, boolean choseCertificate) {
        return new TlsFailures.Evidence(
                PEER, true, false, 100, true, List.of(OURS, OLD), serverHelloSeen, "", choseCertificate, false, false);
    }

    /** A server that received a TLS ClientHello offering {@code offered} (null: no pre-shared keys). */
    private static TlsFailures.Evidence server(String offered, boolean matched) {
        return new TlsFailures.Evidence(
                PEER,
                false,
                false,
                300,
                true,
                List.of(OURS),
                offered != null,
                offered == null ? "" : offered,
                false,
                matched,
                false);
    }

    private static String message(Throwable failure, TlsFailures.Evidence evidence) {
        IOException translated = TlsFailures.translate(failure, evidence);
        assertSame(failure, translated.getCause() == null ? failure : translated.getCause(), "the cause is kept");
        return translated.getMessage();
    }

    @Test
    void firstBytesOfATlsRecordAreRecognised() {
        assertTrue(TlsFailures.looksLikeTls(new byte[] {22, 3}, 2), "handshake record");
        assertTrue(TlsFailures.looksLikeTls(new byte[] {21, 3}, 2), "alert record");
        assertTrue(TlsFailures.looksLikeTls(new byte[] {22, 0}, 1), "one byte so far");
        assertFalse(TlsFailures.looksLikeTls("HT".getBytes(US_ASCII), 2), "HTTP");
        assertFalse(TlsFailures.looksLikeTls("SS".getBytes(US_ASCII), 2), "SSH banner");
        assertFalse(TlsFailures.looksLikeTls(new byte[] {22, 'x'}, 2), "no TLS version");
        assertFalse(TlsFailures.looksLikeTls(new byte[2], 0), "nothing");
    }

    @Test
    void identitiesFromAPeerCannotForgeOrFillALogLine() {
        assertEquals("abc?def?", TlsFailures.printable("abc\ndef\u001b".getBytes(US_ASCII)));
        assertEquals("??", TlsFailures.printable(new byte[] {(byte) 0xc3, (byte) 0xa9}));
        String longer = TlsFailures.printable("x".repeat(1000).getBytes(US_ASCII));
        assertEquals(TlsFailures.IDENTITY_CHARS + 3, longer.length());
        assertTrue(longer.endsWith("..."));
    }

    @Test
    void listsNameAFewIdentitiesAndCountTheRest() {
        assertEquals("none", TlsFailures.list(List.of()));
        assertEquals(OURS + ", " + OLD, TlsFailures.list(List.of(OURS, OLD)));
        assertEquals("a, b, c, d and 2 more", TlsFailures.list(List.of("a", "b", "c", "d", "e", "f")));
        assertEquals("a, b, c, d and 12 more", TlsFailures.list(List.of("a", "b", "c", "d"), 16));
    }

    @Test
    void serverRefusingOurIdentitiesProvesAKeyMismatchAndNamesWhatWeOffered() {
        String message =
                message(new TlsFatalAlertReceived(AlertDescription.unknown_psk_identity), client(false, false));
        assertTrue(message.startsWith(PEER + " " + MISMATCH), message);
        assertTrue(message.contains(OURS + ", " + OLD), message);
    }

    @Test
    void aFailedBinderAnsweringOurClientHelloProvesAKeyMismatch() {
        for (short alert : new short[] {AlertDescription.decrypt_error, AlertDescription.illegal_parameter}) {
            String message = message(new TlsFatalAlertReceived(alert), client(false, false));
            assertTrue(message.contains(MISMATCH) && message.contains("another secret"), message);
        }
        // after the ServerHello, the same alerts are about something else
        String later = message(new TlsFatalAlertReceived(AlertDescription.illegal_parameter), client(true, false));
        assertFalse(later.contains(MISMATCH), later);
    }

    @Test
    void handshakeFailureFromAServerDoesNotClaimAMismatch() {
        String message = message(new TlsFatalAlertReceived(AlertDescription.handshake_failure), client(false, false));
        assertFalse(message.contains(MISMATCH), message);
        assertTrue(message.contains("may hold none of the keys we offered, " + OURS), message);
    }

    @Test
    void aServerThatChoseACertificateIsNotAFernetPeer() {
        String message = message(new TlsFatalAlert(AlertDescription.handshake_failure), client(true, true));
        assertTrue(message.startsWith(PEER + " is not a fernet-jca peer: it presented a certificate"), message);
        assertFalse(message.contains(MISMATCH), message);
    }

    @Test
    void aPeerThatDoesNotSpeakTlsIsNotAFernetPeer() {
        TlsFailures.Evidence http =
                new TlsFailures.Evidence(PEER, true, false, 40, false, List.of(OURS), false, "", false, false, false);
        String message = message(new TlsFatalAlert(AlertDescription.unexpected_message), http);
        assertEquals(PEER + " is not a fernet-jca peer: it did not answer with TLS", message);
        TlsFailures.Evidence httpClient =
                new TlsFailures.Evidence(PEER, false, false, 40, false, List.of(OURS), false, "", false, false, false);
        assertEquals(
                PEER + " is not a fernet-jca peer: it did not speak TLS",
                message(new TlsFatalAlert(AlertDescription.decode_error), httpClient));
    }

    @Test
    void aClientOfferingOtherIdentitiesProvesAMismatchAndBothSidesAreNamed() {
        String message = message(new TlsFatalAlert(AlertDescription.unknown_psk_identity), server(THEIRS, false));
        assertEquals(PEER + " " + MISMATCH + ": it offered " + THEIRS + "; we hold " + OURS, message);
    }

    @Test
    void aClientOfferingNoPreSharedKeyIsNotAFernetPeer() {
        String message = message(new TlsFatalAlert(AlertDescription.unknown_psk_identity), server(null, false));
        assertTrue(message.startsWith(PEER + " is not a fernet-jca peer: it offered no pre-shared key"), message);
    }

    @Test
    void ourIdentityWithAWrongBinderProvesAMismatch() {
        String message = message(new TlsFatalAlert(AlertDescription.decrypt_error), server(OURS, true));
        assertTrue(message.contains(MISMATCH) && message.contains("binder does not verify"), message);
        TlsFailures.Evidence afterServerHello =
                new TlsFailures.Evidence(PEER, false, false, 300, true, List.of(OURS), true, OURS, false, true, true);
        String finished = message(new TlsFatalAlert(AlertDescription.decrypt_error), afterServerHello);
        assertFalse(finished.contains(MISMATCH), "a Finished that fails after our answer is no key proof: " + finished);
    }

    @Test
    void recordFailuresAfterTheHandshakeKeepTheirWords() {
        TlsFailures.Evidence established =
                new TlsFailures.Evidence(PEER, true, true, 5000, true, List.of(OURS), true, "", false, false, true);
        IOException forged = TlsFailures.translate(new TlsFatalAlert(AlertDescription.bad_record_mac), established);
        assertInstanceOf(SSLException.class, forged);
        assertFalse(forged instanceof SSLHandshakeException);
        assertTrue(forged.getMessage().contains("forged, corrupted or replayed"), forged.getMessage());
        String alert = message(new TlsFatalAlertReceived(AlertDescription.unknown_psk_identity), established);
        assertEquals(PEER + " sent alert unknown_psk_identity(115)", alert);
    }

    @Test
    void plainIoFailuresPassThrough() {
        EOFException cut = new EOFException("connection with " + PEER + " ended without close_notify");
        assertSame(cut, TlsFailures.translate(cut, client(true, false)));
        IOException odd = TlsFailures.translate(new IllegalStateException("x"), client(true, false));
        assertEquals("TLS failure with " + PEER + ": IllegalStateException", odd.getMessage());
    }
}
