package dev.fernetjca.net;

import java.io.IOException;
import java.net.ServerSocket;
import java.rmi.server.RMIServerSocketFactory;

/**
 * Makes the listening sockets of exported RMI objects and registries, whose accepted connections speak TLS 1.3 with a
 * pre-shared key derived from the configured Fernet keys (docs/configuration.md, docs/guides/rmi.md). Use it with a
 * {@link FernetRMIClientSocketFactory}.
 *
 * <p>All instances are equal, so RMI lets every export with this factory and port 0 share one listening port. That is
 * sound only because every instance serves the same keys, which is why no constructor takes a key: an application that
 * holds its key in memory can give it to the JVM through a key file or a {@code fernet.key} system property. The keys
 * are read by the constructor, and a configured key file is watched: a changed file applies to new connections
 * (docs/guides/key-rotation.md).
 *
 * <p>Immutable; safe to share.
 */
public final class FernetRMIServerSocketFactory implements RMIServerSocketFactory {
    private final FernetServerSocketFactory serverSockets;

    /**
     * Creates a factory for the configured keys.
     *
     * @throws IllegalStateException if no keys are configured, naming every setting consulted
     */
    public FernetRMIServerSocketFactory() {
        this.serverSockets = new FernetServerSocketFactory();
    }

    /** Returns a server socket listening on {@code port} on all addresses, or on a free port if {@code port} is 0. */
    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
        return serverSockets.createServerSocket(port);
    }

    /** Returns whether {@code other} is a FernetRMIServerSocketFactory: every instance serves the configured keys. */
    @Override
    public boolean equals(Object other) {
        return other instanceof FernetRMIServerSocketFactory;
    }

    @Override
    public int hashCode() {
        return FernetRMIServerSocketFactory.class.getName().hashCode();
    }

    @Override
    public String toString() {
        return "FernetRMIServerSocketFactory[" + serverSockets + "]";
    }
}
