package dev.fernetjca.benchmarks;

import dev.fernetjca.net.FernetRMIClientSocketFactory;
import dev.fernetjca.net.FernetRMIServerSocketFactory;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.rmi.Remote;
import java.rmi.RemoteException;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.RMIClientSocketFactory;
import java.rmi.server.RMIServerSocketFactory;
import java.rmi.server.UnicastRemoteObject;
import javax.rmi.ssl.SslRMIClientSocketFactory;
import javax.rmi.ssl.SslRMIServerSocketFactory;

/**
 * The server JVM of {@link Compare}: listens with the sockets of one contender, prints {@code port N} on standard
 * output, then serves each connection by its first byte, one thread per connection, as a blocking server would:
 *
 * <ul>
 *   <li>{@code S} + 8-byte length: acknowledges with one byte, reads that many bytes, answers one byte (one stream);
 *   <li>{@code D} + 8-byte length: acknowledges, then reads and writes that many bytes at once (both directions);
 *   <li>{@code C}: answers one byte and closes (sequential connections);
 *   <li>{@code E}: echoes what it reads until the end of the stream (round trips);
 *   <li>{@code H}: acknowledges, then holds the connection until the client closes it (idle connections).
 * </ul>
 *
 * <p>Standard input takes control lines: {@code heap} prints {@code heap BYTES}, the heap in use after a full GC. The
 * end of standard input ends the process. With {@code rmi-plain}, {@code rmi-ssl} or {@code rmi-fernet} it instead
 * runs an RMI registry with one {@link Echo} bound as {@code echo}.
 *
 * <p>Runs as a process of its own; not for use as a library.
 */
public final class BenchServer {
    private static final int CHUNK_BYTES = 65_536;

    private BenchServer() {}

    /** The remote interface of the RMI measure. */
    public interface Echo extends Remote {
        /** Returns {@code value}. */
        int echo(int value) throws RemoteException;
    }

    /** Answers {@link Echo#echo} with its argument. */
    private static final class EchoImpl implements Echo {
        @Override
        public int echo(int value) {
            return value;
        }
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        if (kind.startsWith("rmi-")) {
            serveRmi(kind);
        } else {
            ServerSocket server = Sockets.listen(kind);
            Thread acceptor = new Thread(() -> acceptLoop(server), "accept");
            acceptor.setDaemon(true);
            acceptor.start();
            System.out.println("port " + server.getLocalPort());
            System.out.flush();
        }
        control();
        System.exit(0);
    }

    private static void serveRmi(String kind) throws Exception {
        RMIClientSocketFactory clients = null;
        RMIServerSocketFactory servers = null;
        if (kind.equals("rmi-ssl")) {
            clients = new SslRMIClientSocketFactory();
            servers = new SslRMIServerSocketFactory(
                    null, new String[] {Sockets.AES_128_GCM}, new String[] {Sockets.TLS13}, false);
        } else if (kind.equals("rmi-fernet")) {
            clients = new FernetRMIClientSocketFactory();
            servers = new FernetRMIServerSocketFactory();
        }
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Registry registry = clients == null
                ? LocateRegistry.createRegistry(port)
                : LocateRegistry.createRegistry(port, clients, servers);
        Echo echo = new EchoImpl();
        Remote stub = clients == null
                ? UnicastRemoteObject.exportObject(echo, 0)
                : UnicastRemoteObject.exportObject(echo, 0, clients, servers);
        registry.rebind("echo", stub);
        System.out.println("port " + port);
        System.out.flush();
    }

    private static void control() throws IOException {
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = commands.readLine(); line != null; line = commands.readLine()) {
            if (line.equals("heap")) {
                System.out.println("heap " + heapAfterGc());
                System.out.flush();
            }
        }
    }

    static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void acceptLoop(ServerSocket server) {
        while (true) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread handler = new Thread(null, () -> serve(socket), "connection", 256 * 1024);
            handler.setDaemon(true);
            handler.start();
        }
    }

    private static void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            int command = in.read();
            switch (command) {
                case 'S' -> {
                    long bytes = in.readLong();
                    answer(out);
                    drain(in, bytes);
                    answer(out);
                }
                case 'D' -> {
                    long bytes = in.readLong();
                    answer(out);
                    Thread reader = new Thread(() -> drainQuietly(in, bytes), "reader");
                    reader.start();
                    fill(out, bytes);
                    reader.join();
                }
                case 'C' -> answer(out);
                case 'E' -> echo(in, out);
                case 'H' -> {
                    answer(out);
                    while (in.read() >= 0) {
                        // no buffer of our own: the heap measured is the connection's
                    }
                }
                default -> {
                    // a readiness probe or a closed connection
                }
            }
            if (command == 'S' || command == 'D') {
                drain(in, Long.MAX_VALUE);
            }
        } catch (IOException | InterruptedException e) {
            // the client went away; its own figures say whether that was expected
        }
    }

    private static void answer(OutputStream out) throws IOException {
        out.write('k');
        out.flush();
    }

    static void fill(OutputStream out, long bytes) throws IOException {
        byte[] chunk = new byte[CHUNK_BYTES];
        for (long left = bytes; left > 0; left -= chunk.length) {
            out.write(chunk, 0, (int) Math.min(chunk.length, left));
        }
        out.flush();
    }

    /** Reads {@code bytes} bytes or to the end of the stream, whichever comes first; returns the bytes read. */
    static long drain(InputStream in, long bytes) throws IOException {
        byte[] buffer = new byte[CHUNK_BYTES];
        long read = 0;
        while (read < bytes) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, bytes - read));
            if (n < 0) {
                break;
            }
            read += n;
        }
        return read;
    }

    private static void drainQuietly(InputStream in, long bytes) {
        try {
            drain(in, bytes);
        } catch (IOException e) {
            // the writer's side reports the failure
        }
    }

    private static void echo(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[CHUNK_BYTES];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            out.write(buffer, 0, n);
            out.flush();
        }
    }
}
