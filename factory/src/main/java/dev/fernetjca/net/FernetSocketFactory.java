package dev.fernetjca.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.SecretKey;
import javax.net.SocketFactory;
import dev.fernetjca.provider.FernetKeyRing;

/**
 * Makes client sockets that speak TLS 1.3 with a pre-shared key derived from a Fernet key (docs/protocol.md). Code
 * that takes a factory by class name gets encryption by configuration: pgjdbc's {@code socketFactory}, JNDI's
 * {@code java.naming.ldap.factory.socket}, JavaMail's {@code mail.smtp.socketFactory.class}.
 *
 * <p>The no-argument constructor and {@link #getDefault()} use the configured keys and wire mode
 * (docs/configuration.md); a factory made from a key speaks TLS unless its code chooses otherwise with
 * {@link FernetSocketOptions}. A client
 * offers every key of its ring; the server takes whichever it holds. The handshake runs on a socket's first read or
 * write, or on {@link #handshake(Socket)}.
 *
 * <p>Immutable; safe to share.
 */
public final class FernetSocketFactory extends SocketFactory {
    private final Settings settings;

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
     * configured keys, as the no-argument constructor: pgjdbc passes null when no {@code socketFactoryArg} is set.
     *
     * @param keyFile the path of a key file; null: the configured keys
     * @throws IllegalStateException if the file cannot be read or holds no valid keys (the message names the path,
     *     never a line), or, for null, if no keys are configured
     */
    public FernetSocketFactory(String keyFile) {
        this(keyFile == null || keyFile.isBlank() ? KeySource.configured() : KeySource.keyFile(keyFile));
    }

    private FernetSocketFactory(FernetKeyRing ring) {
        this(withRing(ring), Settings.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE));
    }

    /**
     * Creates a factory for the configured keys, mode, TTL and handshake timeout (docs/configuration.md).
     *
     * @throws IllegalStateException if no keys are configured, naming every setting consulted
     */
    public FernetSocketFactory() {
        this(Settings.configured(), Settings.origin(Settings.MODE_PROPERTY, Settings.MODE_VARIABLE));
    }

    FernetSocketFactory(Settings settings) {
        this(settings, "code");
    }

    /** Warns once per JVM when the settings are those of the fernet-tokens mode, naming {@code modeOrigin}. */
    private FernetSocketFactory(Settings settings, String modeOrigin) {
        this.settings = settings;
        if (settings.mode == Settings.Mode.FERNET_TOKENS) {
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
     * Returns a factory for the configured keys, read anew on each call so that a rotated key file takes effect;
     * JNDI and other frameworks find factories through this method.
     *
     * @throws IllegalStateException if no keys are configured
     */
    public static SocketFactory getDefault() {
        return new FernetSocketFactory();
    }

    /**
     * Runs the TLS handshake of a socket from one of our factories now rather than on its first I/O.
     *
     * @throws IllegalArgumentException if {@code socket} is not one of ours
     * @throws IOException if the handshake fails; the socket is then closed
     */
    public static void handshake(Socket socket) throws IOException {
        if (!(socket instanceof FernetSocket fernetSocket)) {
            throw new IllegalArgumentException("not a socket of a Fernet socket factory: " + socket.getClass().getName());
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
    public Socket createSocket() throws IOException {
        return FernetSocket.client(new Socket(), settings);
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

    private Socket connected(InetSocketAddress remote, InetSocketAddress local) throws IOException {
        if (remote.isUnresolved()) {
            throw new java.net.UnknownHostException(remote.getHostString());
        }
        Socket raw = new Socket();
        try {
            if (local != null) {
                raw.bind(local);
            }
            raw.connect(remote);
            return FernetSocket.client(raw, settings);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        return "FernetSocketFactory[" + settings.keyCount() + (settings.keyCount() == 1 ? " key]" : " keys]");
    }
}
