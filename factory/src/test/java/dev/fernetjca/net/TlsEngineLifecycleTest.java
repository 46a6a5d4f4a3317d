package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.crypto.SecretKey;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.net.ssl.SSLException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the engine does around the data: what closing a handshaken engine sends, closes and wipes, whether the goodbye
 * left or the transport had to be cut; what a failure counts, logs and tells a second failing thread; the handshake's
 * deadline, its flush and its lock, and the reads a handshake must survive. The transport is one that records whether
 * it was closed or cut; the raw output one that can break or stall on demand.
 */
@Timeout(30)
class TlsEngineLifecycleTest {
    private static final MBeanServer MBEANS = ManagementFactory.getPlatformMBeanServer();
    private static final Logger ENGINE_LOG = Logger.getLogger(TlsEngine.class.getName());

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        pool.shutdownNow();
        for (Socket socket : sockets) {
            socket.close();
        }
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** A socket's transport that counts how it was ended, and can be told to fail doing so. */
    private static final class RecordingTransport implements Connection.Transport {
        private final Socket socket;
        private final SwitchOutput output;
        final AtomicInteger closes = new AtomicInteger();
        final AtomicInteger cuts = new AtomicInteger();
        volatile boolean failToEnd;

        RecordingTransport(Socket socket, SwitchOutput output) {
            this.socket = socket;
            this.output = output;
        }

        @Override
        public void close() throws IOException {
            closes.incrementAndGet();
            socket.close();
            if (failToEnd) {
                throw new IOException("close failed");
            }
        }

        @Override
        public void cut() throws IOException {
            cuts.incrementAndGet();
            output.release();
            socket.close();
            if (failToEnd) {
                throw new IOException("cut failed");
            }
        }
    }

    /** An output stream that passes writes on, or throws, or blocks until released. */
    private static final class SwitchOutput extends OutputStream {
        private final OutputStream out;
        private final CountDownLatch released = new CountDownLatch(1);
        volatile boolean broken;
        volatile Error error;
        volatile boolean stalled;
        volatile boolean blocked;

        SwitchOutput(OutputStream out) {
            this.out = out;
        }

        void release() {
            released.countDown();
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (stalled) {
                blocked = true;
                try {
                    released.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IOException("cut while writing");
            }
            if (broken) {
                throw new IOException("wire broken");
            }
            Error thrown = error;
            if (thrown != null) {
                throw thrown;
            }
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }
    }

    /** A handshaken client and server over loopback; the server's raw output and transport are switchable. */
    private record Pair(
            TlsEngine client, TlsEngine server, SwitchOutput serverOutput, RecordingTransport serverTransport) {}

