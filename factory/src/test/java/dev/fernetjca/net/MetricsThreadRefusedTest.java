package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fernetjca.testing.Processes;
import java.security.Permission;
import java.util.List;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The MBean's registration thread cannot be had: a metrics failure must neither fail a connection nor make a later
 * {@link Metrics#register()} wait forever. The registration is once per JVM, so this runs in a child JVM of its own,
 * under a security manager that refuses the one thread {@link Metrics} asks for (a real refusal, no test hook).
 */
@Timeout(120)
class MetricsThreadRefusedTest {
    static final String DONE = "handshake done, register() returned";

    @Test
    void aRefusedRegistrationThreadBreaksNoHandshakeAndHangsNoRegister() throws Exception {
        assumeTrue(
                Runtime.version().feature() < 24,
                "JDK 24 and later cannot install a security manager (JEP 486): this runs on the JDK 17 pass");
        Processes.Result result = Processes.run(
                Processes.java(
                        System.getProperty("java.class.path"), List.of("-Djava.security.manager=allow"), Child.class),
                new byte[0],
                Processes.CHILD_TIMEOUT);
        assertEquals(0, result.status(), result.stdout() + result.stderr());
        assertTrue(result.stdout().contains(DONE), result.stdout() + result.stderr());
    }

    /** The child JVM: refuses Metrics its thread, then makes an engine pair handshake and calls register(). */
    @SuppressWarnings("removal") // the security manager is the one real way to refuse a thread here, on Java 17
    static final class Child {
        private Child() {}

        public static void main(String[] args) throws Exception {
            System.setSecurityManager(new SecurityManager() {
                @Override
                public void checkPermission(Permission permission) {}

                @Override
                public void checkPermission(Permission permission, Object context) {}

                @Override
                public void checkAccess(ThreadGroup group) {
                    // a Thread's constructor asks this; refused only when Metrics is the one asking
                    if (StackWalker.getInstance()
                            .walk(frames ->
                                    frames.anyMatch(f -> f.getClassName().equals(Metrics.class.getName())))) {
                        throw new SecurityException("no thread for metrics");
                    }
                }
            });
            SecretKey key = newKey();
            EngineLink link = new EngineLink(engine(key), engine(key), 1000, 1);
            link.client.send(new byte[] {1, 2, 3});
            link.run();
            if (link.client.engine.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING
                    || link.server.received.size() != 3) {
                throw new AssertionError("no handshake");
            }
            Thread waiter = new Thread(Metrics::register, "register");
            waiter.setDaemon(true);
            waiter.start();
            waiter.join(20_000);
            if (waiter.isAlive()) {
                throw new AssertionError("register() still waiting");
            }
            System.out.println(DONE);
        }

        private static SSLEngine engine(SecretKey key) {
            return FernetPskProvider.sslContext(key).createSSLEngine("peer.example", 443);
        }
    }
}
