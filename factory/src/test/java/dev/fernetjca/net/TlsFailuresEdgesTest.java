package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;
import org.junit.jupiter.api.Test;

/** {@link TlsFailures} at the edges of each rule: first bytes, printable identities, reasons and alert wording. */
class TlsFailuresEdgesTest {
    private static final String PEER = "/192.0.2.9:4433";
    private static final String OURS = "fernet-jca-1-00000000000000000000000000000001";

    private static TlsFailures.Evidence done() {
        return new TlsFailures.Evidence(PEER, true, true, 1000, true, List.of(OURS), true, "", false, false, true);
    }

    private static TlsFailures.Evidence server(boolean matched, boolean answered) {
        return new TlsFailures.Evidence(
                PEER, false, false, 300, true, List.of(OURS), true, OURS, false, matched, answered);
    }

    @Test
    void firstBytesAreTlsOnlyForContentTypes20To24FollowedByMajorVersion3() {
        assertFalse(TlsFailures.looksLikeTls(new byte[] {22, 3}, 0), "nothing received");
        assertFalse(TlsFailures.looksLikeTls(new byte[] {22, 3}, -1));
        assertTrue(TlsFailures.looksLikeTls(new byte[] {20, 3}, 2));
        assertTrue(TlsFailures.looksLikeTls(new byte[] {24, 3}, 2));
        assertFalse(TlsFailures.looksLikeTls(new byte[] {19, 3}, 2));
        assertFalse(TlsFailures.looksLikeTls(new byte[] {25, 3}, 2));
        assertFalse(TlsFailures.looksLikeTls(new byte[] {(byte) 150, 3}, 2), "a byte above 127 is not negative here");
        assertTrue(TlsFailures.looksLikeTls(new byte[] {24, 9}, 1), "one byte: the version is not known yet");
        assertFalse(TlsFailures.looksLikeTls(new byte[] {22, 2}, 2));
        assertFalse(TlsFailures.looksLikeTls(new byte[] {22, 4}, 2));
        assertFalse(TlsFailures.looksLikeTls(new byte[] {'G', 'E'}, 2), "an HTTP request");
    }

    @Test
    void printableKeepsVisibleAsciiAndCutsAt64Characters() {
        assertEquals("!~", TlsFailures.printable(new byte[] {0x21, 0x7e}));
        assertEquals("??", TlsFailures.printable(new byte[] {0x20, 0x7f}));
        assertEquals("?a?", TlsFailures.printable(new byte[] {'\n', 'a', (byte) 0xc3}));
        byte[] exactly = new byte[64];
        Arrays.fill(exactly, (byte) 'x');
        assertEquals("x".repeat(64), TlsFailures.printable(exactly));
        byte[] longer = new byte[65];
        Arrays.fill(longer, (byte) 'y');
        assertEquals("y".repeat(64) + "...", TlsFailures.printable(longer));
        assertEquals("", TlsFailures.printable(new byte[0]));
    }

    @Test
    void reasonsAreTakenFromTheTranslatedException() {
        assertEquals(
                "key-mismatch",
                TlsFailures.reason(new SSLHandshakeException(PEER + " does not hold a matching Fernet key: x")));
        assertEquals(
                "not-fernet-peer",
                TlsFailures.reason(
                        new SSLHandshakeException(PEER + " is not a fernet-jca peer: it did not speak TLS")));
        assertEquals("timeout", TlsFailures.reason(new SocketTimeoutException("read timed out")));
        SSLHandshakeException timedOut = new SSLHandshakeException("handshake did not complete within 10 ms");
        timedOut.initCause(new SocketTimeoutException("handshake timed out"));
        assertEquals("timeout", TlsFailures.reason(timedOut));
        assertEquals("peer-closed", TlsFailures.reason(new EOFException("ended during the handshake")));
        assertEquals("other", TlsFailures.reason(new IOException("something else")));
        assertEquals("other", TlsFailures.reason(new IOException((String) null)));
    }

    @Test
    void alertsAfterTheHandshakeAreNamedByWhatTheyMean() {
        IOException forged = TlsFailures.translate(new TlsFatalAlert(AlertDescription.bad_record_mac), done());
        assertEquals(
                "record from " + PEER + " failed authentication: forged, corrupted or replayed data",
                forged.getMessage());
        assertInstanceOf(SSLException.class, forged);
        IOException overflow = TlsFailures.translate(new TlsFatalAlert(AlertDescription.record_overflow), done());
        assertEquals("record from " + PEER + " exceeds the TLS record limit", overflow.getMessage());
        IOException other = TlsFailures.translate(new TlsFatalAlert(AlertDescription.decode_error), done());
        assertEquals("connection with " + PEER + " failed: decode_error(50)", other.getMessage());
        assertFalse(other instanceof SSLHandshakeException);
        IOException received =
                TlsFailures.translate(new TlsFatalAlertReceived(AlertDescription.bad_record_mac), done());
        assertEquals(PEER + " sent alert bad_record_mac(20)", received.getMessage());
    }

    @Test
    void anInterruptionIsPassedOnAsItIsAndATimeoutToo() {
        InterruptedIOException interrupted = new InterruptedIOException("interrupted");
        assertSame(interrupted, TlsFailures.translate(interrupted, done()));
        SocketTimeoutException timeout = new SocketTimeoutException("read timed out");
        assertSame(timeout, TlsFailures.translate(timeout, done()));
        IOException plain = new IOException("reset");
        assertSame(plain, TlsFailures.translate(plain, done()));
        assertNull(plain.getCause(), "an IOException passed on gains no cause");
        IOException wrapped = TlsFailures.translate(new IllegalStateException("boom"), done());
        assertEquals("TLS failure with " + PEER + ": IllegalStateException", wrapped.getMessage());
        assertInstanceOf(IllegalStateException.class, wrapped.getCause());
    }

    @Test
    void aBinderThatFailsIsAKeyMismatchOnlyBeforeWeAnsweredAndForAnIdentityWeHold() {
        TlsFatalAlert decryptError = new TlsFatalAlert(AlertDescription.decrypt_error);
        IOException mismatch = TlsFailures.translate(decryptError, server(true, false));
        assertEquals(
                PEER + " does not hold a matching Fernet key: it offered " + OURS
                        + ", an identity we hold, with another secret (its PSK binder does not verify)",
                mismatch.getMessage());
        assertSame(decryptError, mismatch.getCause(), "Bouncy Castle's cause is kept");
        assertEquals(
                "handshake with " + PEER + " failed: decrypt_error(51)",
                TlsFailures.translate(new TlsFatalAlert(AlertDescription.decrypt_error), server(true, true))
                        .getMessage());
        assertEquals(
                "handshake with " + PEER + " failed: decrypt_error(51)",
                TlsFailures.translate(new TlsFatalAlert(AlertDescription.decrypt_error), server(false, false))
                        .getMessage());
    }
}
