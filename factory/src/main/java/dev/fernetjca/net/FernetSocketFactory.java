package dev.fernetjca.net;

import dev.fernetjca.provider.FernetKeyRing;
import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.SecretKey;
import javax.net.SocketFactory;

/**
 * Makes client sockets that speak TLS 1.3 with a pre-shared key derived from a Fernet key (docs/protocol.md). Code
 * that takes a factory by class name gets encryption by configuration: pgjdbc's {@code socketFactory}, JNDI's
 * {@code java.naming.ldap.factory.socket}, JavaMail's {@code mail.smtp.socketFactory.class}.
 *
 * <p>The no-argument constructor and {@link #getDefault()} use the configured keys and wire mode
 * (docs/configuration.md), and watch a configured key file: a changed file applies to new connections without a
 * restart (docs/guides/key-rotation.md). A factory made from a key speaks TLS unless its code chooses otherwise with
 * {@link FernetSocketOptions}, and watches nothing. A client
 * offers every key of its ring; the server takes whichever it holds. The handshake runs on a socket's first read or
 * write, or on {@link #handshake(Socket)}.
 *
 * <p>Thread-safe; safe to share. Immutable but for the keys of a watched key file, which change between connections.
 */
public final class FernetSocketFactory extends SocketFactory {
    private static final AtomicReference<Shared> SHARED = new AtomicReference<>();

    private final KeyWatch keys;

    /**
     * Creates a factory for a Fernet key or a {@code FernetKeyRing} that speaks TLS 1.3, whatever {@code fernet.mode}
     * says: code that holds a key also decides the wire format, so that an environment variable cannot silently turn
     * it into the weaker fernet-tokens mode. The same as {@code new FernetSocketFactory(keyOrRing,
     * FernetSocketOptions.tls())}. The factory keeps only keys derived from {@code keyOrRing}.
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a Fernet key or ring
     * @throws IllegalStateException if the configured handshake timeout is invalid
     */
    public FernetSocketFactory(SecretKey keyOrRing) {
        this(keyOrRing, FernetSocketOptions.tls());
    }

    /**
     * Creates a factory for a Fernet key or ring whose sockets speak as {@code options} say: TLS, the fernet-tokens
     * mode, or whatever the configuration says ({@link FernetSocketOptions#fromConfiguration()}).
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a Fernet key or ring
     * @throws IllegalStateException if a setting {@code options} leave to the configuration is invalid
     */
    public FernetSocketFactory(SecretKey keyOrRing, FernetSocketOptions options) {
        this(options.settings(keyOrRing), options.modeOrigin());
    }

