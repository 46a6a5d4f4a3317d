package dev.fernetjca.it.rmi;

import java.io.IOException;
import java.rmi.NoSuchObjectException;
import java.rmi.Remote;
import java.rmi.registry.Registry;
import java.rmi.server.UnicastRemoteObject;

/** What the servers and clients share; it names no fernet-jca class, so the plain ones stay plain. */
final class AppSupport {
    private AppSupport() {}

    static void serveUntilStdinEnds(Registry registry, Remote greeter) throws IOException {
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // the parent closes our stdin (or kills us) when the test is over
        }
        try {
            UnicastRemoteObject.unexportObject(greeter, true);
            UnicastRemoteObject.unexportObject(registry, true);
        } catch (NoSuchObjectException e) {
            // already gone
        }
        System.exit(0);
    }

    interface RegistryLocator {
        Registry locate() throws Exception;
    }

    static void callAndExit(RegistryLocator locator, String name) {
        try {
            Greeter greeter = (Greeter) locator.locate().lookup(Greeter.NAME);
            System.out.println(greeter.greet(name));
            System.out.flush();
            System.exit(0);
        } catch (Exception e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                System.err.println("failure: " + cause.getClass().getName() + ": " + cause.getMessage());
            }
            System.exit(1);
        }
    }
}
