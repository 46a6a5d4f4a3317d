package dev.fernetjca.benchmarks;

import dev.fernetjca.net.FernetRMIClientSocketFactory;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.RMIClientSocketFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import javax.rmi.ssl.SslRMIClientSocketFactory;

/**
 * The client JVM of {@link Compare}: runs the named measures against a {@link BenchServer} (directly, or through a
 * tunnel pair with plain sockets) or an {@link EngineServer} and prints one line per measure on standard output:
 *
 * <pre>
 * stream MB_PER_S          one stream, 64 KiB writes, after a warm-up stream of a quarter of the size
 * duplex MB_PER_S          both directions at once, the bytes of both counted
 * connect PER_S            sequential connections: connect, handshake, one byte each way, close
 * rtt P50_US P99_US        32-byte writes echoed back, one at a time
 * open                     (idle) N connections are open and acknowledged; waits for a line on standard input
 * rmi FIRST_MS P50_US P99_US FIRST_CPU_MS   registry lookup and first echo(int) call, then warm calls; with
 *                                           -Dbench.threadCpu=true the calling thread's CPU time in the first call
 * </pre>
 *
 * <p>{@code java ... BenchClient KIND PORT BYTES CONNECTIONS TRIPS IDLE MEASURE...}. Runs as a process of its own.
 */
public final class BenchClient {
    private static final int ROUND_TRIP_BYTES = 32;

