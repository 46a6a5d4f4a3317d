package dev.fernetjca.it.rmi;

import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.UnicastRemoteObject;

/**
 * An RMI server that knows nothing of fernet-jca: a registry on the port given as the only argument, and a greeter
 * exported on an anonymous port. Run with {@code -javaagent:fernet-jca-factory.jar}, it speaks Fernet TLS; without, it
 * speaks plain JRMP. Prints {@code ready} once bound, then serves until it is stopped (SIGTERM, SIGINT).
 */
public final class PlainServer {
    private PlainServer() {}

    public static void main(String[] args) throws Exception {
        Greeter.Impl greeter = new Greeter.Impl();
        Greeter stub = (Greeter) UnicastRemoteObject.exportObject(greeter, 0);
        Registry registry = LocateRegistry.createRegistry(Integer.parseInt(args[0]));
        registry.bind(Greeter.NAME, stub);
        AppSupport.serveUntilStopped(registry, greeter);
    }
}
