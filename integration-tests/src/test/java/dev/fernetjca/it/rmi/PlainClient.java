package dev.fernetjca.it.rmi;

import java.rmi.registry.LocateRegistry;

/**
 * An RMI client that knows nothing of fernet-jca: looks up the greeter at {@code host port} and prints its greeting
 * for {@code name}. Exits 0 on success; on failure prints the exception chain on stderr and exits 1.
 */
public final class PlainClient {
    private PlainClient() {}

    public static void main(String[] args) {
        AppSupport.callAndExit(() -> LocateRegistry.getRegistry(args[0], Integer.parseInt(args[1])), args[2]);
    }
}
