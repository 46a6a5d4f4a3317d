package dev.fernetjca.it.rmi;

import java.rmi.registry.Registry;

/** What the servers and clients share; it names no fernet-jca class, so the plain ones stay plain. */
final class AppSupport {
    private AppSupport() {}

    /**
     * Prints {@code ready}, then serves until the JVM is stopped (SIGTERM, SIGINT, a kill): a server under a service
     * manager, in a container or in the background of a shell has no standard input to watch. {@code served} is held
     * here, so that the registry and the remote objects are never collected while the JVM runs.
     */
    static void serveUntilStopped(Object... served) throws InterruptedException {
        System.out.println("ready");
        System.out.flush();
        synchronized (served) {
            while (true) {
                served.wait();
            }
        }
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
