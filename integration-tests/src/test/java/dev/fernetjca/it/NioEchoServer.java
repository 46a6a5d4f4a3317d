package dev.fernetjca.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;

/**
 * A single-threaded, non-blocking echo server over {@link SSLEngine}, written against the engine's contract the way
 * the JDK's documentation of {@code SSLEngine} shows it: buffers of the session's sizes, grown on
 * {@code BUFFER_OVERFLOW}, more bytes read on {@code BUFFER_UNDERFLOW}, delegated tasks run, {@code NEED_WRAP} and
 * {@code NEED_UNWRAP} followed, the peer's close_notify answered with ours. Every read takes at most
 * {@code maxFragment} bytes (a random size), so records reach the engine in pieces. Test code.
 */
final class NioEchoServer implements AutoCloseable {
    private final SSLContext context;
    private final Selector selector;
    private final ServerSocketChannel listener;
    private final Random random = new Random(12);
    private final int maxFragment;
    private final Thread thread;
    private volatile boolean stopping;
    /** Why connections ended other than with close_notify both ways: exception messages, in order. */
    final List<String> failures = new CopyOnWriteArrayList<>();
    /** Connections that ended cleanly: the peer's close_notify, then ours. */
    final List<Long> cleanEnds = new CopyOnWriteArrayList<>();

    NioEchoServer(SSLContext context, int maxFragment) throws IOException {
        this.context = context;
        this.maxFragment = maxFragment;
        this.selector = Selector.open();
        this.listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT);
        this.thread = new Thread(this::loop, "nio-echo");
        thread.setDaemon(true);
        thread.start();
    }

    int port() throws IOException {
        return ((InetSocketAddress) listener.getLocalAddress()).getPort();
    }

    private void loop() {
        try {
            while (!stopping) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        accept();
                    } else {
                        Connection connection = (Connection) key.attachment();
                        try {
                            connection.ready(key);
                        } catch (IOException | RuntimeException e) {
                            failures.add(String.valueOf(e.getMessage()));
                            connection.sendAlert();
                            key.cancel();
                            connection.channel.close();
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException e) {
            failures.add("server loop: " + e);
        }
    }

    private void accept() throws IOException {
        SocketChannel channel = listener.accept();
        if (channel == null) {
            return;
        }
        channel.configureBlocking(false);
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.beginHandshake();
        channel.register(selector, SelectionKey.OP_READ, new Connection(channel, engine));
    }

    /** One client: its engine and buffers; the echo queue grows so that a client that writes before it reads is served. */
    private final class Connection {
        final SocketChannel channel;
        final SSLEngine engine;
        ByteBuffer netIn;
        ByteBuffer appIn;
        ByteBuffer netOut; // read mode: wrapped bytes not yet written
        ByteBuffer echo = ByteBuffer.allocate(0); // read mode: plaintext to send back
        long echoed;
        boolean peerClosed;

        Connection(SocketChannel channel, SSLEngine engine) {
            this.channel = channel;
            this.engine = engine;
            this.netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
            this.netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize())
                    .flip();
        }

        void ready(SelectionKey key) throws IOException {
            if (key.isReadable()) {
                read();
            }
            write(key);
        }

        private void read() throws IOException {
            int limit = Math.min(netIn.remaining(), 1 + random.nextInt(maxFragment));
            int got = channel.read(netIn.slice(netIn.position(), limit));
            if (got < 0) {
                engine.closeInbound(); // throws unless close_notify came first: a truncation is never a clean end
                return;
            }
            netIn.position(netIn.position() + got);
            unwrap();
        }

        private void unwrap() throws SSLException {
            while (!peerClosed) {
                netIn.flip();
                SSLEngineResult result = engine.unwrap(netIn, appIn);
                netIn.compact();
                runTasks();
                switch (result.getStatus()) {
                    case OK -> queueEcho();
                    case BUFFER_OVERFLOW ->
                        appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
                    case BUFFER_UNDERFLOW -> {
                        if (netIn.capacity() < engine.getSession().getPacketBufferSize()) {
                            netIn = grow(netIn, engine.getSession().getPacketBufferSize());
                        }
                        return;
                    }
                    case CLOSED -> {
                        queueEcho();
                        peerClosed = true;
                    }
                }
                if (result.bytesConsumed() == 0 && result.bytesProduced() == 0 && result.getStatus() == Status.OK) {
                    return; // the engine wants to wrap first
                }
            }
        }

        private void queueEcho() {
            appIn.flip();
            ByteBuffer more = ByteBuffer.allocate(echo.remaining() + appIn.remaining());
            more.put(echo).put(appIn).flip();
            echo = more;
            appIn.clear();
        }

        /** Writes what is wrapped, wraps more while the channel takes it, and closes once both directions ended. */
        private void write(SelectionKey key) throws IOException {
            while (true) {
                if (netOut.hasRemaining()) {
                    channel.write(netOut);
                    if (netOut.hasRemaining()) {
                        key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                        return;
                    }
                }
                if (peerClosed && !echo.hasRemaining()) {
                    engine.closeOutbound(); // after all the echo: close_notify is the last record
                }
                boolean wrapWanted = echo.hasRemaining()
                        || engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP
                        || peerClosed && !engine.isOutboundDone();
                if (!wrapWanted) {
                    break;
                }
                netOut.clear();
                int before = echo.remaining();
                SSLEngineResult result = engine.wrap(echo, netOut);
                netOut.flip();
                echoed += before - echo.remaining();
                runTasks();
                if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                    throw new IllegalStateException("wrap overflowed a buffer of the packet size");
                }
                if (result.bytesProduced() == 0) {
                    break;
                }
                if (result.getHandshakeStatus() == HandshakeStatus.FINISHED && netIn.position() > 0) {
                    unwrap(); // bytes that came with the handshake's last flight
                }
            }
            key.interestOps(SelectionKey.OP_READ);
            if (peerClosed && engine.isOutboundDone()) {
                cleanEnds.add(echoed);
                key.cancel();
                channel.close();
            }
        }

        /** After a failure: sends the alert the engine has queued, if the peer still reads; best effort. */
        void sendAlert() {
            try {
                ByteBuffer alert = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
                while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                    alert.clear();
                    if (engine.wrap(ByteBuffer.allocate(0), alert).bytesProduced() == 0) {
                        break;
                    }
                    alert.flip();
                    channel.write(alert);
                }
            } catch (IOException | RuntimeException e) {
                // the peer is gone: the failure is recorded already
            }
        }

        private void runTasks() {
            for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
                task.run();
            }
        }
    }

    private static ByteBuffer grow(ByteBuffer buffer, int atLeast) {
        ByteBuffer larger = ByteBuffer.allocate(Math.max(atLeast, buffer.capacity() * 2));
        buffer.flip();
        return larger.put(buffer);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stopping = true;
        thread.join(5000);
        for (SelectionKey key : selector.keys()) {
            key.channel().close();
        }
        selector.close();
    }
}
