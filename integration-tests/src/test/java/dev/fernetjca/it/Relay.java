package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Forwards 127.0.0.1 connections to a port, keeping every byte of each direction for the test to read: what a
 * capture on the wire between a client and a server would show. Half-close is passed through.
 *
 * <p>Thread-safe.
 */
final class Relay implements AutoCloseable {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final ServerSocket listener;
    private final int target;
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile long cutAfter = Long.MAX_VALUE;

    Relay(int target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, LOOPBACK);
        Thread acceptor = new Thread(this::acceptLoop, "relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /**
     * From now on, ends each connection once {@code bytes} have crossed it in one direction: a FIN both ways in mid
     * stream, as a forged or lost end would look. The other end must take it for a failure, never a clean close.
     */
    void cutAfter(long bytes) {
        cutAfter = bytes;
    }

    int connections() {
        return connections.size();
    }

    Connection connection(int index) {
        assertTrue(index >= 0 && index < connections.size(), "the relay saw " + connections.size() + " connections");
        return connections.get(index);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(LOOPBACK, target);
                sockets.add(client);
                sockets.add(server);
                Connection connection = new Connection();
                connections.add(connection);
                pump(client, server, connection.upstream);
                pump(server, client, connection.downstream);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, ByteArrayOutputStream copy) {
        Thread pump = new Thread(() -> {
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                byte[] buffer = new byte[8192];
                long left = cutAfter;
                for (int n; (n = in.read(buffer)) > 0; ) {
                    n = (int) Math.min(n, left);
                    synchronized (copy) {
                        copy.write(buffer, 0, n);
                    }
                    out.write(buffer, 0, n);
                    left -= n;
                    if (left == 0) {
                        to.shutdownOutput();
                        from.shutdownOutput();
                        closeQuietly(from);
                        closeQuietly(to);
                        return;
                    }
                }
                to.shutdownOutput();
            } catch (IOException e) {
                // one side failed; closing both sockets ends the other pump too
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "relay pump");
        pump.setDaemon(true);
        pump.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // best effort
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    /** The bytes each way of one relayed connection. */
    static final class Connection {
        private final ByteArrayOutputStream upstream = new ByteArrayOutputStream();
        private final ByteArrayOutputStream downstream = new ByteArrayOutputStream();

        /** What the client sent. */
        byte[] upstream() {
            synchronized (upstream) {
                return upstream.toByteArray();
            }
        }

        /** What the server sent. */
        byte[] downstream() {
            synchronized (downstream) {
                return downstream.toByteArray();
            }
        }
    }
}
