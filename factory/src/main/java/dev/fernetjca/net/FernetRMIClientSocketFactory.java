package dev.fernetjca.net;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.net.Socket;
import java.rmi.server.RMIClientSocketFactory;

/**
 * Makes the client sockets of RMI calls, TLS 1.3 with a pre-shared key derived from the configured Fernet keys
 * (docs/configuration.md, docs/guides/rmi.md). Pass it with a {@link FernetRMIServerSocketFactory} to
 * {@code UnicastRemoteObject.exportObject(obj, port, csf, ssf)} or {@code LocateRegistry.createRegistry(port, csf, ssf)}.
 *
 * <p>RMI serializes this factory into every stub it hands out, so it carries no key and no constructor takes one: each
 * JVM that calls through a stub uses its own configured keys, read on the first socket it creates there; a configured
 * key file is watched, and a changed one applies to new connections. For the same reason all instances are equal,
 * which lets RMI share connections between stubs. A client therefore needs this class on its class path and its own key
 * configuration; a JVM without keys fails each call with a {@code java.rmi.ConnectIOException} whose cause names the
 * settings consulted.
 *
 * <p>Thread-safe; safe to share.
 */
public final class FernetRMIClientSocketFactory implements RMIClientSocketFactory, Serializable {
    private static final long serialVersionUID = 1L;

    /** Never serialized: it holds the keys of the JVM that created it. */
    private transient volatile FernetSocketFactory sockets;

    /** Creates a factory that will use the configured keys of whichever JVM it is used in. */
    public FernetRMIClientSocketFactory() {}

    /**
     * Returns a socket connected to {@code host:port}; the TLS handshake runs on its first read or write.
     *
     * @throws IOException if the connection fails, or if no keys are configured in this JVM (the cause is then the
     *     {@link IllegalStateException} naming every setting consulted)
     */
    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return sockets().createSocket(host, port);
    }

    private FernetSocketFactory sockets() throws IOException {
        FernetSocketFactory current = sockets;
        if (current == null) {
            // a race only derives the same keys twice; a failure is not kept, so a later call may find keys
            try {
                current =
                        FernetSocketFactory.shared(Lookup.PROCESS); // every stub's copy of this factory shares one read
            } catch (IllegalStateException e) {
                throw new IOException(e.getMessage(), e);
            }
            sockets = current;
        }
        return current;
    }

    /** Reads nothing but the class: a stream that claims fields for this class cannot set any. */
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
    }

    /** Returns whether {@code other} is a FernetRMIClientSocketFactory: every instance makes the same sockets. */
    @Override
    public boolean equals(Object other) {
        return other instanceof FernetRMIClientSocketFactory;
    }

    @Override
    public int hashCode() {
        return FernetRMIClientSocketFactory.class.getName().hashCode();
    }

    @Override
    public String toString() {
        return "FernetRMIClientSocketFactory[configured keys]";
    }
}
