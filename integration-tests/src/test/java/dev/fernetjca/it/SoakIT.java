package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.testing.EchoServer;
import dev.fernetjca.testing.KeyFiles;
import dev.fernetjca.testing.Relay;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.net.SocketFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many concurrent connections with random message sizes and half-closes, through factory sockets and through a
 * tunnel pair (with a 5 s idle timeout, which ends what a stall left open), while relays on the encrypted link
 * reset, cut, stall or flip a byte of a fraction of them. Every
 * message a client accepts must be intact (SHA-256); every connection that met a fault must end with an exception,
 * never a clean end; every other one must be unaffected; and afterwards no thread, file descriptor or heap has leaked.
 *
 * <p>In {@code verify} it runs briefly; {@code ./mvnw -B verify -Psoak} (docs/testing.md) runs 200 connections for
 * 60 s: {@code fernet.soak.connections} and {@code fernet.soak.seconds} set both. Figures go to standard output.
 */
@Timeout(600)
class SoakIT {
    private static final int CONNECTIONS = Integer.getInteger("fernet.soak.connections", 16);
    private static final Duration DURATION = Duration.ofSeconds(Long.getLong("fernet.soak.seconds", 6));
    private static final long SEED = Long.getLong("fernet.soak.seed", System.nanoTime());
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int MAX_MESSAGE_BYTES = 32 * 1024;
    /** Faults strike within this many bytes of a connection; faulted connections send more than twice as much. */
    private static final int FAULT_WITHIN_BYTES = 24 * 1024;

    @TempDir
    Path dir;

    /** What the relay on a connection's path does to it. */
    enum Route {
        CLEAN,
        RESET,
        CUT,
        STALL,
        FLIP;

        boolean faulted() {
            return this != CLEAN;
        }
    }

    @Test
    void factorySocketsFailVisiblyUnderFaultsAndLeakNothing() throws Exception {
        SecretKey key = PythonPeerIT.secretKey(KeyFiles.newKey());
        soakFactorySockets(key, 2, Duration.ofSeconds(2)); // warm up: classes, the JIT, pools that live for good
        long pid = ProcessHandle.current().pid();
        Counts before = Counts.of(pid, SoakIT::usedHeapAfterGc);
        Tally tally = soakFactorySockets(key, CONNECTIONS, DURATION);
        Counts after = Counts.settle(pid, SoakIT::usedHeapAfterGc, before);
        report("factory sockets", tally, before, after);
        tally.assertHeld();
        before.assertNoLeak(after);
    }

    /** A Fernet echo server behind the relays, Fernet clients in front; everything closed on return. */
    private static Tally soakFactorySockets(SecretKey key, int connections, Duration duration) throws Exception {
        try (EchoServer echo = new EchoServer(new FernetServerSocketFactory(key)::createServerSocket)) {
            Map<Route, Relay> relays = relays(echo.port());
            try {
                return run(relays, new FernetSocketFactory(key), connections, duration);
            } finally {
                closeAll(relays);
            }
        }
    }

    @Test
    void tunnelPairFailsVisiblyUnderFaultsAndLeaksNothing() throws Exception {
        Path keyFile = KeyFiles.write(dir.resolve("fernet.key"), KeyFiles.newKey());
        try (EchoServer echo = EchoServer.plain(EchoServer.ECHO);
                TunnelProcess decrypt = TunnelProcess.start(
                        "--listen",
                        "127.0.0.1:0",
                        "--connect",
                        echo.address(),
                        "--decrypt",
                        "--idle-timeout",
                        "5",
                        "--max-connections",
                        "1000",
                        "--max-pending",
                        "1000",
                        "--max-pending-per-address",
                        "1000",
                        "--key-file",
                        keyFile.toString())) {
            Map<Route, Relay> relays = relays(decrypt.port());
            Map<Route, TunnelProcess> encrypts = new EnumMap<>(Route.class);
            try {
                for (Route route : Route.values()) {
                    encrypts.put(
                            route,
                            TunnelProcess.start(
                                    "--listen",
                                    "127.0.0.1:0",
                                    "--connect",
                                    "127.0.0.1:" + relays.get(route).port(),
                                    "--encrypt",
                                    "--idle-timeout",
                                    "5",
                                    "--max-connections",
                                    "1000",
                                    "--key-file",
                                    keyFile.toString()));
                }
                Map<Route, Integer> entries = new EnumMap<>(Route.class);
                encrypts.forEach((route, tunnel) -> entries.put(route, tunnel.port()));
                SocketFactory plain = SocketFactory.getDefault();
                runTo(entries, plain, 2, Duration.ofSeconds(2));
                List<TunnelProcess> all = new ArrayList<>(encrypts.values());
                all.add(decrypt);
                List<Counts> before = new ArrayList<>();
                for (TunnelProcess tunnel : all) {
                    before.add(Counts.of(tunnel.pid(), () -> jvmHeapAfterGc(tunnel.pid())));
                }
                Tally tally = runTo(entries, plain, CONNECTIONS, DURATION);
                for (int i = 0; i < all.size(); i++) {
                    TunnelProcess tunnel = all.get(i);
                    Counts after = Counts.settle(tunnel.pid(), () -> jvmHeapAfterGc(tunnel.pid()), before.get(i));
                    report("tunnel process " + (i + 1) + " of " + all.size(), tally, before.get(i), after);
                    before.get(i).assertNoLeak(after);
                }
                report("tunnel pair", tally, null, null);
                tally.assertHeld();
            } finally {
                for (TunnelProcess tunnel : encrypts.values()) {
                    tunnel.close();
                }
                closeAll(relays);
            }
        }
    }

