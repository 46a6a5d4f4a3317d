package dev.fernetjca.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A man in the middle on the loopback address: forwards each TCP connection to a target port, recording every byte of
 * each direction (what a capture on the wire would show), passing half-close through, and, when told, injecting a
 * fault. Faults apply to every connection from the moment they are set, at stream offsets counted per connection:
 * flip a byte, cut both sides after N bytes (a FIN each way), reset both after N bytes (an RST each way), stall a
 * direction after N bytes (the bytes stop, the connection stays open), slow a direction, or replay recorded bytes in
 * place of what the next client sends.
 *
 * <p>Thread-safe; {@link #close()} from any thread.
 */
public final class Relay implements AutoCloseable {
    /** Which way bytes cross the relay. */
    public enum Direction {
        TO_SERVER,
        TO_CLIENT
    }

    /** What happens to a connection when a direction reaches its fault offset. */
    public enum Fault {
        /** Both sockets closed normally: each peer sees a clean end of stream (FIN) where the bytes stop. */
        CUT,
        /** Both sockets closed with SO_LINGER 0: each peer sees a connection reset (RST). */
        RESET,
        /** The direction stops forwarding and the connection stays open: the receiver waits. */
        STALL
    }

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final ServerSocket listener;
    private final int targetPort;
    private final boolean recording;
    private final ExecutorService pool = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "relay");
        thread.setDaemon(true);
        return thread;
    });
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private volatile Fault fault;
    private volatile Direction faultDirection;
    private volatile long faultOffset = Long.MAX_VALUE;
    private volatile Direction flipDirection;
    private volatile long flipOffset = -1;
    private volatile Direction slowDirection;
    private volatile int slowChunk;
    private volatile Duration slowDelay;
    private volatile long slowAfter = Long.MAX_VALUE;
    private volatile byte[] replacementToServer;

    private Relay(int targetPort, boolean recording) throws IOException {
        this.targetPort = targetPort;
        this.recording = recording;
        this.listener = new ServerSocket(0, 50, LOOPBACK);
        pool.submit(this::acceptLoop);
    }

    /** Starts a relay from a free loopback port to {@code targetPort} on the loopback address. */
    public static Relay to(int targetPort) throws IOException {
        return new Relay(targetPort, true);
    }

    /**
     * Starts a relay like {@link #to} that records nothing and forgets each connection once it has ended, for soak
     * runs of thousands of connections; faults apply as usual, but the methods about "the latest connection" do not.
     */
    public static Relay forwardingOnly(int targetPort) throws IOException {
        return new Relay(targetPort, false);
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Flips the lowest bit of the byte at {@code offset} of each connection's stream in {@code direction}. */
    public void flipByteAt(Direction direction, long offset) {
        flipDirection = direction;
        flipOffset = offset;
    }

    /** Injects {@code fault} into each connection once {@code offset} bytes have crossed in {@code direction}. */
    public void inject(Fault fault, Direction direction, long offset) {
        this.faultDirection = direction;
        this.faultOffset = offset;
        this.fault = fault;
    }

    /** Sends {@code recorded} to the server in place of what the next client sends. */
    public void replaceClientBytes(byte[] recorded) {
        replacementToServer = recorded.clone();
    }

    /** Forwards what reaches the client from now on {@code chunk} bytes at a time, {@code delay} apart. */
    public void slowTowardsClientFromNow(int chunk, Duration delay) {
        slowChunk = chunk;
        slowDelay = delay;
        slowDirection = Direction.TO_CLIENT;
        slowAfter = latest().taken(Direction.TO_CLIENT);
    }

    /** Returns how many connections the relay has accepted. */
    public int connections() {
        return connections.size();
    }

    /** Returns the {@code index}th connection accepted, from 0. */
    public Connection connection(int index) {
        if (index < 0 || index >= connections.size()) {
            throw new AssertionError("the relay saw " + connections.size() + " connections, not " + (index + 1));
        }
        return connections.get(index);
    }

    /** Returns how many bytes the latest connection has taken in for {@code direction}; fault offsets count here. */
    public long taken(Direction direction) {
        return latest().taken(direction);
    }

    /** Returns how many bytes the latest connection has passed on in {@code direction}. */
    public long forwarded(Direction direction) {
        return latest().forwarded(direction);
    }

    /** Waits up to 10 seconds for the latest connection to have passed on {@code atLeast} bytes in {@code direction}. */
    public void awaitForwarded(Direction direction, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (connections.isEmpty() || forwarded(direction) < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("relay forwarded only " + (connections.isEmpty() ? 0 : forwarded(direction))
                        + " bytes " + direction);
            }
            Thread.sleep(5);
        }
    }

    /** Returns what the latest connection took in for {@code direction}. */
    public byte[] recorded(Direction direction) {
        return latest().recorded(direction);
    }

    /** Returns whether {@code captured} holds {@code needle} in ASCII: a secret seen in clear on the wire. */
    public static boolean contains(byte[] captured, String needle) {
        return new String(captured, StandardCharsets.US_ASCII).contains(needle);
    }

    /** Cuts every open connection at once, both sides, without any TLS goodbye (a FIN each way). */
    public void cut() {
        for (Connection connection : connections) {
            connection.end(false);
        }
    }

    private Connection latest() {
        if (connections.isEmpty()) {
            throw new AssertionError("the relay has seen no connection yet");
        }
        return connections.get(connections.size() - 1);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket accepted = listener.accept();
                Socket target = new Socket(LOOPBACK, targetPort);
                Connection connection = new Connection(accepted, target);
                connections.add(connection);
                if (!recording) {
                    connection.pumping.set(2);
                }
                byte[] replacement = replacementToServer;
                if (replacement != null) {
                    replacementToServer = null;
                    pool.submit(() -> {
                        target.getOutputStream().write(replacement);
                        accepted.getInputStream().transferTo(OutputStream.nullOutputStream());
                        return null;
                    });
                } else {
                    pool.submit(() -> pump(connection, Direction.TO_SERVER));
                }
                pool.submit(() -> pump(connection, Direction.TO_CLIENT));
            } catch (IOException e) {
                if (listener.isClosed()) {
                    return;
                }
                // the target refused one connection: the relay goes on for the next
            }
        }
    }

    private void pump(Connection connection, Direction direction) {
        Socket from = direction == Direction.TO_SERVER ? connection.client : connection.server;
        Socket to = direction == Direction.TO_SERVER ? connection.server : connection.client;
        byte[] buffer = new byte[16_384];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) > 0; ) {
                long start = connection.taken(direction, n);
                if (flipDirection == direction && flipOffset >= start && flipOffset < start + n) {
                    buffer[(int) (flipOffset - start)] ^= 1;
                }
                if (recording) {
                    connection.record(direction, buffer, n);
                }
                int pass = n;
                Fault due = fault;
                boolean faultHere = due != null && faultDirection == direction && faultOffset < start + n;
                if (faultHere) {
                    pass = (int) Math.max(0, faultOffset - start);
                }
                forward(connection, direction, out, buffer, pass, start);
                if (faultHere) {
                    if (due == Fault.STALL) {
                        in.transferTo(OutputStream.nullOutputStream()); // swallow the rest; the receiver waits
                        return;
                    }
                    connection.end(due == Fault.RESET);
                    return;
                }
            }
            to.shutdownOutput();
        } catch (IOException | InterruptedException e) {
            // a cut or a close ends the pump; a reset from one side is passed on as a reset to the other
            connection.end(e instanceof SocketException
                    && String.valueOf(e.getMessage()).contains("reset"));
        } finally {
            if (!recording && connection.pumping.decrementAndGet() == 0) {
                connection.end(false); // both directions are over: release the sockets and forget the connection
                connections.remove(connection);
            }
        }
    }

    private void forward(Connection connection, Direction direction, OutputStream out, byte[] buffer, int n, long start)
            throws IOException, InterruptedException {
        if (slowDirection == direction && start + n > slowAfter) {
            for (int i = 0; i < n; i += slowChunk) {
                int chunk = Math.min(slowChunk, n - i);
                out.write(buffer, i, chunk);
                out.flush();
                connection.forwarded(direction, chunk);
                Thread.sleep(slowDelay.toMillis());
            }
        } else if (n > 0) {
            out.write(buffer, 0, n);
            connection.forwarded(direction, n);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        cut();
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the pumps are told to stop either way
        }
    }

    /** One relayed connection: the bytes each way, and how many crossed. */
    public static final class Connection {
        private final Socket client;
        private final Socket server;
        private final ByteArrayOutputStream upstream = new ByteArrayOutputStream();
        private final ByteArrayOutputStream downstream = new ByteArrayOutputStream();
        private final AtomicLong takenToServer = new AtomicLong();
        private final AtomicLong takenToClient = new AtomicLong();
        private final AtomicLong forwardedToServer = new AtomicLong();
        private final AtomicLong forwardedToClient = new AtomicLong();
        private final AtomicInteger pumping = new AtomicInteger(); // directions still pumping, when not recording

        private Connection(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        /** What the client sent. */
        public byte[] upstream() {
            return recorded(Direction.TO_SERVER);
        }

        /** What the server sent. */
        public byte[] downstream() {
            return recorded(Direction.TO_CLIENT);
        }

        byte[] recorded(Direction direction) {
            ByteArrayOutputStream recorded = direction == Direction.TO_SERVER ? upstream : downstream;
            synchronized (recorded) {
                return recorded.toByteArray();
            }
        }

        long taken(Direction direction) {
            return (direction == Direction.TO_SERVER ? takenToServer : takenToClient).get();
        }

        long forwarded(Direction direction) {
            return (direction == Direction.TO_SERVER ? forwardedToServer : forwardedToClient).get();
        }

        private long taken(Direction direction, int n) {
            return (direction == Direction.TO_SERVER ? takenToServer : takenToClient).getAndAdd(n);
        }

        private void forwarded(Direction direction, int n) {
            (direction == Direction.TO_SERVER ? forwardedToServer : forwardedToClient).addAndGet(n);
        }

        private void record(Direction direction, byte[] buffer, int n) {
            ByteArrayOutputStream recorded = direction == Direction.TO_SERVER ? upstream : downstream;
            synchronized (recorded) {
                recorded.write(buffer, 0, n);
            }
        }

        /** Closes both sides; with {@code reset}, with SO_LINGER 0, so that each peer sees an RST, not a FIN. */
        private void end(boolean reset) {
            for (Socket socket : List.of(client, server)) {
                try {
                    if (reset && !socket.isClosed()) {
                        socket.setSoLinger(true, 0);
                    }
                    socket.close();
                } catch (IOException e) {
                    // already closed: nothing left to end
                }
            }
        }
    }
}