    /**
     * Creates a factory for the keys of the key file {@code keyFile} (the format of docs/configuration.md, owner-only
     * permissions), with the configured mode, TTL and handshake timeout: for code that instantiates a factory by class
     * name and passes one string, as pgjdbc does with {@code socketFactoryArg}, so that two databases in one JVM can
     * use two keys (docs/guides/jdbc.md). The file is read once, here. A null or blank {@code keyFile} means the
     * configured keys, watched as the no-argument constructor's: pgjdbc passes null when no {@code socketFactoryArg}
     * is set.
     *
     * @param keyFile the path of a key file; null: the configured keys
     * @throws IllegalStateException if the file cannot be read or holds no valid keys (the message names the path,
     *     never a line), or, for null, if no keys are configured
     */
    public FernetSocketFactory(String keyFile) {
        this(
                keyFile == null || keyFile.isBlank()
                        ? KeyWatch.configured(Lookup.PROCESS)
                        : KeyWatch.fixed(withRing(KeySource.keyFile(keyFile))),
                Settings.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE));
    }

    /**
     * Creates a factory for the configured keys, mode, TTL and handshake timeout (docs/configuration.md).
     *
     * @throws IllegalStateException if no keys are configured, naming every setting consulted
     */
    public FernetSocketFactory() {
        this(KeyWatch.configured(Lookup.PROCESS), Settings.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE));
    }

    FernetSocketFactory(Settings settings) {
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
    public static FernetSocketFactory configured(Map<String, String> environment, FernetSocketOptions options) {
        Lookup lookup = Lookup.withEnvironment(environment);
        return new FernetSocketFactory(KeyWatch.configured(lookup, options), options.modeOrigin(lookup));
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
    static FernetSocketFactory watching(KeyWatch keys) {
        return new FernetSocketFactory(keys, "code");
    }

    private FernetSocketFactory(Settings settings, String modeOrigin) {
        this(KeyWatch.fixed(settings), modeOrigin);
    }

    /** Warns once per JVM when the settings are those of the fernet-tokens mode, naming {@code modeOrigin}. */
    private FernetSocketFactory(KeyWatch keys, String modeOrigin) {
        this.keys = keys;
        if (keys.settings().mode == Settings.Mode.FERNET_TOKENS) {
            TokenLineStream.warnInEffect(modeOrigin);
        }
    }

    /** Returns the settings of {@code ring} with the configured mode, and destroys the ring. */
    private static Settings withRing(FernetKeyRing ring) {
        try {
            return FernetSocketOptions.fromConfiguration().settings(ring);
        } finally {
            ring.destroy();
        }
    }

    /**
     * Returns a factory for the configured keys, as read now, and watched as the no-argument constructor's are; JNDI
     * and other frameworks find factories through this method, some (JNDI's LDAP) once per connection. When the keys
     * come from a key file, the factory of the previous call is returned again as long as the file and the settings are
     * unchanged, which is what reading them anew would give, without the read and the key derivation.
     *
     * @throws IllegalStateException if no keys are configured
     */
    @SuppressFBWarnings(
            value = "HSM_HIDING_METHOD",
            justification = "hiding SocketFactory.getDefault() is the point: JNDI and other frameworks call "
                    + "getDefault() on the class they are given, and must get a Fernet factory, not the"
                    + " plain one")
    public static SocketFactory getDefault() {
        return shared(Lookup.PROCESS);
    }

    /**
     * Returns the factory {@link #getDefault()} returns, for the configuration {@code lookup} finds; the RMI client
     * factory shares it.
     */
    static FernetSocketFactory shared(Lookup lookup) {
        List<String> configuration = KeyWatch.keyFileConfiguration(lookup);
        Shared last = SHARED.get();
        if (configuration != null
                && last != null
                && last.configuration.equals(configuration)
                && last.factory.keys.matchesKeyFile()) {
            return last.factory;
        }
        FernetSocketFactory made = new FernetSocketFactory(
                KeyWatch.configured(lookup), lookup.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE));
        if (configuration != null) {
            SHARED.set(new Shared(configuration, made));
        }
        return made;
    }

    /** The factory {@link #shared(Lookup)} made last, with the configuration it was made from (no key in it). */
    private record Shared(List<String> configuration, FernetSocketFactory factory) {}

    /**
     * Returns the keys the no-argument constructor would use, read now, with environment variables taken from
     * {@code environment} instead of this process's: for a program that uses the configured keys for more than
     * sockets, such as the {@code fernet} command's {@code encrypt}, so that it follows the same key policy.
     *
     * @return a new ring, which the caller owns and should destroy once done
     * @throws IllegalStateException if no keys are configured, naming every setting consulted, or they cannot be read
     */
    public static FernetKeyRing configuredKeys(Map<String, String> environment) {
        return KeySource.from(Lookup.withEnvironment(environment));
    }

    /**
     * Runs the TLS handshake of a socket from one of our factories now rather than on its first I/O.
     *
     * @throws IllegalArgumentException if {@code socket} is not one of ours
     * @throws IOException if the handshake fails; the socket is then closed
     */
    public static void handshake(Socket socket) throws IOException {
        if (!(socket instanceof FernetSocket fernetSocket)) {
            throw new IllegalArgumentException("not a socket of a Fernet socket factory: "
                    + socket.getClass().getName());
        }
        fernetSocket.handshake();
    }

    /**
     * Closes {@code socket} as a failure, at once and from any thread: a TCP reset and, on a socket of ours, no
     * close_notify, so the peer sees an error rather than a clean end. A relay (the {@code fernet tunnel}) calls it on
     * one side when the other side failed: passing such an end on as a clean close would turn a cut connection into a
     * silently truncated stream. {@code close()} stays the clean end. Best effort: never throws.
     */
    public static void abort(Socket socket) {
        if (socket instanceof FernetSocket fernetSocket) {
            fernetSocket.abort();
            return;
        }
        try {
            if (!socket.isClosed()) {
                socket.setSoLinger(true, 0);
            }
        } catch (IOException e) {
            // closed meanwhile, or not connected: closing is what is left
        }
        try {
            socket.close();
        } catch (IOException e) {
            // closing is all that was asked
        }
    }

    /**
     * Returns, for each key of {@code keyOrRing} (primary first), the line {@code IDENTITY HEX_SECRET}: the TLS 1.3
     * external PSK this project derives from it, so that a non-Java peer can join, e.g. {@code openssl s_server
     * -tls1_3 -psk_identity IDENTITY -psk HEX_SECRET}. The secret is key material: show it only where a key may go.
     *
     * @throws IllegalArgumentException if {@code keyOrRing} is not a Fernet key or ring
     */
    public static List<String> externalPsks(SecretKey keyOrRing) {
        FernetKeyRing ring = FernetKeyRing.of(keyOrRing);
        List<PskDerivation> psks = PskDerivation.of(ring);
        ring.destroy();
        List<String> lines = new ArrayList<>(psks.size());
        for (PskDerivation psk : psks) {
            byte[] secret = psk.secret();
            try {
                lines.add(psk.identityText() + " " + HexFormat.of().formatHex(secret));
            } finally {
                Arrays.fill(secret, (byte) 0);
                psk.destroy();
            }
        }
        return List.copyOf(lines);
    }

    /** Returns an unconnected socket; {@code connect} it, then read or write. */
    @Override
    @SuppressFBWarnings(
            value = "UNENCRYPTED_SOCKET",
            justification = "an unconnected plain socket, returned inside a FernetSocket: only TLS 1.3 PSK "
                    + "records or Fernet tokens cross it")
    public Socket createSocket() throws IOException {
        return FernetSocket.client(new Socket(), keys.settings());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
    }

    @SuppressFBWarnings(
            value = "UNENCRYPTED_SOCKET",
            justification = "connected, then wrapped in a FernetSocket before anything is written: only TLS "
                    + "1.3 PSK records or Fernet tokens cross it")
    private Socket connected(InetSocketAddress remote, InetSocketAddress local) throws IOException {
        if (remote.isUnresolved()) {
            throw new UnknownHostException(remote.getHostString());
        }
        Socket raw = new Socket();
        try {
            if (local != null) {
                raw.bind(local);
            }
            raw.connect(remote);
            return FernetSocket.client(raw, keys.settings());
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        int keyCount = keys.settings().keyCount();
        return "FernetSocketFactory[" + keyCount + (keyCount == 1 ? " key]" : " keys]");
    }
}