    /** One relay per route, each injecting its fault towards the server at a random offset of every connection. */
    private static Map<Route, Relay> relays(int targetPort) throws IOException {
        SplittableRandom random = new SplittableRandom(SEED);
        Map<Route, Relay> relays = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            Relay relay = Relay.forwardingOnly(targetPort);
            long offset = 2_000 + random.nextInt(FAULT_WITHIN_BYTES - 2_000);
            switch (route) {
                case RESET -> relay.inject(Relay.Fault.RESET, Relay.Direction.TO_SERVER, offset);
                case CUT -> relay.inject(Relay.Fault.CUT, Relay.Direction.TO_SERVER, offset);
                case STALL -> relay.inject(Relay.Fault.STALL, Relay.Direction.TO_SERVER, offset);
                case FLIP -> relay.flipByteAt(Relay.Direction.TO_SERVER, offset);
                case CLEAN -> {}
            }
            relays.put(route, relay);
        }
        return relays;
    }

    private static Tally run(Map<Route, Relay> relays, SocketFactory clients, int connections, Duration duration)
            throws Exception {
        Map<Route, Integer> ports = new EnumMap<>(Route.class);
        relays.forEach((route, relay) -> ports.put(route, relay.port()));
        return runTo(ports, clients, connections, duration);
    }

    /** Runs {@code connections} workers for {@code duration}, each opening one connection after another. */
    private static Tally runTo(Map<Route, Integer> ports, SocketFactory clients, int connections, Duration duration)
            throws Exception {
        Tally tally = new Tally();
        long deadline = System.nanoTime() + duration.toNanos();
        ExecutorService workers = Executors.newFixedThreadPool(connections);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < connections; w++) {
                SplittableRandom random = new SplittableRandom(SEED + 31L * w);
                running.add(workers.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        Route route = pick(random);
                        tally.record(route, oneConnection(clients, ports.get(route), route, random, tally));
                    }
                    return null;
                }));
            }
            for (Future<?> worker : running) {
                worker.get(duration.toMillis() + 120_000, TimeUnit.MILLISECONDS);
            }
        } finally {
            workers.shutdownNow();
            workers.awaitTermination(30, TimeUnit.SECONDS);
        }
        return tally;
    }

    /** 70% clean, the rest spread over the faults. */
    private static Route pick(SplittableRandom random) {
        int roll = random.nextInt(100);
        return roll < 70 ? Route.CLEAN : Route.values()[1 + roll % (Route.values().length - 1)];
    }

    /** How one connection ended, as its client saw it. */
    enum Outcome {
        CLEAN_END,
        FAILED,
        CORRUPT
    }

    /**
     * Sends messages of random sizes and reads each echo back, then half-closes and expects the echo server's clean
     * end. Faulted connections send enough to be sure to cross their fault's offset.
     */
    private static Outcome oneConnection(
            SocketFactory clients, int port, Route route, SplittableRandom random, Tally tally) {
        try (Socket socket = clients.createSocket(LOOPBACK, port)) {
            socket.setSoTimeout(route == Route.STALL ? 3_000 : 30_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            long toSend = route.faulted() ? 3L * FAULT_WITHIN_BYTES : random.nextInt(1, 4 * MAX_MESSAGE_BYTES);
            boolean slowReader = random.nextInt(10) == 0;
            for (long sent = 0; sent < toSend; ) {
                byte[] message = new byte[random.nextInt(1, MAX_MESSAGE_BYTES + 1)];
                random.nextBytes(message);
                out.write(message);
                out.flush();
                byte[] echoed = new byte[message.length];
                for (int got = 0; got < echoed.length; ) {
                    int n = in.read(echoed, got, slowReader ? Math.min(512, echoed.length - got) : echoed.length - got);
                    if (n < 0) {
                        return Outcome.CLEAN_END; // the stream ended before the whole answer: a truncation
                    }
                    got += n;
                    if (slowReader) {
                        Thread.sleep(1);
                    }
                }
                if (!MessageDigest.isEqual(sha256(message), sha256(echoed))) {
                    return Outcome.CORRUPT;
                }
                tally.messages.incrementAndGet();
                tally.bytes.addAndGet(message.length);
                sent += message.length;
            }
            socket.shutdownOutput();
            return in.read() < 0 ? Outcome.CLEAN_END : Outcome.CORRUPT;
        } catch (IOException e) {
            return Outcome.FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.FAILED;
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Outcomes per route, and what crossed intact. */
    static final class Tally {
        private final Map<Route, Map<Outcome, AtomicLong>> outcomes = new EnumMap<>(Route.class);
        final AtomicLong messages = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();

        Tally() {
            for (Route route : Route.values()) {
                Map<Outcome, AtomicLong> counts = new EnumMap<>(Outcome.class);
                for (Outcome outcome : Outcome.values()) {
                    counts.put(outcome, new AtomicLong());
                }
                outcomes.put(route, counts);
            }
        }

        void record(Route route, Outcome outcome) {
            outcomes.get(route).get(outcome).incrementAndGet();
        }

        long count(Route route, Outcome outcome) {
            return outcomes.get(route).get(outcome).get();
        }

        long connections() {
            return outcomes.values().stream()
                    .flatMap(m -> m.values().stream())
                    .mapToLong(AtomicLong::get)
                    .sum();
        }

        void assertHeld() {
            for (Route route : Route.values()) {
                assertEquals(0, count(route, Outcome.CORRUPT), route + ": a client accepted altered data; " + this);
                if (route.faulted()) {
                    assertEquals(0, count(route, Outcome.CLEAN_END), route + ": a fault ended cleanly; " + this);
                    assertTrue(count(route, Outcome.FAILED) > 0, route + ": no connection met this fault; " + this);
                } else {
                    assertEquals(0, count(route, Outcome.FAILED), "a connection without a fault failed; " + this);
                }
            }
        }

        @Override
        public String toString() {
            StringBuilder text = new StringBuilder();
            for (Route route : Route.values()) {
                text.append(route).append(' ').append(outcomes.get(route)).append("; ");
            }
            return text.append(messages.get())
                    .append(" messages, ")
                    .append(bytes.get())
                    .append(" bytes intact, seed ")
                    .append(SEED)
                    .toString();
        }
    }

    /** Threads, open file descriptors and used heap (after a full GC) of one process. */
    record Counts(long threads, long descriptors, long heapBytes) {
        private static final long HEAP_SLACK_BYTES = 16L << 20;
        private static final long SLACK = 4;

        static Counts of(long pid, LongSupplier heap) throws IOException {
            return new Counts(
                    count(Path.of("/proc", Long.toString(pid), "task")),
                    count(Path.of("/proc", Long.toString(pid), "fd")),
                    heap.getAsLong());
        }

        /** Waits up to 20 s for the counts to come back near {@code baseline}, and returns the last ones. */
        static Counts settle(long pid, LongSupplier heap, Counts baseline) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            Counts now = of(pid, heap);
            while (!baseline.near(now) && System.nanoTime() < deadline) {
                Thread.sleep(500);
                now = of(pid, heap);
            }
            return now;
        }

        boolean near(Counts later) {
            return later.threads <= threads + SLACK
                    && later.descriptors <= descriptors + SLACK
                    && later.heapBytes <= heapBytes + HEAP_SLACK_BYTES;
        }

        void assertNoLeak(Counts later) {
            assertTrue(near(later), "leaked: before " + this + ", after " + later);
        }

        private static long count(Path dir) throws IOException {
            try (var entries = Files.list(dir)) {
                return entries.count();
            }
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static final Pattern TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");

    /**
     * Another JVM's live heap: the bytes of every object after the full GC that the JDK's own {@code jcmd
     * GC.class_histogram} makes first, whatever the collector.
     */
    private static long jvmHeapAfterGc(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Matcher total = TOTAL.matcher(run(jcmd.toString(), Long.toString(pid), "GC.class_histogram"));
            if (!total.find()) {
                throw new AssertionError("jcmd GC.class_histogram printed no total");
            }
            return Long.parseLong(total.group(1));
        } catch (IOException e) {
            throw new AssertionError("jcmd failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("jcmd " + command[2] + " failed: " + output);
        }
        return output;
    }

    private static void closeAll(Map<Route, Relay> relays) throws IOException {
        for (Relay relay : relays.values()) {
            relay.close();
        }
    }

    private static void report(String what, Tally tally, Counts before, Counts after) {
        System.out.println("soak " + what + ": " + CONNECTIONS + " concurrent connections for " + DURATION.toSeconds()
                + " s: " + tally
                + (before == null
                        ? ""
                        : "; threads " + before.threads() + " -> " + after.threads()
                                + ", fds " + before.descriptors() + " -> " + after.descriptors() + ", heap "
                                + (before.heapBytes() >> 10) + " KiB -> " + (after.heapBytes() >> 10) + " KiB"));
    }
}
