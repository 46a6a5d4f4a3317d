package dev.fernetjca.it.rmi;

import java.io.IOException;

/**
 * An application that does nothing but run, to be watched over remote JMX
 * ({@code -Dcom.sun.management.jmxremote.port}): prints {@code ready}, then waits for its stdin to end. It names no fernet-jca class.
 */
public final class JmxServer {
    private JmxServer() {}

    public static void main(String[] args) throws IOException {
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // the parent closes our stdin (or kills us) when the test is over
        }
        System.exit(0);
    }
}
