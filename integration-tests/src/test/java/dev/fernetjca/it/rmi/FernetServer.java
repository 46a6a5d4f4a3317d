package dev.fernetjca.it.rmi;

import dev.fernetjca.net.FernetRMIClientSocketFactory;
import dev.fernetjca.net.FernetRMIServerSocketFactory;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.UnicastRemoteObject;

/**
 * An RMI server that names the Fernet factories: a registry on the port given as the only argument and a greeter on an
 * anonymous port, both exported with a {@link FernetRMIClientSocketFactory} and a {@link FernetRMIServerSocketFactory}
 * (configured keys: {@code -Dfernet.keyFile=...}). Prints {@code ready} once bound, then serves until it is stopped
 * (SIGTERM, SIGINT).
 */
public final class FernetServer {
    private FernetServer() {}

    public static void main(String[] args) throws Exception {
        FernetRMIClientSocketFactory clientSockets = new FernetRMIClientSocketFactory();
        FernetRMIServerSocketFactory serverSockets = new FernetRMIServerSocketFactory();
        Greeter.Impl greeter = new Greeter.Impl();
        Greeter stub = (Greeter) UnicastRemoteObject.exportObject(greeter, 0, clientSockets, serverSockets);
        Registry registry = LocateRegistry.createRegistry(Integer.parseInt(args[0]), clientSockets, serverSockets);
        registry.bind(Greeter.NAME, stub);
        AppSupport.serveUntilStopped(registry, greeter);
    }
}
