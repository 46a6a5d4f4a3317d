package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.JMException;
import javax.management.MBeanInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.ObjectName;
import javax.management.ReflectionException;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenMBeanAttributeInfoSupport;
import javax.management.openmbean.OpenMBeanConstructorInfoSupport;
import javax.management.openmbean.OpenMBeanInfoSupport;
import javax.management.openmbean.OpenMBeanOperationInfoSupport;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularData;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;

/**
 * Counts what the sockets and {@code FernetPSK} engines ({@link PskEngine}) of this JVM did, for operators: connections
 * opened and open, handshakes that succeeded and
 * failed (by {@link TlsFailures#reason reason}), application bytes in and out, connections per PSK identity (public,
 * docs/protocol.md: during a rotation it tells when no peer uses the old key any more) and key reloads. The figures
 * are read through the platform MBean server as {@value #OBJECT_NAME}, registered on the first server socket, or on a
 * thread of its own from the first socket or {@code FernetPSK} context (docs/configuration.md); {@code fernet tunnel
 * --metrics} serves the same
 * figures to Prometheus.
 *
 * <p>Counting costs a {@link LongAdder} increment; nothing here sees a key, a secret or application data.
 *
 * <p>Thread-safe; all state is JVM-wide.
 */
final class Metrics {
    static final String OBJECT_NAME = "dev.fernetjca:type=Sockets";

    private static final System.Logger LOG = System.getLogger(Metrics.class.getName());
    private static final LongAdder OPENED = new LongAdder();
    private static final LongAdder CLOSED = new LongAdder();
    private static final LongAdder HANDSHAKES = new LongAdder();
    private static final LongAdder BYTES_IN = new LongAdder();
    private static final LongAdder BYTES_OUT = new LongAdder();
    private static final LongAdder KEYS_RELOADED = new LongAdder();
    private static final Map<String, LongAdder> FAILURES = new ConcurrentHashMap<>();
    /** Keyed by our own identities only, which the keys held bound; a peer's identity never becomes a key here. */
    private static final Map<String, LongAdder> BY_IDENTITY = new ConcurrentHashMap<>();

    private static final AtomicBoolean REGISTERED = new AtomicBoolean();
    private static final CountDownLatch REGISTRATION = new CountDownLatch(1);

    static {
        for (String reason : TlsFailures.REASONS) {
            FAILURES.put(reason, new LongAdder());
        }
    }

    private Metrics() {}

    /**
     * Counts a socket that got its connection, or an engine that began its handshake; {@code counted} makes
     * {@link #closed} count it once.
     */
    static void opened(AtomicBoolean counted) {
        if (counted.compareAndSet(false, true)) {
            registerSoon();
            OPENED.increment();
        }
    }

    /** Counts the close of a connection {@link #opened} counted; later calls for it count nothing. */
    static void closed(AtomicBoolean counted) {
        if (counted.compareAndSet(true, false)) {
            CLOSED.increment();
        }
    }

    /** Counts a completed handshake, by the identity of the key that matched ({@code index} in {@code held}). */
    static void handshakeSucceeded(List<String> held, int index) {
        HANDSHAKES.increment();
        if (index >= 0 && index < held.size()) {
            BY_IDENTITY
                    .computeIfAbsent(held.get(index), identity -> new LongAdder())
                    .increment();
        }
    }

    /** Counts a connection's first failure as a handshake failure, by reason, if the handshake was not done. */
    static void failed(boolean handshakeDone, IOException translated) {
        if (!handshakeDone) {
            FAILURES.get(TlsFailures.reason(translated)).increment();
        }
    }

    /** Counts {@code n} application bytes read, and returns {@code n}; -1 counts nothing. */
    static int received(int n) {
        if (n > 0) {
            BYTES_IN.add(n);
        }
        return n;
    }

    /** Counts {@code n} application bytes written. */
    static void sent(int n) {
        BYTES_OUT.add(n);
    }

    /** Counts a reload of configured keys that took effect (a changed key file read successfully). */
    static void keysReloaded() {
        KEYS_RELOADED.increment();
    }

    /**
     * Registers the MBean once per JVM, and returns once it is registered; where the platform MBean server is out of
     * reach, sockets work uncounted.
     */
    static void register() {
        if (REGISTERED.compareAndSet(false, true)) {
            registerNow();
            return;
        }
        try {
            REGISTRATION.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the figures are still counted; only this wait is cut short
        }
    }

    /**
     * Registers the MBean once per JVM on a thread of its own: starting the platform MBean server loads some 200 JDK
     * classes, which a client's first connection (an RMI client's first call) should not wait for. Where no thread can
     * be had (a security manager's refusal, no native thread left), the MBean goes unregistered, and the connection on.
     */
    static void registerSoon() {
        if (REGISTERED.compareAndSet(false, true)) {
            try {
                Thread registrar = new Thread(new Registration(), "fernet-metrics-registration");
                registrar.setDaemon(true);
                registrar.start();
            } catch (RuntimeException | OutOfMemoryError e) {
                // figures are no reason to fail a connection, nor to make register() wait forever
                LOG.log(System.Logger.Level.WARNING, "socket metrics not registered as " + OBJECT_NAME + ": " + e);
                REGISTRATION.countDown();
            }
        }
    }

    /** {@link #registerNow()}: a class, since linking a method reference costs a cold JVM's first connection. */
    private static final class Registration implements Runnable {
        @Override
        public void run() {
            registerNow();
        }
    }

