package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;
import javax.crypto.SecretKey;
import javax.net.ServerSocketFactory;

/**
 * Makes server sockets whose accepted connections speak TLS 1.3 with a pre-shared key derived from a Fernet key
 * (docs/protocol.md). A server holding a ring accepts clients of any of its keys, which is how a fleet rotates keys:
 * servers take [new, old], then clients switch to new, then old is dropped.
 *
 * <p>The no-argument constructor and {@link #getDefault()} use the configured keys and wire mode
 * (docs/configuration.md), and watch a configured key file: a changed file applies to new connections without a
 * restart (docs/guides/key-rotation.md). A factory made from a key speaks TLS unless its code chooses otherwise with
 * {@link FernetSocketOptions}, and watches nothing.
 *
 * <p>{@code accept()} returns at once; each accepted socket runs its handshake on its first read or write, bounded by
 * the handshake timeout, so a silent client cannot hold the accepting thread.
 *
 * <p>Thread-safe; safe to share. Immutable but for the keys of a watched key file, which change between connections.
 */
public final class FernetServerSocketFactory extends ServerSocketFactory {
    private final KeyWatch keys;

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
        this(KeyWatch.configured(Lookup.PROCESS), Settings.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE));
    }

    FernetServerSocketFactory(Settings settings) {
        this(KeyWatch.fixed(settings), "code");
    }

    /**
     * Returns a factory for the configured keys, found and watched as the no-argument constructor's, with environment
     * variables taken from {@code environment} instead of this process's, and sockets that speak as {@code options}
     * say: for a program such as the {@code fernet} command that is given its environment and decides the mode itself
     * ({@link FernetSocketOptions#fromConfiguration()} leaves that to the configuration too). System and security
     * properties are this process's, and still come first.
     *
     * @throws IllegalStateException if no keys are configured, naming every setting consulted
     */
    public static FernetServerSocketFactory configured(Map<String, String> environment, FernetSocketOptions options) {
        Lookup lookup = Lookup.withEnvironment(environment);
        return new FernetServerSocketFactory(KeyWatch.configured(lookup, options), options.modeOrigin(lookup));
    }

    /**
     * Reads the configured key file again now, rather than at the next check (every {@code fernet.keyFile.refresh}
     * seconds): what a program does on {@code SIGHUP}. New connections get the new keys; established ones keep theirs.
     * A file that cannot be used leaves the keys in force, with an error in the log. Does nothing for a factory made
     * with a key in code or configured without a key file.
     *
     * @return whether new keys are in force
     */
    public boolean reloadKeys() {
        return keys.reload();
    }

    /** Returns a factory whose sockets take their settings from {@code keys}, TLS settings for the SSLContext. */
    static FernetServerSocketFactory watching(KeyWatch keys) {
        return new FernetServerSocketFactory(keys, "code");
    }

    private FernetServerSocketFactory(Settings settings, String modeOrigin) {
        this(KeyWatch.fixed(settings), modeOrigin);
    }

    /** Warns once per JVM when the settings are those of the fernet-tokens mode, naming {@code modeOrigin}. */
    private FernetServerSocketFactory(KeyWatch keys, String modeOrigin) {
        this.keys = keys;
        if (keys.settings().mode == Settings.Mode.FERNET_TOKENS) {
            TokenLineStream.warnInEffect(modeOrigin);
        }
    }

    /**
     * Returns a factory for the configured keys, read anew on each call.
     *
     * @throws IllegalStateException if no keys are configured
     */
    @SuppressFBWarnings(
            value = "HSM_HIDING_METHOD",
            justification = "hiding ServerSocketFactory.getDefault() is the point: JNDI and other frameworks "
                    + "call getDefault() on the class they are given, and must get a Fernet factory, "
                    + "not the plain one")
    public static ServerSocketFactory getDefault() {
        return new FernetServerSocketFactory();
    }

    /** Returns an unbound server socket; {@code bind} it, then accept. */
    @Override
    public ServerSocket createServerSocket() throws IOException {
        return new FernetServerSocket(keys::settings);
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
        return new FernetServerSocket(keys::settings, port, 50, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
        return new FernetServerSocket(keys::settings, port, backlog, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress bindAddress) throws IOException {
        return new FernetServerSocket(keys::settings, port, backlog, bindAddress);
    }

    @Override
    public String toString() {
        int keyCount = keys.settings().keyCount();
        return "FernetServerSocketFactory[" + keyCount + (keyCount == 1 ? " key]" : " keys]");
    }
}
