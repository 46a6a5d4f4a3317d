package dev.fernetjca.net;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AbstractTlsClient;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSK;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.util.Integers;

/**
 * Bouncy Castle client settings: TLS 1.3 only, AES-128-GCM or ChaCha20-Poly1305 with SHA-256, every key of the ring
 * offered as an external PSK, {@code psk_dhe_ke} with X25519, and no certificates ever.
 *
 * <p>One per connection; not thread-safe.
 */
final class PskTlsClient extends AbstractTlsClient {
    static final int[] CIPHER_SUITES = {
        CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    };

    private final List<PskDerivation> psks;
    private final int[] cipherSuites;
    private volatile int selectedIndex = -1;
    private volatile boolean serverHelloSeen;
    private volatile boolean serverChoseCertificate;

    PskTlsClient(TlsCrypto crypto, List<PskDerivation> psks) {
        this(crypto, psks, CIPHER_SUITES);
    }

    /** Offers {@code cipherSuites}, a non-empty subset of {@link #CIPHER_SUITES} in order of preference. */
    PskTlsClient(TlsCrypto crypto, List<PskDerivation> psks, int[] cipherSuites) {
        super(crypto);
        this.psks = psks;
        this.cipherSuites = cipherSuites.clone();
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return ProtocolVersion.TLSv13.only();
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return cipherSuites.clone();
    }

    @Override
    protected Vector<Integer> getSupportedGroups(@SuppressWarnings("rawtypes") Vector namedGroupRoles) {
        return x25519();
    }

    @Override
    public Vector<Integer> getEarlyKeyShareGroups() {
        return x25519();
    }

    @Override
    public Vector<BasicTlsPSKExternal> getExternalPSKs() {
        Vector<BasicTlsPSKExternal> offered = new Vector<>(psks.size());
        for (PskDerivation psk : psks) {
            byte[] secret = psk.secret();
            try {
                offered.add(new BasicTlsPSKExternal(
                        psk.identity(), getCrypto().createSecret(secret), PRFAlgorithm.tls13_hkdf_sha256));
            } finally {
                Arrays.fill(secret, (byte) 0);
            }
        }
        return offered;
    }

    @Override
    public void notifyServerVersion(ProtocolVersion serverVersion) throws IOException {
        serverHelloSeen = true;
        super.notifyServerVersion(serverVersion);
    }

    /**
     * Notes which key the server took. A ServerHello that takes none is not refused here: our own server sends one
     * before its unknown_psk_identity alert, which proves a key mismatch, while a certificate server goes on to its
     * certificate, which {@link #getAuthentication()} refuses. Either way we send nothing more.
     */
    @Override
    public void notifySelectedPSK(TlsPSK selectedPSK) throws IOException {
        if (selectedPSK == null) {
            return;
        }
        for (int i = 0; i < psks.size(); i++) {
            if (psks.get(i).hasIdentity(selectedPSK.getIdentity())) {
                selectedIndex = i;
            }
        }
    }

    /** Refuses a handshake that ended without one of our keys: Bouncy Castle should never allow it. */
    @Override
    public void notifyHandshakeComplete() throws IOException {
        if (selectedIndex < 0) {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "handshake completed without our key");
        }
        super.notifyHandshakeComplete();
    }

    /** Refuses certificate authentication: a server that did not take our PSK is not a peer of ours. */
    @Override
    public TlsAuthentication getAuthentication() throws IOException {
        serverChoseCertificate = true; // it has sent its Certificate message

        throw new TlsFatalAlert(
                AlertDescription.handshake_failure, "server sent a certificate instead of using our key");
    }

    /** Returns which key of the ring the server accepted, 0 for the primary, -1 before the handshake. */
    int selectedIndex() {
        return selectedIndex;
    }

    /** Tells whether a ServerHello has arrived. */
    boolean serverHelloSeen() {
        return serverHelloSeen;
    }

    /** Tells whether the server presented a certificate instead of taking one of our keys. */
    boolean serverChoseCertificate() {
        return serverChoseCertificate;
    }

    static Vector<Integer> x25519() {
        Vector<Integer> groups = new Vector<>(1);
        groups.add(Integers.valueOf(NamedGroup.x25519));
        return groups;
    }
}
