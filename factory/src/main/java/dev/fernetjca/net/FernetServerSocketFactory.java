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
 * <p>{@code accept()} returns at once; each accepted socket runs its handshake on its first read or write, bounded by
 * the handshake timeout, so a silent client cannot hold the accepting thread.
 *
 * <p>Immutable; safe to share.
 */
public final class FernetServerSocketFactory extends ServerSocketFactory {
    private final Settings settings;

    /**
     * Creates a factory for a Fernet key or a {@code FernetKeyRing}; it keeps only keys derived from them.
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a Fernet key or ring
     */
    public FernetServerSocketFactory(SecretKey keyOrRing) {
        this(Settings.of(keyOrRing));
    }

    /**
     * Creates a factory for the configured keys.
     *
     * @throws IllegalStateException if no keys are configured, naming every setting consulted
     */
    public FernetServerSocketFactory() {
        this(Settings.configured());
    }

    FernetServerSocketFactory(Settings settings) {
        this.settings = settings;
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
