package dev.fernetjca.net;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AbstractTlsServer;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.crypto.TlsCrypto;

/**
 * Bouncy Castle server settings: TLS 1.3 only, the suites of {@link PskTlsClient}, X25519, and the external PSK of
 * whichever of our keys the client offers. A client that offers none is refused with {@code unknown_psk_identity};
 * there are no certificates to fall back to.
 *
 * <p>One per connection; not thread-safe.
 */
final class PskTlsServer extends AbstractTlsServer {
    private final List<PskDerivation> psks;
    private final int[] cipherSuites;
    private volatile int selectedIndex = -1;
    private volatile String offeredIdentities; // null until a ClientHello offers pre-shared keys

    PskTlsServer(TlsCrypto crypto, List<PskDerivation> psks) {
        this(crypto, psks, PskTlsClient.CIPHER_SUITES);
    }

    /** Accepts {@code cipherSuites}, a non-empty subset of {@link PskTlsClient#CIPHER_SUITES}. */
    PskTlsServer(TlsCrypto crypto, List<PskDerivation> psks, int[] cipherSuites) {
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
    public int[] getSupportedGroups() {
        return new int[] {NamedGroup.x25519};
    }

    @Override
    public TlsPSKExternal getExternalPSK(@SuppressWarnings("rawtypes") Vector identities) {
        List<String> shown = new ArrayList<>(TlsFailures.LISTED_IDENTITIES);
        for (Object identity : identities) {
            // a few are enough to tell an operator what the client holds; the rest are only counted
            if (shown.size() < TlsFailures.LISTED_IDENTITIES) {
                shown.add(TlsFailures.printable(((PskIdentity) identity).getIdentity()));
            }
        }
        offeredIdentities = TlsFailures.list(shown, identities.size());
        // our keys in ring order, so that during a rotation the primary wins when the client offers both
        for (int i = 0; i < psks.size(); i++) {
            PskDerivation psk = psks.get(i);
            for (Object offered : identities) {
                if (psk.hasIdentity(((PskIdentity) offered).getIdentity())) {
                    selectedIndex = i;
                    byte[] secret = psk.secret();
                    try {
                        return new BasicTlsPSKExternal(
                                psk.identity(), getCrypto().createSecret(secret), PRFAlgorithm.tls13_hkdf_sha256);
                    } finally {
                        Arrays.fill(secret, (byte) 0);
                    }
                }
            }
        }
        return null;
    }

    /** Reached only when no PSK matched: we have no certificate, so the client holds no key of ours. */
    @Override
    public TlsCredentials getCredentials() throws IOException {
        throw new TlsFatalAlert(AlertDescription.unknown_psk_identity, "client offered no key we hold");
    }

    /** Returns which key of the ring the client used, 0 for the primary, -1 before the handshake. */
    int selectedIndex() {
        return selectedIndex;
    }

    /**
     * Returns the identities the client offered, as a message lists them ({@link TlsFailures#list}); null if no
     * ClientHello with pre-shared keys has arrived.
     */
    String offeredIdentities() {
        return offeredIdentities;
    }
}
