package dev.fernetjca.net;

import java.security.Provider;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;

/**
 * The {@code FernetJCA-PSK} provider: {@code SSLContext.FernetPSK}, whose engines and socket factories speak TLS 1.3
 * with a pre-shared key derived from a Fernet key, the protocol of {@link FernetSocketFactory} (docs/protocol.md), for
 * code that takes an {@link SSLContext} or an {@link javax.net.ssl.SSLEngine} rather than a socket factory: NIO
 * servers, the JDK's {@code HttpClient} and {@code HttpsServer}, Netty (docs/guides/sslcontext.md).
 *
 * <p>Register it with {@link java.security.Security#addProvider}, with a line
 * {@code security.provider.N=dev.fernetjca.net.FernetPskProvider} in a {@code java.security} file, or let
 * {@link java.util.ServiceLoader} find it on the class path or the module path; then
 * {@code SSLContext.getInstance("FernetPSK")} and {@code init(null, null, null)} use the configured keys
 * (docs/configuration.md). Or skip registration and use {@link #sslContext(SecretKey)} with a key in code.
 *
 * <p>Immutable; safe to share.
 */
public final class FernetPskProvider extends Provider {
    private static final long serialVersionUID = 1L;

    /** The provider's name, {@value}. */
    static final String NAME = "FernetJCA-PSK";

    /** The {@code SSLContext} algorithm, {@value}. */
    static final String ALGORITHM = "FernetPSK";

    private static final FernetPskProvider INSTANCE = new FernetPskProvider();

    /** Creates the provider; its service constructs the SPI directly, so the SPI stays package-private. */
    public FernetPskProvider() {
        super(NAME, "1.0", "TLS 1.3 with a pre-shared key derived from a Fernet key, as an SSLContext");
        putService(new Service(this, "SSLContext", ALGORITHM, PskContextSpi.class.getName(), List.of(), Map.of()) {
            @Override
            public Object newInstance(Object unused) {
                return new PskContextSpi();
            }
        });
    }

    /**
     * Returns an initialized {@code FernetPSK} context for a Fernet key or a {@code FernetKeyRing}: its engines offer
     * (as clients) or accept (as servers) every key of the ring, and its socket factories' handshake timeout is the
     * configured one. The context keeps only keys derived from {@code keyOrRing}; calling {@code init} on it throws.
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a Fernet key or ring
     * @throws IllegalStateException if the configured handshake timeout is invalid
     */
    public static SSLContext sslContext(SecretKey keyOrRing) {
        Settings settings = FernetSocketOptions.tls().settings(keyOrRing);
        return new SSLContext(new PskContextSpi(KeyWatch.fixed(settings)), INSTANCE, ALGORITHM) {};
    }
}
