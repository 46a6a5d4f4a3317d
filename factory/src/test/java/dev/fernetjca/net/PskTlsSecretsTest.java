package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.fernetjca.provider.FernetKeyRing;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.jcajce.util.DefaultJcaJceHelper;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.crypto.TlsSecret;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;
import org.junit.jupiter.api.Test;

/**
 * The PSKs our client offers and our server selects: the right key of the ring, its secret handed to Bouncy Castle
 * intact, and our copy of that secret zeroed once Bouncy Castle has taken its own.
 */
class PskTlsSecretsTest {
    private final List<PskDerivation> psks = PskDerivation.of(FernetKeyRing.of(newKey(), newKey(), newKey()));
    private final List<byte[]> handed = new ArrayList<>();

    /** Bouncy Castle's JCA crypto, keeping every array it is handed for a secret (it copies each one). */
    private final JcaTlsCrypto keepingCrypto =
            new JcaTlsCrypto(new DefaultJcaJceHelper(), new SecureRandom(), new SecureRandom()) {
                @Override
                public TlsSecret createSecret(byte[] data) {
                    handed.add(data);
                    return super.createSecret(data);
                }
            };

    private static PskIdentity offer(byte[] identity) {
        return new PskIdentity(identity, 0L);
    }

    private void assertHandedSecretsZeroed(int count) {
        assertEquals(count, handed.size());
        for (byte[] secret : handed) {
            assertArrayEquals(new byte[PskDerivation.SECRET_BYTES], secret);
        }
    }

    @Test
    void theClientOffersEachSecretAndZeroesItsCopies() {
        Vector<BasicTlsPSKExternal> offered = new PskTlsClient(keepingCrypto, psks).getExternalPSKs();

        assertEquals(psks.size(), offered.size());
        for (int i = 0; i < psks.size(); i++) {
            assertArrayEquals(psks.get(i).secret(), offered.get(i).getKey().extract(), "key " + i);
        }
        assertHandedSecretsZeroed(psks.size());
    }

    @Test
    void theServerTakesThePrimaryWhenOfferedWithAnOlderKey() {
        PskTlsServer server = new PskTlsServer(keepingCrypto, psks);
        Vector<PskIdentity> identities = new Vector<>(List.of(
                offer("fernet-jca-1-not-ours".getBytes(US_ASCII)),
                offer(psks.get(2).identity()),
                offer(psks.get(0).identity())));

        TlsPSKExternal selected = server.getExternalPSK(identities);

        assertEquals(0, server.selectedIndex());
        assertArrayEquals(psks.get(0).identity(), selected.getIdentity());
        assertArrayEquals(psks.get(0).secret(), selected.getKey().extract());
        assertHandedSecretsZeroed(1);
    }

    @Test
    void theServerTakesAnOlderKeyAlone() {
        PskTlsServer server = new PskTlsServer(keepingCrypto, psks);

        TlsPSKExternal selected =
                server.getExternalPSK(new Vector<>(List.of(offer(psks.get(2).identity()))));

        assertEquals(2, server.selectedIndex());
        assertArrayEquals(psks.get(2).secret(), selected.getKey().extract());
        assertHandedSecretsZeroed(1);
    }

    @Test
    void theServerTakesNoKeyItDoesNotHold() {
        PskTlsServer server = new PskTlsServer(keepingCrypto, psks);
        List<PskDerivation> others = PskDerivation.of(FernetKeyRing.of(newKey()));

        assertNull(
                server.getExternalPSK(new Vector<>(List.of(offer(others.get(0).identity())))));
        assertEquals(-1, server.selectedIndex());
        assertEquals(others.get(0).identityText(), server.offeredIdentities());
        assertHandedSecretsZeroed(0);
    }

    @Test
    void theServerListsTheFirstOfferedIdentitiesAndCountsTheRest() {
        PskTlsServer server = new PskTlsServer(keepingCrypto, psks);
        Vector<PskIdentity> identities = new Vector<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i <= TlsFailures.LISTED_IDENTITIES; i++) {
            names.add("peer-" + i);
            identities.add(offer(names.get(i).getBytes(US_ASCII)));
        }

        assertNull(server.getExternalPSK(identities));

        String listed = String.join(", ", names.subList(0, TlsFailures.LISTED_IDENTITIES));
        assertEquals(listed + " and 1 more", server.offeredIdentities());
    }
}
