package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.clientFactory;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static dev.fernetjca.net.SocketTestSupport.serverFactory;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.KeyManagementException;
import java.security.Provider;
import java.security.Security;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our SSLEngine against our blocking sockets, both ways, over loopback: the same protocol. Also the provider's
 * registration and its configured keys, and the context's socket factories, including the layered one.
 */
@Timeout(30)
class PskEngineSocketTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(10);
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void engineClientTalksToFernetServerSocket() throws Exception {
        SecretKey key = newKey();
        byte[] data = random(100_000, 1);
        try (ServerSocket listener = serverFactory(key, HANDSHAKE).createServerSocket(0, 1, LOOPBACK)) {
            Future<byte[]> echoed = pool.submit(() -> echoAll(listener));
            try (Socket raw = new Socket(LOOPBACK, listener.getLocalPort())) {
                raw.setSoTimeout(10_000);
                BlockingEngine client = new BlockingEngine(engine(key, true), raw);
                client.handshake();
                client.write(data);
                client.closeOutbound();
                assertArrayEquals(data, client.readToEnd());
            }
            assertArrayEquals(data, echoed.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void fernetSocketTalksToEngineServer() throws Exception {
        SecretKey key = newKey();
        byte[] data = random(100_000, 2);
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK)) {
            Future<byte[]> served = pool.submit(() -> {
                try (Socket raw = listener.accept()) {
                    raw.setSoTimeout(10_000);
                    BlockingEngine server = new BlockingEngine(engine(key, false), raw);
                    server.handshake();
                    byte[] received = server.readToEnd();
                    server.write(received);
                    server.closeOutbound();
                    return received;
                }
            });
            try (Socket socket = clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(data);
                socket.shutdownOutput();
                assertArrayEquals(data, socket.getInputStream().readAllBytes());
            }
            assertArrayEquals(data, served.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void anEndWithoutCloseNotifyIsATruncationForTheEngine() throws Exception {
        SecretKey key = newKey();
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK)) {
            Future<Exception> served = pool.submit(() -> {
                try (Socket raw = listener.accept()) {
                    raw.setSoTimeout(10_000);
                    BlockingEngine server = new BlockingEngine(engine(key, false), raw);
                    server.handshake();
                    return assertThrows(SSLException.class, server::readToEnd);
                }
            });
            try (Socket raw = new Socket(LOOPBACK, listener.getLocalPort())) {
                BlockingEngine client = new BlockingEngine(engine(key, true), raw);
                client.handshake();
                client.write(new byte[] {1});
            } // TCP's FIN without close_notify
            Exception e = served.get(20, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("ended without close_notify"), e.getMessage());
        }
    }

    @Test
    void providerIsFoundByServiceLoaderAndInitTakesTheConfiguredKey() throws Exception {
        assumeTrue(
                System.getProperty(KeySource.KEY_FILE) == null
                        && Security.getProperty(KeySource.KEY_FILE) == null
                        && System.getenv(KeySource.KEY_FILE_VARIABLE) == null,
                "a key file is configured for this JVM");
        FernetPskProvider provider = ServiceLoader.load(Provider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(FernetPskProvider.class::isInstance)
                .map(FernetPskProvider.class::cast)
                .findFirst()
                .orElseThrow();
        SecretKey key = newKey();
        String saved = System.getProperty(KeySource.KEY);
        System.setProperty(KeySource.KEY, Base64.getUrlEncoder().encodeToString(key.getEncoded()));
        try {
            SSLContext configured = SSLContext.getInstance("FernetPSK", provider);
            assertThrows(IllegalStateException.class, configured::createSSLEngine);
            configured.init(null, null, null);
            configured.init(null, null, null); // again: the configuration read anew, inline keys as well
            EngineLink link = new EngineLink(
                    configured.createSSLEngine(),
                    FernetPskProvider.sslContext(key).createSSLEngine(),
                    500,
                    3);
            link.client.send(new byte[] {1, 2, 3});
            link.run();
            assertArrayEquals(new byte[] {1, 2, 3}, link.server.received.toByteArray());
            assertThrows(
                    KeyManagementException.class,
                    () -> FernetPskProvider.sslContext(key).init(null, null, null));
        } finally {
            if (saved == null) {
                System.clearProperty(KeySource.KEY);
            } else {
                System.setProperty(KeySource.KEY, saved);
            }
        }
    }

    @Test
    void socketFactoriesOfTheContextSpeakTheProtocolIncludingLayered() throws Exception {
        SecretKey key = newKey();
        SSLContext context = FernetPskProvider.sslContext(key);
        byte[] data = random(5000, 4);
        try (ServerSocket listener = context.getServerSocketFactory().createServerSocket(0, 1, LOOPBACK)) {
            Future<byte[]> echoed = pool.submit(() -> echoAll(listener));
            SSLSocketFactory factory = context.getSocketFactory();
            try (Socket plain = new Socket(LOOPBACK, listener.getLocalPort());
                    Socket layered = factory.createSocket(plain, "localhost", listener.getLocalPort(), true)) {
                layered.setSoTimeout(10_000);
                layered.getOutputStream().write(data);
                layered.shutdownOutput();
                assertArrayEquals(data, layered.getInputStream().readAllBytes());
            }
            assertArrayEquals(data, echoed.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void layeredSocketWithoutAutoCloseLeavesTheSocketOpen() throws Exception {
        SecretKey key = newKey();
        SSLContext context = FernetPskProvider.sslContext(key);
        try (ServerSocket listener = context.getServerSocketFactory().createServerSocket(0, 1, LOOPBACK)) {
            Future<byte[]> echoed = pool.submit(() -> echoAll(listener));
            try (Socket plain = new Socket(LOOPBACK, listener.getLocalPort())) {
                Socket layered =
                        context.getSocketFactory().createSocket(plain, "localhost", listener.getLocalPort(), false);
                layered.getOutputStream().write(7);
                layered.close();
                assertTrue(layered.isClosed());
                assertTrue(!plain.isClosed(), "autoClose false keeps the socket");
            }
            assertArrayEquals(new byte[] {7}, echoed.get(20, TimeUnit.SECONDS));
        }
    }

    private static SSLEngine engine(SecretKey key, boolean client) {
        SSLEngine engine = FernetPskProvider.sslContext(key).createSSLEngine();
        engine.setUseClientMode(client);
        return engine;
    }

    /** Accepts one connection, echoes all it reads until the peer's close_notify, and returns what it read. */
    private static byte[] echoAll(ServerSocket listener) throws IOException {
        try (Socket socket = listener.accept()) {
            socket.setSoTimeout(10_000);
            byte[] received = socket.getInputStream().readAllBytes();
            socket.getOutputStream().write(received);
            return received;
        }
    }

    private static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** An engine driven over a socket's blocking streams, statuses followed as the SSLEngine documentation says. */
    static final class BlockingEngine {
        private final SSLEngine engine;
        private final InputStream in;
        private final OutputStream out;
        private final ByteBuffer netIn;
        private final ByteBuffer netOut;
        private final ByteBuffer appIn;

        BlockingEngine(SSLEngine engine, Socket socket) throws IOException {
            this.engine = engine;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            this.netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            this.netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        }

        void handshake() throws IOException {
            engine.beginHandshake();
            while (true) {
                HandshakeStatus status = engine.getHandshakeStatus();
                if (status == HandshakeStatus.NEED_WRAP) {
                    wrap(ByteBuffer.allocate(0));
                } else if (status == HandshakeStatus.NEED_UNWRAP) {
                    if (unwrap().getHandshakeStatus() == HandshakeStatus.FINISHED) {
                        return;
                    }
                } else {
                    return;
                }
            }
        }

        private SSLEngineResult wrap(ByteBuffer src) throws IOException {
            netOut.clear();
            SSLEngineResult result = engine.wrap(src, netOut);
            out.write(netOut.array(), 0, netOut.position());
            out.flush();
            return result;
        }

        /** Unwraps one record, reading from the socket until one is whole. */
        private SSLEngineResult unwrap() throws IOException {
            while (true) {
                netIn.flip();
                SSLEngineResult result = engine.unwrap(netIn, appIn);
                netIn.compact();
                if (result.getStatus() != Status.BUFFER_UNDERFLOW) {
                    return result;
                }
                int got = in.read(netIn.array(), netIn.position(), netIn.remaining());
                if (got < 0) {
                    engine.closeInbound(); // throws: the peer ended without close_notify
                    throw new EOFException("closeInbound did not throw");
                }
                netIn.position(netIn.position() + got);
            }
        }

        void write(byte[] data) throws IOException {
            ByteBuffer src = ByteBuffer.wrap(data);
            while (src.hasRemaining()) {
                wrap(src);
            }
        }

        void closeOutbound() throws IOException {
            engine.closeOutbound();
            while (!engine.isOutboundDone()) {
                wrap(ByteBuffer.allocate(0));
            }
        }

        /** Reads until the peer's close_notify. */
        byte[] readToEnd() throws IOException {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            while (true) {
                SSLEngineResult result = unwrap();
                appIn.flip();
                all.write(appIn.array(), 0, appIn.limit());
                appIn.clear();
                if (result.getStatus() == Status.CLOSED) {
                    assertEquals(HandshakeStatus.NOT_HANDSHAKING, result.getHandshakeStatus());
                    return all.toByteArray();
                }
                if (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                    wrap(ByteBuffer.allocate(0));
                }
            }
        }
    }
}
