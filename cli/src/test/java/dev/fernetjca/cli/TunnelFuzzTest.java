package dev.fernetjca.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.FernetProvider;
import dev.fernetjca.testing.EchoServer;
import dev.fernetjca.testing.Fuzzing;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;

/**
 * The tunnel fed raw bytes, both ways. Hostile: fuzzed bytes sent straight to a decrypting tunnel's port must never
 * reach its backend, the tunnel must end that connection within its handshake deadline (plus a margin for a loaded
 * machine), and its log must stay one line per event whatever the bytes were. Honest: fuzzed bytes written to an
 * encrypting tunnel's plain port come back unchanged from an echo backend behind the decrypting tunnel. Regression
 * inputs: {@code TunnelFuzzTestInputs/carriesHonestBytesAndDropsHostileOnes/}.
 */
class TunnelFuzzTest {
    static {
        Fuzzing.quietLogsWhileFuzzing();
    }

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int ANSWER_TIMEOUT_MILLIS = 30_000; // the default 10 s handshake deadline, and margin
    private static final SecretKey KEY = newKey();
    private static final AtomicLong HOSTILE_BYTES_DELIVERED = new AtomicLong();
    private static final StringWriter LOG_TEXT = new StringWriter();
    private static final PrintWriter LOG = new PrintWriter(LOG_TEXT, true);
    private static final Tunnel HOSTILE_ENTRY;
    private static final Tunnel HONEST_ENTRY;

    static {
        try {
            EchoServer mustStayUnread = EchoServer.plain(TunnelFuzzTest::countHostileBytes);
            HOSTILE_ENTRY = Tunnel.start(
                    any(),
                    new FernetServerSocketFactory(KEY),
                    at(mustStayUnread.port()),
                    SocketFactory.getDefault(),
                    64,
                    LOG);
            EchoServer echo = new EchoServer();
            Tunnel decrypting = Tunnel.start(
                    any(), new FernetServerSocketFactory(KEY), at(echo.port()), SocketFactory.getDefault(), 64, LOG);
            HONEST_ENTRY = Tunnel.start(
                    any(),
                    ServerSocketFactory.getDefault(),
                    at(decrypting.port()),
                    new FernetSocketFactory(KEY),
                    64,
                    LOG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void carriesHonestBytesAndDropsHostileOnes(FuzzedDataProvider data) throws Exception {
        Fuzzing.allowLoopbackConnections();
        boolean hostile = data.consumeBoolean();
        boolean halfClose = data.consumeBoolean();
        byte[] bytes = data.consumeRemainingAsBytes();
        if (hostile) {
            sendHostile(bytes, halfClose);
        } else {
            assertArrayEquals(bytes, roundTrip(bytes), "bytes changed through two tunnels");
        }
        String log = LOG_TEXT.toString();
        for (int i = 0; i < log.length(); i++) {
            char c = log.charAt(i);
            assertTrue(c >= 0x20 || c == '\n' || c == '\t', "control character " + (int) c + " in the tunnel's log");
        }
        LOG_TEXT.getBuffer().setLength(0);
    }

    private static void sendHostile(byte[] bytes, boolean halfClose) throws IOException {
        try (Socket peer = new Socket(LOOPBACK, HOSTILE_ENTRY.port())) {
            peer.setSoTimeout(ANSWER_TIMEOUT_MILLIS);
            try {
                peer.getOutputStream().write(bytes);
                if (!halfClose) {
                    return; // closes at once: the tunnel must cope with a peer gone mid-handshake
                }
                peer.shutdownOutput();
                drain(peer.getInputStream());
            } catch (SocketTimeoutException e) {
                throw new AssertionError("tunnel kept a hostile connection open past its deadline", e);
            } catch (IOException e) {
                // a reset or an abort: the tunnel is allowed to end a hostile peer either way
            }
        } finally {
            // checked after every hostile connection, so that a late delivery shows on a later input at the latest
            assertEquals(0, HOSTILE_BYTES_DELIVERED.get(), "unauthenticated bytes reached the backend");
        }
    }

    private static byte[] roundTrip(byte[] bytes) throws IOException {
        try (Socket client = new Socket(LOOPBACK, HONEST_ENTRY.port())) {
            client.setSoTimeout(ANSWER_TIMEOUT_MILLIS);
            client.getOutputStream().write(bytes);
            client.shutdownOutput();
            return client.getInputStream().readAllBytes();
        }
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        while (in.read(buffer) >= 0) {
            // what a hostile peer gets back (alerts, at most) is not on trial here
        }
    }

    private static void countHostileBytes(Socket socket, InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            HOSTILE_BYTES_DELIVERED.addAndGet(n);
        }
    }

    private static SecretKey newKey() {
        try {
            return KeyGenerator.getInstance("Fernet", new FernetProvider()).generateKey();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static InetSocketAddress any() {
        return new InetSocketAddress(LOOPBACK, 0);
    }

    private static InetSocketAddress at(int port) {
        return new InetSocketAddress(LOOPBACK, port);
    }
}
