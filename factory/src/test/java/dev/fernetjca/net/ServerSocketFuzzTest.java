package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fernetjca.testing.Fuzzing;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link FernetServerSocket}, in each mode, accepting a connection whose peer sends fuzzed bytes and then half-closes,
 * closes, or (TLS mode, now and then) stays silent. The accepting side reads until the stream ends: it may only ever
 * see an {@link IOException} (or, in fernet-tokens mode, a clean end of an empty stream), never an unchecked exception,
 * never a byte of plaintext, and never take longer than the handshake deadline plus a margin for a loaded machine.
 * Regression inputs: {@code ServerSocketFuzzTestInputs/acceptingSideOnlySeesIoExceptions/}.
 */
class ServerSocketFuzzTest {
    static {
        Fuzzing.quietLogsWhileFuzzing();
    }

    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(200);
    private static final Duration MARGIN = Duration.ofSeconds(15);
    private static final ServerSocket TLS = listen(Settings.Mode.TLS);
    private static final ServerSocket TOKENS = listen(Settings.Mode.FERNET_TOKENS);
    private static final ExecutorService READER = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "fuzzed-server-reader");
        thread.setDaemon(true);
        return thread;
    });

    private static ServerSocket listen(Settings.Mode mode) {
        try {
            Settings settings = Settings.of(SocketTestSupport.newKey(), mode, null, HANDSHAKE_TIMEOUT);
            return new FernetServerSocketFactory(settings).createServerSocket(0, 50, SocketTestSupport.LOOPBACK);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void acceptingSideOnlySeesIoExceptions(FuzzedDataProvider data) throws Exception {
        Fuzzing.allowLoopbackConnections();
        boolean tls = data.consumeBoolean();
        // 63: stay silent (rare: it costs a whole deadline; and not 0, which is what exhausted input reads as),
        // odd: close, even: half-close
        int ending = data.consumeInt(0, 63);
        boolean silent = tls && ending == 63; // fernet-tokens mode has no deadline before the first token yet
        byte[] bytes = data.consumeRemainingAsBytes();
        ServerSocket server = tls ? TLS : TOKENS;
        server.setSoTimeout((int) MARGIN.toMillis());

        try (Socket peer = new Socket(SocketTestSupport.LOOPBACK, server.getLocalPort());
                Socket accepted = server.accept()) {
            Future<Long> reading = READER.submit(() -> readAll(accepted.getInputStream()));
            try {
                peer.getOutputStream().write(bytes);
                if (!silent) {
                    if (ending % 2 == 1) {
                        peer.close();
                    } else {
                        peer.shutdownOutput();
                    }
                }
            } catch (IOException refused) {
                // the accepting side may have given up on the bytes so far and closed: that is its right
            }
            long plaintextBytes;
            try {
                plaintextBytes = reading.get(HANDSHAKE_TIMEOUT.plus(MARGIN).toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                reading.cancel(true);
                accepted.close();
                throw new AssertionError("accepting side still reading after " + HANDSHAKE_TIMEOUT.plus(MARGIN));
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IOException) {
                    return;
                }
                throw new AssertionError(
                        "accepting side saw " + cause.getClass().getName(), cause);
            }
            assertEquals(0, plaintextBytes, "fuzzed bytes authenticated as plaintext");
            if (tls) {
                fail("tls stream ended cleanly without a handshake");
            }
        }
    }

    /** Reads until the end of the stream; returns how many bytes of plaintext came out. */
    private static long readAll(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            total += n;
        }
        return total;
    }
}
