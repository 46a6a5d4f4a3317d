package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.function.Supplier;

/**
 * A server socket whose accepted sockets speak TLS 1.3 with a Fernet-derived PSK. {@link #accept()} returns at once
 * with the TCP connection; the handshake runs on the accepted socket's first read or write, under its deadline, so a
 * silent client holds no accepting thread.
 *
 * <p>Thread-safe, as ServerSocket.
 */
@SuppressFBWarnings(
        value = "UNENCRYPTED_SERVER_SOCKET",
        justification = "it only accepts: each accepted socket is wrapped in FernetSocket, which speaks TLS 1.3 PSK"
                + " or Fernet tokens over it")
final class FernetServerSocket extends ServerSocket {
    private final Supplier<Settings> settings; // asked on each accept: the keys may have been reloaded

    FernetServerSocket(Supplier<Settings> settings) throws IOException {
        this.settings = settings;
        Metrics.register(); // a server's figures exist from its start, at zero, before its first client
    }

    FernetServerSocket(Supplier<Settings> settings, int port, int backlog, InetAddress bindAddress) throws IOException {
        super(port, backlog, bindAddress);
        this.settings = settings;
        Metrics.register();
    }

    @Override
    public Socket accept() throws IOException {
        Socket raw = super.accept();
        try {
            return FernetSocket.server(raw, settings.get());
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** Returns null: a channel would bypass TLS. */
    @Override
    public ServerSocketChannel getChannel() {
        return null;
    }

    @Override
    public String toString() {
        return "FernetServerSocket[" + super.toString() + "]";
    }
}
