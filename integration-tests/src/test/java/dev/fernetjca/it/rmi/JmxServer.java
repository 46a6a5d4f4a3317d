package dev.fernetjca.it.rmi;

/**
 * An application that does nothing but run, to be watched over remote JMX
 * ({@code -Dcom.sun.management.jmxremote.port}): prints {@code ready}, then runs until it is stopped
 * (SIGTERM, SIGINT). It names no fernet-jca class.
 */
public final class JmxServer {
    private JmxServer() {}

    public static void main(String[] args) throws InterruptedException {
        AppSupport.serveUntilStopped();
    }
}
