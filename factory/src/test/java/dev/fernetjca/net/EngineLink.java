package dev.fernetjca.net;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;

/**
 * Two engines joined by in-memory wires that deliver at most {@code maxFragment} bytes at a time (a random size, from a
 * seed), driven the way the JDK's SSLEngine documentation shows: wrap what is to send, unwrap what arrived, grow a
 * buffer on overflow, wait for more bytes on underflow. Records what each side received and each FINISHED. Test code.
 */
final class EngineLink {
    final End client;
    final End server;
    private final Random random;
    private final int maxFragment;

    EngineLink(SSLEngine client, SSLEngine server, int maxFragment, long seed) {
        client.setUseClientMode(true);
        server.setUseClientMode(false);
        this.client = new End(client);
        this.server = new End(server);
        this.random = new Random(seed);
        this.maxFragment = maxFragment;
    }

    /** One side: its engine, what it has to send and what it received. */
    static final class End {
        final SSLEngine engine;
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final ByteArrayOutputStream wire = new ByteArrayOutputStream(); // sent, not yet delivered
        ByteBuffer toSend = ByteBuffer.allocate(0);
        ByteBuffer netIn;
        int finished;
        boolean inboundClosed;

        End(SSLEngine engine) {
            this.engine = engine;
            this.netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        }

        void send(byte[] data) {
            ByteBuffer more = ByteBuffer.allocate(toSend.remaining() + data.length);
            more.put(toSend).put(data).flip();
            toSend = more;
        }

        /** Wraps until the engine has nothing more to say; tells whether it produced anything. */
        boolean wrapAll() throws SSLException {
            boolean progress = false;
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            while (true) {
                out.clear();
                SSLEngineResult result = engine.wrap(toSend, out);
                if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                    throw new AssertionError("overflow with a buffer of the packet size");
                }
                count(result);
                wire.write(out.array(), 0, out.position());
                if (result.bytesProduced() == 0 && result.bytesConsumed() == 0) {
                    return progress;
                }
                progress = true;
                if (result.getStatus() == Status.CLOSED) {
                    return true;
                }
            }
        }

        /** Unwraps everything whole in {@link #netIn}; tells whether anything was consumed. */
        boolean unwrapAll() throws SSLException {
            boolean progress = false;
            ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
            netIn.flip();
            try {
                while (!inboundClosed) {
                    app.clear();
                    SSLEngineResult result = engine.unwrap(netIn, app);
                    count(result);
                    received.write(app.array(), 0, app.position());
                    if (result.getStatus() == Status.CLOSED) {
                        inboundClosed = true;
                    }
                    if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                        throw new AssertionError("overflow with a buffer of the application size");
                    }
                    if (result.bytesConsumed() == 0) {
                        return progress;
                    }
                    progress = true;
                }
                return progress;
            } finally {
                netIn.compact();
            }
        }

        private void count(SSLEngineResult result) {
            if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                finished++;
            }
        }
    }

    /** Moves a fragment of what {@code from} sent into {@code to}'s network buffer; tells whether anything moved. */
    private boolean deliver(End from, End to) {
        byte[] bytes = from.wire.toByteArray();
        if (bytes.length == 0) {
            return false;
        }
        int n = Math.min(Math.min(bytes.length, 1 + random.nextInt(maxFragment)), to.netIn.remaining());
        to.netIn.put(bytes, 0, n);
        from.wire.reset();
        from.wire.write(bytes, n, bytes.length - n);
        return n > 0;
    }

    /** Runs both ends until neither makes progress: handshakes, data, alerts. */
    void run() throws SSLException {
        for (boolean progress = true; progress; ) {
            progress = client.wrapAll() | server.wrapAll();
            progress |= deliver(client, server) | deliver(server, client);
            progress |= server.unwrapAll() | client.unwrapAll();
        }
    }
}
