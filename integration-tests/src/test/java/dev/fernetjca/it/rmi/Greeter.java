package dev.fernetjca.it.rmi;

import java.rmi.Remote;
import java.rmi.RemoteException;

/** The remote interface of the small RMI application that RmiIT runs in child JVMs. */
public interface Greeter extends Remote {
    /** The name the server binds its greeter under in its registry. */
    String NAME = "greeter";

    /** Returns a greeting for {@code name}, with the server's process id so a test can tell who answered. */
    String greet(String name) throws RemoteException;

    /** The server's implementation; public only because RMI's reflection calls it. */
    final class Impl implements Greeter {
        @Override
        public String greet(String name) {
            return "hello, " + name + ", from " + ProcessHandle.current().pid();
        }
    }
}
