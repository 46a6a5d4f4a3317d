package dev.fernetjca.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ServerSocketFactory;

/**
 * A TCP server on the loopback address that answers each connection with a {@link Handler} on a thread of its own:
 * the plain service behind a tunnel, or (with a Fernet server socket factory) the Java side of an interop test.
 *
 * <p>Thread-safe; {@link #close()} from any thread.
 */
final class PlainServer implements AutoCloseable {
    /** What the server does with one connection; the server closes the socket afterwards. */
    interface Handler {
        void handle(Socket socket, InputStream in, OutputStream out) throws IOException;
    }

    /** Echoes every byte; at end of input, writes {@code "<N bytes>\n"} and half-closes, proving it saw the end. */
    static final Handler ECHO_THEN_COUNT = (socket, in, out) -> {
        byte[] buffer = new byte[16 * 1024];
        long count = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(buffer, 0, n);
            count += n;
        }
        out.write(("<" + count + " bytes>\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        socket.shutdownOutput();
    };

    /** Echoes what it reads with ASCII letters upper-cased, until the end of input. */
    static final Handler UPPER_CASE = (socket, in, out) -> {
        byte[] buffer = new byte[16 * 1024];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(upperCase(buffer, n), 0, n);
            out.flush();
        }
    };

    /** Reads one line, answers it upper-cased, and closes: for a client that never ends its input. */
    static final Handler ONE_LINE_UPPER_CASE = (socket, in, out) -> {
        byte[] line = new byte[8192];
        int length = 0;
        for (int b; length < line.length && (b = in.read()) >= 0; ) {
            line[length++] = (byte) b;
            if (b == '\n') {
                break;
            }
        }
        out.write(upperCase(line, length), 0, length);
        out.flush();
    };

    private final ServerSocket listener;
    private final Handler handler;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger served = new AtomicInteger();
    private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();

    /** How one connection ended: {@code failure} is null if its handler returned normally. */
    record Outcome(IOException failure) {
    }

    PlainServer(Handler handler) throws IOException {
        this(ServerSocketFactory.getDefault(), handler);
    }

    PlainServer(ServerSocketFactory factory, Handler handler) throws IOException {
        this.listener = factory.createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.handler = handler;
        Thread acceptor = new Thread(this::acceptLoop, "plain server " + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Connections whose handler returned without an exception. */
    int served() {
        return served.get();
    }

    /** Returns how the next connection to finish ended, waiting at most {@code timeout}. */
    Outcome nextOutcome(Duration timeout) throws InterruptedException {
        Outcome outcome = outcomes.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (outcome == null) {
            throw new AssertionError("no connection ended within " + timeout.toMillis() + " ms");
        }
        return outcome;
    }

    /** Returns an address for the tunnel's {@code --connect}. */
    String address() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + port();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                return;
            }
            open.add(socket);
            Thread connection = new Thread(() -> {
                try (socket) {
                    handler.handle(socket, socket.getInputStream(), socket.getOutputStream());
                    served.incrementAndGet();
                    outcomes.add(new Outcome(null));
                } catch (IOException e) {
                    outcomes.add(new Outcome(e)); // only this connection fails; the server goes on
                } finally {
                    open.remove(socket);
                }
            }, "plain connection");
            connection.setDaemon(true);
            connection.start();
        }
    }

    static byte[] upperCase(byte[] bytes, int length) {
        byte[] upper = new byte[length];
        for (int i = 0; i < length; i++) {
            byte b = bytes[i];
            upper[i] = b >= 'a' && b <= 'z' ? (byte) (b - 32) : b;
        }
        return upper;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : open) {
            socket.close();
        }
    }
}
