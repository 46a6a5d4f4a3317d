package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.api.Test;

/**
 * The client settings' own record of a handshake, which the failure diagnosis reads: whether a ServerHello came,
 * whether the server chose a certificate, and which of our keys it took (none until it takes one).
 */
class PskTlsClientTest {
    private final List<PskDerivation> psks = PskDerivation.of(FernetKeyRing.of(newKey(), newKey(), newKey()));

    private static BasicTlsPSKExternal psk(byte[] identity) {
        return new BasicTlsPSKExternal(
                identity, Settings.CRYPTO.createSecret(new byte[32]), PRFAlgorithm.tls13_hkdf_sha256);
    }

    @Test
    void nothingIsSeenBeforeTheServerAnswers() {
        PskTlsClient client = new PskTlsClient(Settings.CRYPTO, psks);
        assertFalse(client.serverHelloSeen());
        assertFalse(client.serverChoseCertificate());
        assertEquals(-1, client.selectedIndex());
    }

    @Test
    void aServerHelloIsNoted() throws Exception {
        PskTlsClient client = new PskTlsClient(Settings.CRYPTO, psks);
        client.notifyServerVersion(ProtocolVersion.TLSv13);
        assertTrue(client.serverHelloSeen());
        assertFalse(client.serverChoseCertificate());
    }

    @Test
    void aCertificateIsRefusedAndNoted() {
        PskTlsClient client = new PskTlsClient(Settings.CRYPTO, psks);
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, client::getAuthentication);
        assertEquals(AlertDescription.handshake_failure, alert.getAlertDescription());
        assertTrue(client.serverChoseCertificate());
    }

    @Test
    void theKeyTheServerTookIsFoundInTheRing() throws Exception {
        PskTlsClient client = new PskTlsClient(Settings.CRYPTO, psks);
        client.notifySelectedPSK(null);
        assertEquals(-1, client.selectedIndex(), "a ServerHello that takes no key");
        client.notifySelectedPSK(psk("fernet-jca-1-not-one-of-ours".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(-1, client.selectedIndex(), "an identity we did not offer");
        client.notifySelectedPSK(psk(psks.get(2).identity()));
        assertEquals(2, client.selectedIndex());
        client.notifySelectedPSK(psk(psks.get(0).identity()));
        assertEquals(0, client.selectedIndex());
    }

    @Test
    void aHandshakeThatCompletesWithoutOurKeyIsRefused() {
        PskTlsClient client = new PskTlsClient(Settings.CRYPTO, psks);
        TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, client::notifyHandshakeComplete);
        assertEquals(AlertDescription.handshake_failure, alert.getAlertDescription());
    }

    @Test
    void everyKeyOfTheRingIsOfferedInOrderAndOnlyX25519() {
        PskTlsClient client = new PskTlsClient(Settings.CRYPTO, psks);
        Vector<BasicTlsPSKExternal> offered = client.getExternalPSKs();
        assertEquals(3, offered.size());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(psks.get(i).identity(), offered.get(i).getIdentity());
        }
        assertEquals(PskTlsClient.x25519(), client.getEarlyKeyShareGroups());
    }
}
