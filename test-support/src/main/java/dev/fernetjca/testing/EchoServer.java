package dev.fernetjca.testing;

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

/**
 * A TCP server on the loopback address that answers each connection on a thread of its own, by default echoing every
 * byte until the client half-closes: the plain service behind a tunnel, or (with a Fernet server socket factory) the
 * far end of a socket test. Other {@link Handler}s answer in other ways.
 *
 * <p>Thread-safe; {@link #close()} from any thread.
 */
public final class EchoServer implements AutoCloseable {
    /** What the server does with one connection; the server closes the socket afterwards. */
    public interface Handler {
        void handle(Socket socket, InputStream in, OutputStream out) throws IOException;
    }

    /**
     * Where the server socket comes from: {@code ServerSocketFactory.getDefault()::createServerSocket}, or a Fernet
     * server socket factory's, so that plain and encrypted servers fit alike.
     */
    public interface Listener {
        ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException;
    }

    /** Echoes every byte; at end of input, half-closes. */
    public static final Handler ECHO = (socket, in, out) -> {
        in.transferTo(out);
        socket.shutdownOutput();
    };

    /** Echoes every byte; at end of input, writes {@code "<N bytes>\n"} and half-closes, proving it saw the end. */
    public static final Handler ECHO_THEN_COUNT = (socket, in, out) -> {
        long count = in.transferTo(out);
        out.write(("<" + count + " bytes>\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        socket.shutdownOutput();
    };

    /** Echoes what it reads with ASCII letters upper-cased, until the end of input. */
    public static final Handler UPPER_CASE = (socket, in, out) -> {
        byte[] buffer = new byte[16 * 1024];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(upperCase(buffer, n), 0, n);
            out.flush();
        }
    };

    /** Reads one line, answers it upper-cased, and closes: for a client that never ends its input. */
    public static final Handler ONE_LINE_UPPER_CASE = (socket, in, out) -> {
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

    /** How one connection ended: {@code failure} is null if its handler returned normally. */
    public record Outcome(IOException failure) {}

    private final ServerSocket listener;
    private final Handler handler;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger served = new AtomicInteger();
    private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();
    private volatile IOException lastFailure;

    /** A plain echo server. */
    public EchoServer() throws IOException {
        this(ServerSocket::new, ECHO);
    }

    /** Returns a plain server answering with {@code handler}. */
    public static EchoServer plain(Handler handler) throws IOException {
        return new EchoServer(ServerSocket::new, handler);
    }

    /** An echo server on a socket from {@code listener}. */
    public EchoServer(Listener listener) throws IOException {
        this(listener, ECHO);
    }

    /** A server on a socket from {@code listener}, answering with {@code handler}. */
    public EchoServer(Listener listener, Handler handler) throws IOException {
        this.listener = listener.createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.handler = handler;
        Thread acceptor = new Thread(this::acceptLoop, "echo server " + this.listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Returns an address for a tunnel's {@code --connect}. */
    public String address() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + port();
    }

    /** Connections whose handler returned without an exception. */
    public int served() {
        return served.get();
    }

    /** Returns the latest failure of a connection's handler, or null if none failed. */
    public IOException lastFailure() {
        return lastFailure;
    }

    /** Returns how the next connection to finish ended, waiting at most {@code timeout}. */
    public Outcome nextOutcome(Duration timeout) throws InterruptedException {
        Outcome outcome = outcomes.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (outcome == null) {
            throw new AssertionError("no connection ended within " + timeout.toMillis() + " ms");
        }
        return outcome;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (listener.isClosed()) {
                    return;
                }
                continue; // one failed accept (a Fernet socket's peer gone, say): the server goes on
            }
            open.add(socket);
            Thread connection = new Thread(
                    () -> {
                        try (socket) {
                            handler.handle(socket, socket.getInputStream(), socket.getOutputStream());
                            served.incrementAndGet();
                            outcomes.add(new Outcome(null));
                        } catch (IOException e) {
                            lastFailure = e;
                            outcomes.add(new Outcome(e)); // only this connection fails; the server goes on
                        } finally {
                            open.remove(socket);
                        }
                    },
                    "echo connection");
            connection.setDaemon(true);
            connection.start();
        }
    }

    /** Returns the first {@code length} bytes with ASCII letters upper-cased. */
    public static byte[] upperCase(byte[] bytes, int length) {
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
