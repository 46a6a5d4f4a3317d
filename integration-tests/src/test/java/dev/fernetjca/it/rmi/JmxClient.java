package dev.fernetjca.it.rmi;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * A JMX client as jconsole is one, naming no fernet-jca class: {@code JmxClient HOST PORT} connects to
 * {@code service:jmx:rmi:///jndi/rmi://HOST:PORT/jmxrmi} and prints the server's {@code pid=} (java.lang:type=Runtime)
 * and {@code sockets=} (ConnectionsOpened of dev.fernetjca:type=Sockets). Exits 0, or prints the exception chain as
 * {@code failure: CLASS: MESSAGE} lines and exits 1.
 */
public final class JmxClient {
    private JmxClient() {}

    public static void main(String[] args) {
        JMXServiceURL url;
        try {
            url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + args[0] + ":" + args[1] + "/jmxrmi");
            try (JMXConnector connector = JMXConnectorFactory.connect(url)) {
                MBeanServerConnection server = connector.getMBeanServerConnection();
                System.out.println("pid=" + server.getAttribute(new ObjectName("java.lang:type=Runtime"), "Pid"));
                System.out.println("sockets="
                        + server.getAttribute(new ObjectName("dev.fernetjca:type=Sockets"), "ConnectionsOpened"));
            }
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
