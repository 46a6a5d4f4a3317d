package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsUtils;
import org.junit.jupiter.api.Test;

/**
 * Every suite our peers offer must be one the TLS crypto can run: Bouncy Castle does not filter a list we give it, so
 * a peer that picks an unusable suite (OpenSSL with {@code -ciphersuites TLS_CHACHA20_POLY1305_SHA256}) would get a
 * handshake that fails inside our side. OpenSslInteropTest shows the same over the wire.
 */
class CipherSuitesTest {
    @Test
    void offersAes128GcmAndChaCha20Poly1305() {
        assertArrayEquals(
                new int[] {CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256},
                PskTlsClient.CIPHER_SUITES);
    }

    @Test
    void cryptoRunsEveryOfferedSuite() {
        IntStream.of(PskTlsClient.CIPHER_SUITES)
                .forEach(suite -> assertTrue(
                        Settings.CRYPTO.hasEncryptionAlgorithm(TlsUtils.getEncryptionAlgorithm(suite)),
                        "suite 0x" + Integer.toHexString(suite)
                                + " is offered, but Settings.CRYPTO has no cipher for it"));
    }
}