    private BenchClient() {}

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        int port = Integer.parseInt(args[1]);
        long bytes = Long.parseLong(args[2]);
        int connections = Integer.parseInt(args[3]);
        int trips = Integer.parseInt(args[4]);
        int idle = Integer.parseInt(args[5]);
        for (String measure : Arrays.asList(args).subList(6, args.length)) {
            String line = switch (measure) {
                case "stream" -> {
                    stream(kind, port, bytes / 4);
                    yield format("stream %.1f", stream(kind, port, bytes));
                }
                case "duplex" -> {
                    duplex(kind, port, bytes / 4);
                    yield format("duplex %.1f", duplex(kind, port, bytes));
                }
                case "connect" -> {
                    connect(kind, port, Math.max(1, connections / 5));
                    yield format("connect %.1f", connect(kind, port, connections));
                }
                case "rtt" -> {
                    long[] nanos = roundTrips(kind, port, trips);
                    yield format("rtt %.1f %.1f", percentile(nanos, 50) / 1e3, percentile(nanos, 99) / 1e3);
                }
                case "idle" -> holdIdle(kind, port, idle);
                case "rmi" -> rmi(kind, port, trips);
                default -> throw new IllegalArgumentException("unknown measure: " + measure);
            };
            System.out.println(line);
            System.out.flush();
        }
        System.exit(0);
    }

    private static String format(String pattern, Object... values) {
        return String.format(Locale.ROOT, pattern, values);
    }

    private static double stream(String kind, int port, long bytes) throws IOException {
        try (Socket socket = Sockets.connect(kind, port)) {
            InputStream in = socket.getInputStream();
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.write('S');
            out.writeLong(bytes);
            out.flush();
            expect(in);
            long start = System.nanoTime();
            BenchServer.fill(out, bytes);
            expect(in);
            double seconds = (System.nanoTime() - start) / 1e9;
            Sockets.close(kind, socket);
            return bytes / 1e6 / seconds;
        }
    }

    private static double duplex(String kind, int port, long bytes) throws Exception {
        try (Socket socket = Sockets.connect(kind, port)) {
            InputStream in = socket.getInputStream();
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.write('D');
            out.writeLong(bytes);
            out.flush();
            expect(in);
            AtomicReference<IOException> failure = new AtomicReference<>();
            long start = System.nanoTime();
            Thread writer = new Thread(
                    () -> {
                        try {
                            BenchServer.fill(out, bytes);
                        } catch (IOException e) {
                            failure.set(e);
                        }
                    },
                    "writer");
            writer.start();
            long read = BenchServer.drain(in, bytes);
            writer.join();
            double seconds = (System.nanoTime() - start) / 1e9;
            if (failure.get() != null) {
                throw failure.get();
            }
            if (read != bytes) {
                throw new IOException("duplex: stream ended after " + read + " bytes");
            }
            Sockets.close(kind, socket);
            return 2 * bytes / 1e6 / seconds;
        }
    }

    private static double connect(String kind, int port, int count) throws IOException {
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Socket socket = Sockets.connect(kind, port);
            try {
                socket.getOutputStream().write('C');
                socket.getOutputStream().flush();
                expect(socket.getInputStream());
            } finally {
                Sockets.close(kind, socket);
            }
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    private static long[] roundTrips(String kind, int port, int trips) throws IOException {
        try (Socket socket = Sockets.connect(kind, port)) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            out.write('E');
            byte[] message = new byte[ROUND_TRIP_BYTES];
            int warmUp = Math.max(100, trips / 2);
            long[] nanos = new long[trips];
            for (int i = -warmUp; i < trips; i++) {
                long start = System.nanoTime();
                out.write(message);
                out.flush();
                if (in.readNBytes(message, 0, message.length) != message.length) {
                    throw new IOException("round trip: the echo ended early");
                }
                if (i >= 0) {
                    nanos[i] = System.nanoTime() - start;
                }
            }
            Sockets.close(kind, socket);
            return nanos;
        }
    }

    private static String holdIdle(String kind, int port, int count) throws IOException {
        List<Socket> open = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                Socket socket = Sockets.connect(kind, port);
                open.add(socket);
                socket.getOutputStream().write('H');
                socket.getOutputStream().flush();
                expect(socket.getInputStream());
            }
            System.out.println("open");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        } finally {
            for (Socket socket : open) {
                socket.close();
            }
        }
        return "idle " + count;
    }

    private static String rmi(String kind, int port, int calls) throws Exception {
        RMIClientSocketFactory clients = switch (kind) {
            case "rmi-ssl" -> new SslRMIClientSocketFactory();
            case "rmi-fernet" -> new FernetRMIClientSocketFactory();
            default -> null;
        };
        // the JDK's management classes only when asked: loading them first would take part of the platform MBean
        // server's start (which our sockets register with) out of the measured time
        ThreadMXBean threads = Boolean.getBoolean("bench.threadCpu") ? ManagementFactory.getThreadMXBean() : null;
        long cpuStart = threads == null ? 0 : threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        Registry registry = clients == null
                ? LocateRegistry.getRegistry("127.0.0.1", port)
                : LocateRegistry.getRegistry("127.0.0.1", port, clients);
        BenchServer.Echo echo = (BenchServer.Echo) registry.lookup("echo");
        if (echo.echo(1) != 1) {
            throw new IllegalStateException("echo returned another value");
        }
        double firstMillis = (System.nanoTime() - start) / 1e6;
        double firstCpuMillis = threads == null ? Double.NaN : (threads.getCurrentThreadCpuTime() - cpuStart) / 1e6;
        int warmUp = Math.max(100, calls / 2);
        long[] nanos = new long[calls];
        for (int i = -warmUp; i < calls; i++) {
            long callStart = System.nanoTime();
            if (echo.echo(i) != i) {
                throw new IllegalStateException("echo returned another value");
            }
            if (i >= 0) {
                nanos[i] = System.nanoTime() - callStart;
            }
        }
        return format(
                "rmi %.1f %.1f %.1f %.1f",
                firstMillis, percentile(nanos, 50) / 1e3, percentile(nanos, 99) / 1e3, firstCpuMillis);
    }

    private static void expect(InputStream in) throws IOException {
        if (in.read() < 0) {
            throw new IOException("the server closed the connection early");
        }
    }

    private static double percentile(long[] values, int percent) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(percent / 100.0 * sorted.length) - 1)];
    }
}
