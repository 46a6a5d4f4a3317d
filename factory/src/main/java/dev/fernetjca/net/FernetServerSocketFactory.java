package dev.fernetjca.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import javax.crypto.SecretKey;
import javax.net.ServerSocketFactory;

/**
 * Makes server sockets whose accepted connections speak TLS 1.3 with a pre-shared key derived from a Fernet key
 * (docs/protocol.md). A server holding a ring accepts clients of any of its keys, which is how a fleet rotates keys:
 * servers take [new, old], then clients switch to new, then old is dropped.
 *
 * <p>The no-argument constructor and {@link #getDefault()} use the configured keys and wire mode
 * (docs/configuration.md); a factory made from a key speaks TLS unless its code chooses otherwise with
 * {@link FernetSocketOptions}.
 *
 * <p>{@code accept()} returns at once; each accepted socket runs its handshake on its first read or write, bounded by
 * the handshake timeout, so a silent client cannot hold the accepting thread.
 *
 * <p>Immutable; safe to share.
 */
public final class FernetServerSocketFactory extends ServerSocketFactory {
    private final Settings settings;

    /**
     * Creates a factory for a Fernet key or a {@code FernetKeyRing} that speaks TLS 1.3, whatever {@code fernet.mode}
     * says: code that holds a key also decides the wire format, so that an environment variable cannot silently turn
     * it into the weaker fernet-tokens mode. The same as {@code new FernetServerSocketFactory(keyOrRing,
     * FernetSocketOptions.tls())}. The factory keeps only keys derived from {@code keyOrRing}.
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a Fernet key or ring
     * @throws IllegalStateException if the configured handshake timeout is invalid
     */
    public FernetServerSocketFactory(SecretKey keyOrRing) {
        this(keyOrRing, FernetSocketOptions.tls());
    }

    /**
     * Creates a factory for a Fernet key or ring whose accepted sockets speak as {@code options} say: TLS, the
     * fernet-tokens mode, or whatever the configuration says ({@link FernetSocketOptions#fromConfiguration()}).
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a Fernet key or ring
     * @throws IllegalStateException if a setting {@code options} leave to the configuration is invalid
     */
    public FernetServerSocketFactory(SecretKey keyOrRing, FernetSocketOptions options) {
        this(options.settings(keyOrRing), options.modeOrigin());
    }

    /**
     * Creates a factory for the configured keys.
     *
     * @throws IllegalStateException if no keys are configured, naming every setting consulted
     */
    public FernetServerSocketFactory() {
        this(Settings.configured(), Settings.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE));
    }

    FernetServerSocketFactory(Settings settings) {
        this(settings, "code");
    }

    /** Warns once per JVM when the settings are those of the fernet-tokens mode, naming {@code modeOrigin}. */
    private FernetServerSocketFactory(Settings settings, String modeOrigin) {
        this.settings = settings;
        if (settings.mode == Settings.Mode.FERNET_TOKENS) {
            TokenLineStream.warnInEffect(modeOrigin);
        }
    }

    /**
     * Returns a factory for the configured keys, read anew on each call.
     *
     * @throws IllegalStateException if no keys are configured
     */
    public static ServerSocketFactory getDefault() {
        return new FernetServerSocketFactory();
    }

    /** Returns an unbound server socket; {@code bind} it, then accept. */
    @Override
    public ServerSocket createServerSocket() throws IOException {
        return new FernetServerSocket(settings);
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
        return new FernetServerSocket(settings, port, 50, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
        return new FernetServerSocket(settings, port, backlog, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress bindAddress) throws IOException {
        return new FernetServerSocket(settings, port, backlog, bindAddress);
    }

    @Override
    public String toString() {
        return "FernetServerSocketFactory[" + settings.keyCount() + (settings.keyCount() == 1 ? " key]" : " keys]");
    }
}
