package dev.fernetjca.it.rmi;

import dev.fernetjca.net.FernetRMIClientSocketFactory;
import java.rmi.registry.LocateRegistry;

/**
 * An RMI client of a {@link FernetServer}: looks up its registry at {@code host port} through a
 * {@link FernetRMIClientSocketFactory} (configured keys) and prints the greeter's greeting for {@code name}. The
 * greeter's stub brings its own client factory, deserialized here, which uses this JVM's keys. Exits 0 on success; on
 * failure prints the exception chain on stderr and exits 1.
 */
public final class FernetClient {
    private FernetClient() {}

    public static void main(String[] args) {
        AppSupport.callAndExit(
                () -> LocateRegistry.getRegistry(
                        args[0], Integer.parseInt(args[1]), new FernetRMIClientSocketFactory()),
                args[2]);
    }
}