    private static void registerNow() {
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(new Bean(), new ObjectName(OBJECT_NAME));
        } catch (JMException | RuntimeException e) {
            // e.g. another class loader of this library registered first: its figures are the ones shown
            LOG.log(System.Logger.Level.DEBUG, "socket metrics not registered as " + OBJECT_NAME + ": " + e);
        } finally {
            REGISTRATION.countDown();
        }
    }

    /** The figures as the MBean shows them; a sorted map for tabular attributes. */
    private static Object attribute(String name) throws AttributeNotFoundException {
        return switch (name) {
            case "ConnectionsOpened" -> OPENED.sum();
            case "ConnectionsActive" -> Math.max(0, OPENED.sum() - CLOSED.sum());
            case "HandshakesSucceeded" -> HANDSHAKES.sum();
            case "HandshakeFailures" -> Bean.table(Bean.FAILURES_TYPE, FAILURES);
            case "BytesIn" -> BYTES_IN.sum();
            case "BytesOut" -> BYTES_OUT.sum();
            case "KeyConnections" -> Bean.table(Bean.IDENTITIES_TYPE, BY_IDENTITY);
            case "KeysReloaded" -> KEYS_RELOADED.sum();
            default -> throw new AttributeNotFoundException(name);
        };
    }

    /** The read-only open MBean, so that jconsole and any JMX client read it without our classes. */
    private static final class Bean implements DynamicMBean {
        static final TabularType FAILURES_TYPE = tableType(
                "HandshakeFailures",
                "reason",
                "handshakes that failed, by reason: " + String.join(", ", TlsFailures.REASONS));
        static final TabularType IDENTITIES_TYPE = tableType(
                "KeyConnections",
                "identity",
                "completed handshakes by the PSK identity of the key that matched (public, docs/protocol.md)");
        private static final MBeanInfo INFO = new OpenMBeanInfoSupport(
                Bean.class.getName(),
                "fernet-jca sockets and engines of this JVM",
                new OpenMBeanAttributeInfoSupport[] {
                    counter("ConnectionsOpened", "sockets that got a connection, engines that began a handshake"),
                    counter("ConnectionsActive", "of those, not yet closed"),
                    counter("HandshakesSucceeded", "TLS handshakes completed"),
                    new OpenMBeanAttributeInfoSupport(
                            "HandshakeFailures", FAILURES_TYPE.getDescription(), FAILURES_TYPE, true, false, false),
                    counter("BytesIn", "application bytes read"),
                    counter("BytesOut", "application bytes written"),
                    new OpenMBeanAttributeInfoSupport(
                            "KeyConnections", IDENTITIES_TYPE.getDescription(), IDENTITIES_TYPE, true, false, false),
                    counter("KeysReloaded", "reloads of configured keys that took effect")
                },
                new OpenMBeanConstructorInfoSupport[0],
                new OpenMBeanOperationInfoSupport[0],
                new MBeanNotificationInfo[0]);

        private static OpenMBeanAttributeInfoSupport counter(String name, String description) {
            return new OpenMBeanAttributeInfoSupport(name, description, SimpleType.LONG, true, false, false);
        }

        private static TabularType tableType(String name, String keyName, String description) {
            try {
                CompositeType row = new CompositeType(
                        name + "Row",
                        description,
                        new String[] {keyName, "count"},
                        new String[] {keyName, "how many"},
                        new OpenType<?>[] {SimpleType.STRING, SimpleType.LONG});
                return new TabularType(name, description, row, new String[] {keyName});
            } catch (OpenDataException e) {
                throw new IllegalStateException("bad metrics type " + name, e);
            }
        }

        static TabularData table(TabularType type, Map<String, LongAdder> counts) {
            TabularDataSupport table = new TabularDataSupport(type);
            String keyName = type.getIndexNames().get(0);
            for (Map.Entry<String, LongAdder> entry : new TreeMap<>(counts).entrySet()) {
                try {
                    table.put(new CompositeDataSupport(
                            type.getRowType(),
                            Map.of(
                                    keyName,
                                    entry.getKey(),
                                    "count",
                                    entry.getValue().sum())));
                } catch (OpenDataException e) {
                    throw new IllegalStateException("bad metrics row", e);
                }
            }
            return table;
        }

        @Override
        public Object getAttribute(String attribute) throws AttributeNotFoundException {
            return Metrics.attribute(attribute);
        }

        @Override
        public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
            throw new AttributeNotFoundException("read-only: " + attribute.getName());
        }

        @Override
        public AttributeList getAttributes(String[] attributes) {
            AttributeList list = new AttributeList();
            for (String name : attributes) {
                try {
                    list.add(new Attribute(name, Metrics.attribute(name)));
                } catch (AttributeNotFoundException e) {
                    // as the contract says: unknown names are left out
                }
            }
            return list;
        }

        @Override
        public AttributeList setAttributes(AttributeList attributes) {
            return new AttributeList();
        }

        @Override
        public Object invoke(String actionName, Object[] params, String[] signature) throws ReflectionException {
            throw new ReflectionException(new NoSuchMethodException(actionName));
        }

        @Override
        @SuppressFBWarnings(value = "EI_EXPOSE_REP", justification = "MBeanInfo is immutable")
        public MBeanInfo getMBeanInfo() {
            return INFO;
        }
    }
}
