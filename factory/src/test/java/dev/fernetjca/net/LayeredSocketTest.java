package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The layered socket of a {@code FernetPSK} context with {@code autoClose} false: the caller keeps its socket after a
 * clean end, and gets it closed when the TLS stream cannot end cleanly, so that no close and no blocked thread waits
 * on a peer that reads nothing.
 */
@Timeout(30)
class LayeredSocketTest {
    private static final long MARGIN_MILLIS = 4000; // the machine is loaded
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void closeIsBoundedWhenCloseNotifyCannotLeave() throws Exception {
        try (Stalled stalled = new Stalled()) {
            // the caller's own writes on its socket fill the wire: close_notify waits behind them
            AtomicLong written = new AtomicLong();
            Future<?> filler = pool.submit(() -> fill(stalled.plain.getOutputStream(), written));
            waitUntilBlocked(written);
            Future<?> closing = pool.submit(() -> {
                stalled.layered.close();
                return null;
            });
            closing.get(TlsEngine.GOODBYE_MILLIS + MARGIN_MILLIS, TimeUnit.MILLISECONDS);
            assertTrue(stalled.plain.isClosed(), "the wire is cut");
            assertThrows(ExecutionException.class, () -> filler.get(MARGIN_MILLIS, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void closeFreesAWriterBlockedOnAPeerThatDoesNotRead() throws Exception {
        try (Stalled stalled = new Stalled()) {
            AtomicLong written = new AtomicLong();
            Future<?> writer = pool.submit(() -> fill(stalled.layered.getOutputStream(), written));
            waitUntilBlocked(written);
            stalled.layered.close();
            ExecutionException freed = assertThrows(
                    ExecutionException.class,
                    () -> writer.get(TlsEngine.GOODBYE_MILLIS + MARGIN_MILLIS, TimeUnit.MILLISECONDS));
            assertTrue(freed.getCause() instanceof IOException, String.valueOf(freed.getCause()));
            assertTrue(stalled.plain.isClosed(), "a stream left mid-record is of no use to the caller");
        }
    }

    @Test
    void shutdownsLeaveTheCallersSocketOpen() throws Exception {
        SecretKey key = newKey();
        SSLContext context = FernetPskProvider.sslContext(key);
        try (ServerSocket listener = context.getServerSocketFactory().createServerSocket(0, 1, LOOPBACK)) {
            Future<?> echo = pool.submit(() -> {
                try (Socket socket = listener.accept()) {
                    socket.setSoTimeout(10_000);
                    socket.getOutputStream().write(socket.getInputStream().readAllBytes());
                }
                return null;
            });
            try (Socket plain = new Socket(LOOPBACK, listener.getLocalPort())) {
                Socket layered =
                        context.getSocketFactory().createSocket(plain, "localhost", listener.getLocalPort(), false);
                layered.setSoTimeout(10_000);
                layered.getOutputStream().write(new byte[] {1, 2, 3});
                layered.shutdownOutput();
                assertTrue(layered.isOutputShutdown());
                assertFalse(plain.isOutputShutdown(), "the caller's socket can still send");
                assertArrayEquals(new byte[] {1, 2, 3}, layered.getInputStream().readAllBytes());
                echo.get(20, TimeUnit.SECONDS);
                layered.shutdownInput();
                assertTrue(layered.isInputShutdown());
                assertFalse(plain.isInputShutdown(), "the caller's socket can still read");
                layered.close();
                assertFalse(plain.isClosed());
            }
        }
    }

    @Test
    void abortSendsNoCloseNotifyAndClosesTheCallersSocket() throws Exception {
        SecretKey key = newKey();
        SSLContext context = FernetPskProvider.sslContext(key);
        try (ServerSocket listener = context.getServerSocketFactory().createServerSocket(0, 1, LOOPBACK)) {
            Future<IOException> served = pool.submit(() -> {
                try (Socket socket = listener.accept()) {
                    socket.setSoTimeout(10_000);
                    return assertThrows(
                            IOException.class, () -> socket.getInputStream().readAllBytes());
                }
            });
            try (Socket plain = new Socket(LOOPBACK, listener.getLocalPort())) {
                Socket layered =
                        context.getSocketFactory().createSocket(plain, "localhost", listener.getLocalPort(), false);
                layered.getOutputStream().write(7);
                FernetSocketFactory.abort(layered);
                assertTrue(plain.isClosed(), "an abandoned stream is of no use to the caller");
            }
            served.get(20, TimeUnit.SECONDS); // an error, never the clean end of close_notify
        }
    }

    /** Writes until the wire is full and the write blocks; returns only by an exception. */
    private static Void fill(OutputStream out, AtomicLong written) throws IOException {
        byte[] chunk = new byte[4096];
        while (true) {
            out.write(chunk);
            written.addAndGet(chunk.length);
        }
    }

    /** Waits until {@code written} has stood still for a while: the writer is blocked. */
    private static void waitUntilBlocked(AtomicLong written) throws InterruptedException {
        long last = -1;
        while (written.get() != last || last <= 0) {
            last = written.get();
            Thread.sleep(300);
        }
    }

    /** A layered socket, handshake done, with autoClose false, to a server that then reads nothing. */
    private final class Stalled implements AutoCloseable {
        final ServerSocket listener;
        final Socket plain;
        final Socket accepted;
        final Socket layered;

        Stalled() throws Exception {
            SSLContext context = FernetPskProvider.sslContext(newKey());
            listener = context.getServerSocketFactory().createServerSocket(0, 1, LOOPBACK);
            plain = new Socket();
            plain.setSendBufferSize(8192);
            plain.connect(listener.getLocalSocketAddress());
            accepted = listener.accept();
            accepted.setReceiveBufferSize(8192);
            Future<?> serverHandshake = pool.submit(() -> {
                FernetSocketFactory.handshake(accepted);
                return null;
            });
            layered = context.getSocketFactory().createSocket(plain, "localhost", listener.getLocalPort(), false);
            FernetSocketFactory.handshake(layered);
            serverHandshake.get(20, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws IOException {
            plain.close();
            accepted.close();
            listener.close();
        }
    }
}
