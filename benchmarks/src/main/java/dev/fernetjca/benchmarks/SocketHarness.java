package dev.fernetjca.benchmarks;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;

/**
 * Loopback socket measurements, side by side in one run: plain TCP, the TLS mode and the fernet-tokens mode of the
 * factories. Client and server share this JVM (and its cores), as in the tests. Not JMH: each figure is the best of
 * {@code rounds} timed rounds after one warm-up round.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.fernetjca.benchmarks.SocketHarness [rounds] [MiB] [connections]</pre>
 */
public final class SocketHarness {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private SocketHarness() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int mebibytes = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int connections = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        SecretKey key = KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
        System.out.printf(Locale.ROOT, "%-14s %14s %18s%n", "sockets", "connections/s", "MB/s one stream");
        double plainRate = 0;
        for (String mode : new String[] {"plain", "tls", "fernet-tokens"}) {
            FernetSocketOptions options =
                    mode.equals("tls") ? FernetSocketOptions.tls() : FernetSocketOptions.fernetTokens(null);
            ServerSocketFactory servers = mode.equals("plain")
                    ? ServerSocketFactory.getDefault()
                    : new FernetServerSocketFactory(key, options);
            SocketFactory clients =
                    mode.equals("plain") ? SocketFactory.getDefault() : new FernetSocketFactory(key, options);
            double connectRate = 0;
            double streamRate = 0;
            try (ServerSocket server = servers.createServerSocket(0, 200, LOOPBACK)) {
                ExecutorService pool = Executors.newCachedThreadPool();
                pool.submit(() -> drainLoop(server, pool));
                for (int round = 0; round <= rounds; round++) {
                    double connectsPerSecond = connections(clients, server.getLocalPort(), connections);
                    double megabytesPerSecond = stream(clients, server.getLocalPort(), (long) mebibytes << 20);
                    if (round > 0) {
                        connectRate = Math.max(connectRate, connectsPerSecond);
                        streamRate = Math.max(streamRate, megabytesPerSecond);
                    }
                }
                pool.shutdownNow();
            }
            if (mode.equals("plain")) {
                plainRate = streamRate;
            }
            System.out.printf(
                    Locale.ROOT,
                    "%-14s %14.0f %13.0f (%.2fx plain)%n",
                    mode,
                    connectRate,
                    streamRate,
                    streamRate / plainRate);
        }
        System.exit(0);
    }

    /** Opens {@code count} connections one after another, each sending one byte and reading the answer. */
    private static double connections(SocketFactory clients, int port, int count) throws IOException {
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            try (Socket socket = clients.createSocket(LOOPBACK, port)) {
                socket.getOutputStream().write(1);
                socket.shutdownOutput();
                socket.getInputStream().readAllBytes();
            }
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    /** Sends {@code bytes} over one connection in 64 KiB writes; the server reads all, then answers one byte. */
    private static double stream(SocketFactory clients, int port, long bytes) throws IOException {
        byte[] chunk = new byte[65_536];
        long start = System.nanoTime();
        try (Socket socket = clients.createSocket(LOOPBACK, port)) {
            OutputStream out = socket.getOutputStream();
            for (long written = 0; written < bytes; written += chunk.length) {
                out.write(chunk);
            }
            socket.shutdownOutput();
            socket.getInputStream().readAllBytes();
        }
        return bytes / 1e6 / ((System.nanoTime() - start) / 1e9);
    }

    private static Void drainLoop(ServerSocket server, ExecutorService pool) {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                pool.submit(() -> {
                    try (socket) {
                        InputStream in = socket.getInputStream();
                        byte[] buffer = new byte[65_536];
                        while (in.read(buffer) >= 0) {
                            // counted by the client's clock
                        }
                        socket.getOutputStream().write(1);
                        socket.shutdownOutput();
                    }
                    return null;
                });
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }
}