    private Socket[] sockets() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 1, LOOPBACK)) {
            Socket clientSocket = new Socket(LOOPBACK, listener.getLocalPort());
            sockets.add(clientSocket);
            Socket serverSocket = listener.accept();
            sockets.add(serverSocket);
            return new Socket[] {clientSocket, serverSocket};
        }
    }

    private Pair handshaken(SecretKey key) throws Exception {
        List<PskDerivation> psks = PskDerivation.of(FernetKeyRing.of(key));
        Socket[] wire = sockets();
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO, psks, wire[0].getInputStream(), wire[0].getOutputStream(), wire[0], "server");
        SwitchOutput serverOutput = new SwitchOutput(wire[1].getOutputStream());
        RecordingTransport serverTransport = new RecordingTransport(wire[1], serverOutput);
        TlsEngine server = TlsEngine.server(
                Settings.CRYPTO, psks, wire[1].getInputStream(), serverOutput, serverTransport, "client");
        Future<?> accepted = pool.submit(() -> {
            server.handshake(10_000, wire[1]::setSoTimeout);
            return null;
        });
        client.handshake(10_000, wire[0]::setSoTimeout);
        accepted.get(10, TimeUnit.SECONDS);
        return new Pair(client, server, serverOutput, serverTransport);
    }

    /** The engine's record layer, by reflection: nothing else can see its keys go. */
    private static RecordLayer records(TlsEngine engine) throws ReflectiveOperationException {
        Field field = TlsEngine.class.getDeclaredField("records");
        field.setAccessible(true);
        return (RecordLayer) field.get(engine);
    }

    private static boolean destroyed(RecordLayer layer) throws ReflectiveOperationException {
        Field field = RecordLayer.class.getDeclaredField("destroyed");
        field.setAccessible(true);
        return field.getBoolean(layer);
    }

    /** Sends 10 bytes from the client and reads 3 at the server, leaving 7 decrypted and waiting there. */
    private static void leaveSevenBytesWaiting(Pair pair) throws IOException {
        assertEquals(0, pair.server().available(), "nothing has arrived yet");
        pair.client().write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 10);
        byte[] buffer = new byte[3];
        int got = 0;
        while (got < 3) {
            got += pair.server().read(buffer, got, 3 - got);
        }
        assertArrayEquals(new byte[] {1, 2, 3}, buffer);
        assertEquals(7, pair.server().available(), "the rest of the record waits, decrypted");
    }

    @Test
    void closeSaysGoodbyeClosesTheTransportAndWipesTheKeys() throws Exception {
        Pair pair = handshaken(newKey());
        leaveSevenBytesWaiting(pair);
        RecordLayer layer = records(pair.server());
        assertFalse(destroyed(layer));

        pair.server().close();
        assertEquals(0, pair.server().available());
        assertEquals(1, pair.serverTransport().closes.get(), "the goodbye left: a clean close");
        assertEquals(0, pair.serverTransport().cuts.get());
        assertTrue(destroyed(layer), "the keys are wiped");
        assertEquals(0, layer.available(), "and the data that waited with them");
        assertEquals(-1, pair.client().read(new byte[1], 0, 1), "the peer read close_notify");
        pair.client().close();
    }

    @Test
    void closeCutsTheTransportWhenTheGoodbyeCannotLeave() throws Exception {
        Pair pair = handshaken(newKey());
        RecordLayer layer = records(pair.server());
        pair.serverOutput().broken = true;

        pair.server().close();
        assertEquals(1, pair.serverTransport().cuts.get(), "no close_notify left: the wire is cut, not closed");
        assertEquals(0, pair.serverTransport().closes.get());
        assertTrue(destroyed(layer));
        pair.client().close();
    }

    @Test
    void closeCutsTheTransportUnderAWriterBlockedMidRecord() throws Exception {
        Pair pair = handshaken(newKey());
        pair.serverOutput().stalled = true; // the writer holds the wire until the transport is cut
        Future<IOException> writer = pool.submit(() ->
                assertThrows(IOException.class, () -> pair.server().write(new byte[100], 0, 100)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!pair.serverOutput().blocked && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(pair.serverOutput().blocked, "the writer is blocked");

        pair.server().close();
        // the released writer's failure may cut once more
        assertTrue(pair.serverTransport().cuts.get() >= 1, "no goodbye while a writer holds the wire: cut");
        assertEquals(0, pair.serverTransport().closes.get());
        writer.get(5, TimeUnit.SECONDS);
        pair.client().close();
    }

    @Test
    void closeWipesTheKeysEvenWhenEndingTheTransportFails() throws Exception {
        Pair clean = handshaken(newKey());
        RecordLayer cleanLayer = records(clean.server());
        clean.serverTransport().failToEnd = true;
        assertEquals(
                "close failed",
                assertThrows(IOException.class, clean.server()::close).getMessage());
        assertTrue(destroyed(cleanLayer));
        clean.server().close(); // once is enough, even after a failed close

        Pair cut = handshaken(newKey());
        RecordLayer cutLayer = records(cut.server());
        cut.serverTransport().failToEnd = true;
        cut.serverOutput().broken = true;
        assertEquals(
                "cut failed",
                assertThrows(IOException.class, cut.server()::close).getMessage());
        assertTrue(destroyed(cutLayer));
    }

    @Test
    void closeEndsTheTransportAndWipesTheKeysEvenWhenTheGoodbyeThrowsAnError() throws Exception {
        Pair pair = handshaken(newKey());
        leaveSevenBytesWaiting(pair);
        RecordLayer layer = records(pair.server());
        StackOverflowError error = new StackOverflowError("while sealing close_notify");
        pair.serverOutput().error = error;

        assertSame(error, assertThrows(StackOverflowError.class, pair.server()::close), "the Error is not hidden");
        assertEquals(
                1,
                pair.serverTransport().closes.get()
                        + pair.serverTransport().cuts.get(),
                "the transport is ended once all the same");
        assertTrue(destroyed(layer), "the keys are wiped all the same");
        assertEquals(0, layer.available(), "and the data that waited with them");
        pair.server().close(); // closed: a second close does nothing
        assertEquals(
                1,
                pair.serverTransport().closes.get()
                        + pair.serverTransport().cuts.get());
        pair.client().close();
    }

    @Test
    void closingBeforeTheHandshakeReportsTheTransportsOwnFailure() throws Exception {
        Socket[] wire = sockets();
        SwitchOutput output = new SwitchOutput(wire[0].getOutputStream());
        RecordingTransport transport = new RecordingTransport(wire[0], output);
        transport.failToEnd = true;
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                PskDerivation.of(FernetKeyRing.of(newKey())),
                wire[0].getInputStream(),
                output,
                transport,
                "server");
        assertEquals(0, client.available());
        assertEquals(
                "close failed", assertThrows(IOException.class, client::close).getMessage());
        assertEquals(1, transport.closes.get());
    }

    @Test
    void aGoodbyeThePeerNeverTakesIsCutAtItsDeadline() throws Exception {
        Pair pair = handshaken(newKey());
        RecordLayer layer = records(pair.server());
        pair.serverOutput().stalled = true; // as a peer that stopped reading with full buffers

        long start = System.nanoTime();
        Future<?> closing = pool.submit(() -> {
            pair.server().close();
            return null;
        });
        closing.get(TlsEngine.GOODBYE_MILLIS + 4_000, TimeUnit.MILLISECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis >= TlsEngine.GOODBYE_MILLIS - 50, "closed after " + millis + " ms");
        assertTrue(pair.serverTransport().cuts.get() >= 1, "the watchdog cut the wire");
        assertEquals(0, pair.serverTransport().closes.get(), "the goodbye did not leave");
        assertTrue(destroyed(layer));
        pair.client().close();
    }

    @Test
    void aWriteFailureIsFinalAndWipesTheKeys() throws Exception {
        Pair pair = handshaken(newKey());
        RecordLayer layer = records(pair.server());
        pair.serverOutput().broken = true;
        IOException failure =
                assertThrows(IOException.class, () -> pair.server().write(new byte[1], 0, 1));
        assertEquals("wire broken", failure.getMessage());
        assertTrue(destroyed(layer));
        assertEquals(1, pair.serverTransport().cuts.get());
        assertSame(
                failure,
                assertThrows(SSLException.class, () -> pair.server().read(new byte[1], 0, 1))
                        .getCause());
        pair.client().close();
    }

    @Test
    void aSecondThreadFailingTellsTheFirstFailuresStory() throws Exception {
        SecretKey key = newKey();
        List<PskDerivation> psks = PskDerivation.of(FernetKeyRing.of(key));
        Socket[] wire = sockets();
        Socket peer = wire[1];
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO, psks, wire[0].getInputStream(), wire[0].getOutputStream(), wire[0], "server");
        TlsEngine server =
                TlsEngine.server(Settings.CRYPTO, psks, peer.getInputStream(), peer.getOutputStream(), peer, "client");
        Future<?> accepted = pool.submit(() -> {
            server.handshake(10_000, peer::setSoTimeout);
            return null;
        });
        client.handshake(10_000, wire[0]::setSoTimeout);
        accepted.get(10, TimeUnit.SECONDS);

        // a writer blocks: the server's side reads nothing, so the socket buffers fill
        wire[0].setSendBufferSize(1 << 14);
        int size = 16 << 20;
        Future<IOException> writer =
                pool.submit(() -> assertThrows(IOException.class, () -> client.write(new byte[size], 0, size)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (peer.getInputStream().available() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(peer.getInputStream().available() > 0, "the writer is writing");
        Thread.sleep(100);
        // then the reader meets a forged record
        byte[] forged = new byte[5 + 32];
        forged[0] = 23;
        forged[1] = 3;
        forged[2] = 3;
        forged[4] = 32;
        peer.getOutputStream().write(forged);
        SSLException first = assertThrows(SSLException.class, () -> client.read(new byte[16], 0, 16));
        assertEquals(
                "record from server failed authentication: forged, corrupted or replayed data", first.getMessage());

        IOException second = writer.get(10, TimeUnit.SECONDS);
        assertTrue(second instanceof SSLException, second.toString());
        assertEquals(first.getMessage(), second.getMessage());
        assertSame(first, second.getCause());
        assertEquals(1, second.getSuppressed().length, "the writer's own failure is kept, suppressed");
    }

    @Test
    void aServerHandshakeWithNoTimeLeftTimesOutInsteadOfWaitingForever() throws Exception {
        Socket[] wire = sockets(); // the client end stays silent
        Metrics.register();
        long timeouts = failures("timeout");
        List<Integer> timeoutsSet = new CopyOnWriteArrayList<>();
        TlsEngine server = TlsEngine.server(
                Settings.CRYPTO,
                PskDerivation.of(FernetKeyRing.of(newKey())),
                wire[1].getInputStream(),
                wire[1].getOutputStream(),
                wire[1],
                "client");
        List<String> logged = new CopyOnWriteArrayList<>();
        Future<IOException> handshake = withEngineLog(
                logged,
                () -> pool.submit(() -> assertThrows(
                        IOException.class,
                        () -> server.handshake(0, millis -> {
                            timeoutsSet.add(millis);
                            wire[1].setSoTimeout(millis);
                        }))));
        IOException failure = handshake.get(5, TimeUnit.SECONDS);
        assertEquals("handshake with client did not complete within 0 ms", failure.getMessage());
        assertEquals(List.of(), timeoutsSet, "a read without a timeout would wait forever");
        assertEquals(timeouts + 1, failures("timeout"), "counted as a handshake failure");
        assertEquals(List.of(failure.getMessage()), logged, "logged once, in the exception's words");
    }

    @Test
    void aHandshakeIsCountedAndLoggedByTheKeyThatMatched() throws Exception {
        SecretKey key = newKey();
        Metrics.register();
        String identity = PskDerivation.of(FernetKeyRing.of(key)).get(0).identityText();
        long failuresBefore = allFailures();
        List<String> logged = new CopyOnWriteArrayList<>();
        Pair pair = withEngineLog(logged, () -> handshaken(key));
        assertEquals(2, keyConnections(identity), "both ends counted the key");
        assertEquals(
                List.of(
                        "handshake with client done, key 1 of the ring",
                        "handshake with server done, key 1 of the ring"),
                logged.stream().sorted().toList());
        pair.client().close();
        pair.server().close();
        assertEquals(failuresBefore, allFailures());
    }

    @Test
    void aHandshakeFlushesWhatItWrites() throws Exception {
        SecretKey key = newKey();
        List<PskDerivation> psks = PskDerivation.of(FernetKeyRing.of(key));
        Socket[] wire = sockets();
        // buffered outputs: bytes the engine does not flush never reach the peer, whose handshake then times out
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                psks,
                wire[0].getInputStream(),
                new BufferedOutputStream(wire[0].getOutputStream(), 1 << 16),
                wire[0],
                "server");
        TlsEngine server = TlsEngine.server(
                Settings.CRYPTO,
                psks,
                wire[1].getInputStream(),
                new BufferedOutputStream(wire[1].getOutputStream(), 1 << 16),
                wire[1],
                "client");
        Future<?> accepted = pool.submit(() -> {
            server.handshake(3_000, wire[1]::setSoTimeout);
            return null;
        });
        client.handshake(3_000, wire[0]::setSoTimeout);
        accepted.get(5, TimeUnit.SECONDS);
        client.write(new byte[] {42}, 0, 1);
        byte[] one = new byte[1];
        assertEquals(1, server.read(one, 0, 1));
        assertEquals(42, one[0]);
        client.close();
        server.close();
    }

    @Test
    void anotherThreadCanShutOutputWhileTheHandshakeWaits() throws Exception {
        Socket[] wire = sockets();
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                PskDerivation.of(FernetKeyRing.of(newKey())),
                wire[0].getInputStream(),
                wire[0].getOutputStream(),
                wire[0],
                "server");
        Future<IOException> handshake = pool.submit(
                () -> assertThrows(IOException.class, () -> client.handshake(10_000, wire[0]::setSoTimeout)));
        wire[1].setSoTimeout(5_000);
        DataInputStream peer = new DataInputStream(wire[1].getInputStream());
        byte[] clientHello = readRecord(peer);
        assertEquals(22, clientHello[0], "the ClientHello came");
        // the handshake thread now waits for a ServerHello; this thread closes our direction
        Future<?> shutdown = pool.submit(() -> {
            client.shutdownOutput();
            return null;
        });
        shutdown.get(5, TimeUnit.SECONDS);
        assertEquals(21, readRecord(peer)[0], "an alert followed: close_notify");
        wire[1].close();
        handshake.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aHandshakeSurvivesReadsOfOneAndOfNoBytes() throws Exception {
        SecretKey key = newKey();
        List<PskDerivation> psks = PskDerivation.of(FernetKeyRing.of(key));
        Socket[] wire = sockets();
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO, psks, stingy(wire[0].getInputStream()), wire[0].getOutputStream(), wire[0], "server");
        TlsEngine server = TlsEngine.server(
                Settings.CRYPTO, psks, stingy(wire[1].getInputStream()), wire[1].getOutputStream(), wire[1], "client");
        Future<?> accepted = pool.submit(() -> {
            server.handshake(10_000, wire[1]::setSoTimeout);
            return null;
        });
        client.handshake(10_000, wire[0]::setSoTimeout);
        accepted.get(10, TimeUnit.SECONDS);
        assertTrue(client.isHandshakeDone());
        assertEquals(0, server.matchedKeyIndex());
        client.close();
        server.close();
    }

    @Test
    void aHandshakeEndedByThePeerSaysWhetherItSentAnything() throws Exception {
        assertEquals(
                "connection with server ended during the handshake, before it sent anything",
                clientFailureAgainst(new byte[0]));
        assertEquals(
                "connection with server ended during the handshake", clientFailureAgainst(new byte[] {22, 3, 3, 0, 9}));
    }

    @Test
    void aHeaderThatCannotBeTlsGetsBouncyCastlesAlert() throws Exception {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                PskDerivation.of(FernetKeyRing.of(newKey())),
                new ByteArrayInputStream("SSH-2.0-OpenSSH_9.6\r\n".getBytes(StandardCharsets.US_ASCII)),
                sent,
                () -> {},
                "server");
        IOException failure = assertThrows(IOException.class, () -> client.handshake(5_000, millis -> {}));
        assertEquals("server is not a fernet-jca peer: it did not answer with TLS", failure.getMessage());
        DataInputStream wire = new DataInputStream(new ByteArrayInputStream(sent.toByteArray()));
        assertEquals(22, readRecord(wire)[0], "the ClientHello");
        byte[] alert = readRecord(wire);
        assertEquals(21, alert[0], "then an alert record");
        assertEquals(2, alert[5], "fatal");
        assertEquals(10, alert[6], "unexpected_message");
    }

    @Test
    void aHeaderIsRefusedForItsVersionOrItsLength() throws Exception {
        // Bouncy Castle judges content type and length but not the version byte, which our own alert then refuses
        assertEquals(AlertDescription.unexpected_message, alertFor(new byte[] {22, 4, 3, 0, 5}));
        assertEquals(AlertDescription.record_overflow, alertFor(new byte[] {22, 3, 3, 0x41, 0x01}), "2^14 + 257");
    }

    /** The alert a client handshake raises on reading {@code header} from its peer. */
    private static short alertFor(byte[] header) {
        IOException failure = clientHeaderException(header);
        assertTrue(failure.getCause() instanceof TlsFatalAlert, String.valueOf(failure.getCause()));
        return ((TlsFatalAlert) failure.getCause()).getAlertDescription();
    }

    private static IOException clientHeaderException(byte[] header) {
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                PskDerivation.of(FernetKeyRing.of(newKey())),
                new ByteArrayInputStream(header),
                new ByteArrayOutputStream(),
                () -> {},
                "server");
        return assertThrows(IOException.class, () -> client.handshake(5_000, millis -> {}));
    }

    @Test
    void aClientHelloSplitOverRecordsLeavesTheServerUnanswered() throws Exception {
        List<PskDerivation> serverPsks = PskDerivation.of(FernetKeyRing.of(newKey()));
        PskDerivation genuine = serverPsks.get(0);
        PskDerivation other = PskDerivation.of(FernetKeyRing.of(newKey())).get(0);
        Constructor<PskDerivation> constructor = PskDerivation.class.getDeclaredConstructor(byte[].class, byte[].class);
        constructor.setAccessible(true);
        PskDerivation impostor = constructor.newInstance(genuine.identity(), other.secret());

        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO, List.of(impostor), new ByteArrayInputStream(new byte[0]), sent, () -> {}, "server");
        assertThrows(IOException.class, () -> client.handshake(5_000, millis -> {}));
        byte[] hello = sent.toByteArray();
        int length = ((hello[3] & 0xff) << 8) | (hello[4] & 0xff);
        assertEquals(5 + length, hello.length, "one record: the ClientHello");
        int half = length / 2;
        ByteArrayOutputStream split = new ByteArrayOutputStream();
        split.write(new byte[] {22, 3, 3, (byte) (half >> 8), (byte) half});
        split.write(hello, 5, half);
        int rest = length - half;
        split.write(new byte[] {22, 3, 3, (byte) (rest >> 8), (byte) rest});
        split.write(hello, 5 + half, rest);

        TlsEngine server = TlsEngine.server(
                Settings.CRYPTO,
                serverPsks,
                new ByteArrayInputStream(split.toByteArray()),
                new ByteArrayOutputStream(),
                () -> {},
                "client");
        IOException failure = assertThrows(IOException.class, () -> server.handshake(5_000, millis -> {}));
        assertEquals(
                "client does not hold a matching Fernet key: it offered " + genuine.identityText()
                        + ", an identity we hold, with another secret (its PSK binder does not verify)",
                failure.getMessage(),
                "the first record asked for no answer, and none was sent");
    }

    /** Runs a client handshake that reads {@code header} from a "server" and returns the failure's message. */
    private static String clientHeaderFailure(byte[] header) {
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                PskDerivation.of(FernetKeyRing.of(newKey())),
                new ByteArrayInputStream(header),
                new ByteArrayOutputStream(),
                () -> {},
                "server");
        return assertThrows(IOException.class, () -> client.handshake(5_000, millis -> {}))
                .getMessage();
    }

    /** Runs a client handshake against a raw peer that sends {@code bytes} and ends; returns the failure's message. */
    private String clientFailureAgainst(byte[] bytes) throws Exception {
        Socket[] wire = sockets();
        wire[1].getOutputStream().write(bytes);
        wire[1].shutdownOutput();
        TlsEngine client = TlsEngine.client(
                Settings.CRYPTO,
                PskDerivation.of(FernetKeyRing.of(newKey())),
                wire[0].getInputStream(),
                wire[0].getOutputStream(),
                wire[0],
                "server");
        return assertThrows(IOException.class, () -> client.handshake(5_000, wire[0]::setSoTimeout))
                .getMessage();
    }

    /** Reads one plaintext record, header included. */
    private static byte[] readRecord(DataInputStream in) throws IOException {
        byte[] header = new byte[5];
        in.readFully(header);
        int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        byte[] record = new byte[5 + length];
        System.arraycopy(header, 0, record, 0, 5);
        in.readFully(record, 5, length);
        return record;
    }

    /** A stream whose first read gives one byte and second none, as a slow or non-blocking source may. */
    private static InputStream stingy(InputStream in) {
        return new FilterInputStream(in) {
            private int reads;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                reads++;
                if (reads == 2) {
                    return 0;
                }
                return super.read(b, off, reads == 1 ? Math.min(1, len) : len);
            }
        };
    }

    /** Work that may throw. */
    private interface Action<T> {
        T run() throws Exception;
    }

    /** Runs {@code action} with the engine's DEBUG lines collected in {@code logged}. */
    private static <T> T withEngineLog(List<String> logged, Action<T> action) throws Exception {
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        handler.setLevel(Level.ALL);
        Level level = ENGINE_LOG.getLevel();
        ENGINE_LOG.setLevel(Level.FINE);
        ENGINE_LOG.addHandler(handler);
        try {
            T result = action.run();
            if (result instanceof Future<?> future) {
                try {
                    future.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    // the caller looks at the outcome
                }
            }
            return result;
        } finally {
            ENGINE_LOG.removeHandler(handler);
            ENGINE_LOG.setLevel(level);
        }
    }

    private static ObjectName mbean() throws Exception {
        return new ObjectName("dev.fernetjca:type=Sockets");
    }

    private static long failures(String reason) throws Exception {
        TabularData table = (TabularData) MBEANS.getAttribute(mbean(), "HandshakeFailures");
        return (Long) table.get(new Object[] {reason}).get("count");
    }

    private static long allFailures() throws Exception {
        long total = 0;
        for (String reason : TlsFailures.REASONS) {
            total += failures(reason);
        }
        return total;
    }

    private static long keyConnections(String identity) throws Exception {
        TabularData table = (TabularData) MBEANS.getAttribute(mbean(), "KeyConnections");
        CompositeData row = table.get(new Object[] {identity});
        return row == null ? 0 : (Long) row.get("count");
    }
}
