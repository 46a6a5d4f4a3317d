package dev.fernetjca.cli;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.FernetProvider;
import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.security.auth.DestroyFailedException;

/**
 * The sockets section of {@code fernet demo}: an echo server from {@link FernetServerSocketFactory} and a client from
 * {@link FernetSocketFactory}, both on 127.0.0.1 in this process, joined through a plain TCP relay that records the
 * bytes crossing it, so that the demo can show what an observer on the wire sees.
 *
 * <p>Stateless; each run makes its own key, sockets and threads, and ends them all.
 */
final class SocketDemo {
    /** How many wire bytes are shown; the ClientHello alone is longer. */
    static final int SHOWN_WIRE_BYTES = 64;

    /** Every wait in the demo ends within this, so that a broken network setup cannot hang the command. */
    private static final int TIMEOUT_MILLIS = 10_000;

    /** What the relay keeps of each direction; the demo's exchange is a few kilobytes. */
    private static final int RECORDED_BYTES = 1 << 20;

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private SocketDemo() {}

    /** Runs the exchange and prints it; returns false if the echo differs or the plaintext crossed the wire. */
    @SuppressFBWarnings(
            value = "UNENCRYPTED_SERVER_SOCKET",
            justification = "the demo's relay listens in plain TCP on purpose, on loopback: it shows what "
                    + "crosses the wire between the Fernet sockets")
    static boolean run(PrintWriter out) throws IOException, GeneralSecurityException, InterruptedException {
        SecretKey key = KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
        FernetServerSocketFactory servers;
        FernetSocketFactory clients;
        try {
            servers = new FernetServerSocketFactory(key);
            clients = new FernetSocketFactory(key);
        } finally {
            try {
                key.destroy(); // the factories keep only the PSKs derived from it
            } catch (DestroyFailedException e) {
                // the provider's keys can always be destroyed
            }
        }
        byte[] message = Demo.MESSAGE.getBytes(StandardCharsets.UTF_8);
        Recorder toServer = new Recorder();
        Recorder toClient = new Recorder();
        ExecutorService pool = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "fernet demo");
            thread.setDaemon(true); // never keeps the command alive
            return thread;
        });
        try (ServerSocket echoServer = servers.createServerSocket(0, 1, LOOPBACK);
                ServerSocket relay = new ServerSocket(0, 1, LOOPBACK)) {
            echoServer.setSoTimeout(TIMEOUT_MILLIS);
            relay.setSoTimeout(TIMEOUT_MILLIS);
            out.println("generated a new key (not shown)");
            out.println("echo server: FernetServerSocketFactory on " + address(echoServer));
            out.println("relay:       plain TCP on " + address(relay) + ", recording what crosses it");
            out.println("client:      FernetSocketFactory, connected to the relay");
            Future<?> echo = pool.submit(() -> echo(echoServer));
            Future<?> relaying = pool.submit(() -> relay(relay, echoServer.getLocalPort(), toServer, toClient, pool));

            byte[] received;
            try (Socket client = clients.createSocket(LOOPBACK, relay.getLocalPort())) {
                client.setSoTimeout(TIMEOUT_MILLIS);
                client.getOutputStream().write(message); // the TLS handshake runs here, on the first write
                client.shutdownOutput();
                received = client.getInputStream().readAllBytes();
            }
            await(echo);
            await(relaying);

            out.println("sent:        " + Demo.MESSAGE);
            byte[] wire = toServer.bytes();
            out.println("wire:        " + wire.length + " bytes to the server, " + toClient.size() + " back; the first "
                    + Math.min(SHOWN_WIRE_BYTES, wire.length) + " to the server:");
            HexFormat hex = HexFormat.ofDelimiter(" ");
            for (int from = 0; from < Math.min(SHOWN_WIRE_BYTES, wire.length); from += 16) {
                out.println("             " + hex.formatHex(wire, from, Math.min(from + 16, wire.length)));
            }
            out.println("             (a TLS ClientHello; the message follows it, encrypted)");
            String echoed = new String(received, StandardCharsets.UTF_8);
            out.println("received:    " + echoed);
            boolean leaked = contains(wire, message) || contains(toClient.bytes(), message);
            out.println("plaintext seen on the wire: " + (leaked ? "yes, which must never happen" : "no"));
            return !leaked && Arrays.equals(message, received);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Accepts one connection and sends back what it reads, until the client half-closes. */
    private static Void echo(ServerSocket server) throws IOException {
        try (Socket socket = server.accept()) {
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.getOutputStream().write(socket.getInputStream().readAllBytes());
            socket.shutdownOutput(); // close_notify: the client reads to the end
            return null;
        }
    }

    /** Accepts one connection and joins it to the echo server, copying and recording both directions. */
    @SuppressFBWarnings(
            value = "UNENCRYPTED_SOCKET",
            justification = "the demo's relay connects in plain TCP on purpose, on loopback, to show the "
                    + "bytes between the Fernet sockets")
    private static Void relay(
            ServerSocket relay, int serverPort, Recorder toServer, Recorder toClient, ExecutorService pool)
            throws Exception {
        try (Socket client = relay.accept();
                Socket server = new Socket(LOOPBACK, serverPort)) {
            client.setSoTimeout(TIMEOUT_MILLIS);
            server.setSoTimeout(TIMEOUT_MILLIS);
            Future<?> upstream = pool.submit(() -> pump(client, server, toServer));
            pump(server, client, toClient);
            await(upstream);
            return null;
        }
    }

    /** Copies {@code from} to {@code to}, recording, then passes the end of the stream on as a half-close. */
    private static Void pump(Socket from, Socket to, Recorder recorder) throws IOException {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) > 0; ) {
            recorder.record(buffer, n);
            out.write(buffer, 0, n);
        }
        to.shutdownOutput();
        return null;
    }

    private static void await(Future<?> task) throws IOException, InterruptedException {
        try {
            task.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException("demo task failed: " + cause, cause);
        } catch (TimeoutException e) {
            throw new IOException("demo did not finish within " + TIMEOUT_MILLIS + " ms", e);
        }
    }

    private static String address(ServerSocket socket) {
        return socket.getInetAddress().getHostAddress() + ":" + socket.getLocalPort();
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        for (int at = 0; at + needle.length <= haystack.length; at++) {
            if (Arrays.equals(haystack, at, at + needle.length, needle, 0, needle.length)) {
                return true;
            }
        }
        return false;
    }

    /** The bytes of one direction, up to {@link #RECORDED_BYTES}, and how many crossed in all. */
    private static final class Recorder {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private long total;

        synchronized void record(byte[] buffer, int length) {
            kept.write(buffer, 0, Math.min(length, RECORDED_BYTES - kept.size()));
            total += length;
        }

        synchronized byte[] bytes() {
            return kept.toByteArray();
        }

        synchronized long size() {
            return total;
        }
    }
}
