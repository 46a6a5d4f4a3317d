package dev.fernetjca.net;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.net.ServerSocket;
import java.net.Socket;
import java.rmi.server.RMISocketFactory;

/**
 * The Java agent of the factory jar: {@code -javaagent:fernet-jca-factory.jar} makes every RMI connection of an
 * unchanged application that exports and looks up objects without socket factories TLS 1.3 with the configured Fernet
 * keys, by installing a JVM-wide {@link RMISocketFactory} before {@code main} runs. Exports and stubs that name their
 * own socket factories keep them. The guide is docs/guides/rmi.md.
 *
 * <p>The keys are read at start-up, and a configured key file is watched as the factories' no-argument constructors
 * watch it: a changed file applies to new connections (docs/guides/key-rotation.md). Without keys, or without the
 * jars the agent needs (fernet-jca-provider and Bouncy Castle's bcprov, bctls and bcutil, found through the jar's
 * {@code Class-Path} in its own directory or on the application's class path), the agent prints why on stderr and
 * the JVM exits with status 2 before the application starts, rather than letting it talk in the clear.
 *
 * <p>Not API, hence package-private: the JVM needs only {@code premain} to be public, for a class in the unnamed module
 * (checked by RmiIT on the release this project targets).
 *
 * <p>Stateless; {@code premain} runs once, on the main thread, before the application.
 */
final class Agent {
    /** Exit status when the agent cannot start, as the CLI's for a configuration error. */
    static final int CONFIGURATION_ERROR = 2;

    private static final String JMX_PORT = "com.sun.management.jmxremote.port";
    private static final String JMX_HOST = "com.sun.management.jmxremote.host";

    private Agent() {}

    /**
     * Installs the Fernet RMI socket factory for the whole JVM; called by the JVM for {@code -javaagent}.
     *
     * @param args the agent's options, of which there are none; ignored
     * @param instrumentation unused: the agent transforms no classes
     */
    public static void premain(String args, Instrumentation instrumentation) {
        if (System.getProperty(JMX_PORT) != null && System.getProperty(JMX_HOST) != null) {
            // the JDK then binds its JMX connector with socket factories of its own: plain JMX under an agent that
            // is meant to encrypt every RMI connection of the JVM
            exit(JMX_HOST + " makes the JDK's JMX connector use plain sockets of its own, which the agent cannot"
                    + " encrypt: leave it unset (docs/guides/rmi.md)");
            return;
        }
        RMISocketFactory factory;
        try {
            factory = new Sockets(new FernetSocketFactory(), new FernetServerSocketFactory());
            RMISocketFactory.setSocketFactory(factory);
        } catch (IllegalStateException | IOException e) {
            exit(e.getMessage());
            return;
        } catch (NoClassDefFoundError e) {
            // without this, the JVM aborts with a native stack trace that hides which jar is missing
            exit("cannot load " + e.getMessage() + ": put fernet-jca-provider and Bouncy Castle's bcprov, bctls and "
                    + "bcutil jars in the agent jar's directory or on the class path");
            return;
        }
        System.getLogger(Agent.class.getName())
                .log(System.Logger.Level.DEBUG, "RMI socket factory installed: {0}", factory);
    }

    private static void exit(String why) {
        System.err.println("fernet-jca agent: " + why + "; not starting the application");
        System.exit(CONFIGURATION_ERROR);
    }

    /** The JVM-wide RMI socket factory: Fernet sockets for every endpoint without factories of its own. */
    static final class Sockets extends RMISocketFactory {
        private final FernetSocketFactory sockets;
        private final FernetServerSocketFactory serverSockets;

        Sockets(FernetSocketFactory sockets, FernetServerSocketFactory serverSockets) {
            this.sockets = sockets;
            this.serverSockets = serverSockets;
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return sockets.createSocket(host, port);
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return serverSockets.createServerSocket(port);
        }

        @Override
        public String toString() {
            return "Agent.Sockets[" + sockets + ", " + serverSockets + "]";
        }
    }
}
