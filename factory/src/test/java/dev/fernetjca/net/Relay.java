package dev.fernetjca.net;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A man in the middle on 127.0.0.1: forwards one TCP connection at a time to a target port, counting, recording,
 * slowing, tampering with or cutting what crosses it. Test code only.
 */
final class Relay implements AutoCloseable {
    enum Direction { TO_SERVER, TO_CLIENT }

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final ServerSocket listener;
    private final int targetPort;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final AtomicLong toServer = new AtomicLong();
    private final AtomicLong toClient = new AtomicLong();
    private final AtomicLong takenToServer = new AtomicLong();   // read from the client, forwarded or about to be
    private final AtomicLong takenToClient = new AtomicLong();
    private final ByteArrayOutputStream recordedToServer = new ByteArrayOutputStream();
    private final ByteArrayOutputStream recordedToClient = new ByteArrayOutputStream();
    private volatile Socket client;
    private volatile Socket server;
    private volatile int slowChunk;
    private volatile Duration slowDelay;
    private volatile long flipOffset = -1;
    private volatile Direction flipDirection;
    private volatile byte[] replacementToServer;

    private Relay(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 5, LOOPBACK);
        pool.submit(this::acceptLoop);
    }

    static Relay plain(int targetPort) throws IOException {
        return new Relay(targetPort);
    }

    private volatile long slowAfter = Long.MAX_VALUE;

    int port() {
        return listener.getLocalPort();
    }

    /** Flips the lowest bit of the byte at {@code offset} of the stream in {@code direction}. */
    void flipByteAt(Direction direction, long offset) {
        flipDirection = direction;
        flipOffset = offset;
    }

    /** Sends {@code recorded} to the server in place of what the next client sends. */
    void replaceClientBytes(byte[] recorded) {
        replacementToServer = recorded.clone();
    }

    /** Starts slowing what reaches the client from now on. */
    void slowTowardsClientFromNow(int chunk, Duration delay) {
        slowChunk = chunk;
        slowDelay = delay;
        slowAfter = takenToClient.get();
    }

    /** Returns how many bytes the relay has taken in for {@code direction}; stream offsets count from here. */
    long taken(Direction direction) {
        return (direction == Direction.TO_SERVER ? takenToServer : takenToClient).get();
    }

    long forwarded(Direction direction) {
        return (direction == Direction.TO_SERVER ? toServer : toClient).get();
    }

    void awaitForwarded(Direction direction, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (forwarded(direction) < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("relay forwarded only " + forwarded(direction) + " bytes " + direction);
            }
            Thread.sleep(5);
        }
    }

    byte[] recorded(Direction direction) {
        ByteArrayOutputStream recorded = direction == Direction.TO_SERVER ? recordedToServer : recordedToClient;
        synchronized (recorded) {
            return recorded.toByteArray();
        }
    }

    /** Cuts both TCP connections without any TLS goodbye. */
    void cut() throws IOException {
        Socket c = client;
        Socket s = server;
        if (c != null) {
            c.close();
        }
        if (s != null) {
            s.close();
        }
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket accepted = listener.accept();
                Socket target = new Socket(LOOPBACK, targetPort);
                client = accepted;
                server = target;
                toServer.set(0);
                toClient.set(0);
                takenToServer.set(0);
                takenToClient.set(0);
                byte[] replacement = replacementToServer;
                if (replacement != null) {
                    replacementToServer = null;
                    pool.submit(() -> {
                        target.getOutputStream().write(replacement);
                        accepted.getInputStream().transferTo(OutputStream.nullOutputStream());
                        return null;
                    });
                } else {
                    pool.submit(() -> pump(accepted, target, Direction.TO_SERVER));
                }
                pool.submit(() -> pump(target, accepted, Direction.TO_CLIENT));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, Direction direction) {
        AtomicLong counter = direction == Direction.TO_SERVER ? toServer : toClient;
        AtomicLong taken = direction == Direction.TO_SERVER ? takenToServer : takenToClient;
        ByteArrayOutputStream recorded = direction == Direction.TO_SERVER ? recordedToServer : recordedToClient;
        byte[] buffer = new byte[16_384];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) > 0; ) {
                long start = taken.getAndAdd(n);
                if (flipDirection == direction && flipOffset >= start && flipOffset < start + n) {
                    buffer[(int) (flipOffset - start)] ^= 1;
                }
                synchronized (recorded) {
                    recorded.write(buffer, 0, n);
                }
                if (direction == Direction.TO_CLIENT && start + n > slowAfter) {
                    for (int i = 0; i < n; i += slowChunk) {
                        out.write(buffer, i, Math.min(slowChunk, n - i));
                        out.flush();
                        counter.addAndGet(Math.min(slowChunk, n - i));
                        Thread.sleep(slowDelay.toMillis());
                    }
                } else {
                    out.write(buffer, 0, n);
                    counter.addAndGet(n);
                }
            }
            to.shutdownOutput();
        } catch (IOException | InterruptedException e) {
            // a cut or a close ends the pump
        }
    }

    @Override
    public void close() throws Exception {
        listener.close();
        cut();
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
    }
}
