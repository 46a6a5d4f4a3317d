package dev.fernetjca.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The relay's faults, each seen from the client through an echo server: what a soak or fault test relies on. */
@Timeout(30)
class RelayTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final byte[] MESSAGE = message(10_000);

    private static byte[] message(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        return bytes;
    }

    /** Writes the message, half-closes, and returns what came back before the stream ended cleanly. */
    private static byte[] echoed(Relay relay) throws IOException {
        try (Socket client = new Socket(LOOPBACK, relay.port())) {
            client.setSoTimeout(10_000);
            client.getOutputStream().write(MESSAGE);
            client.shutdownOutput();
            return client.getInputStream().readAllBytes();
        }
    }

    @Test
    void forwardsAndRecordsBothDirectionsWithHalfClose() throws Exception {
        try (EchoServer echo = new EchoServer();
                Relay relay = Relay.to(echo.port())) {
            assertArrayEquals(MESSAGE, echoed(relay));
            assertEquals(1, relay.connections());
            assertArrayEquals(MESSAGE, relay.connection(0).upstream());
            assertArrayEquals(MESSAGE, relay.connection(0).downstream());
        }
    }

    @Test
    void flipsOneBitAtTheOffset() throws Exception {
        try (EchoServer echo = new EchoServer();
                Relay relay = Relay.to(echo.port())) {
            relay.flipByteAt(Relay.Direction.TO_SERVER, 1234);
            byte[] expected = MESSAGE.clone();
            expected[1234] ^= 1;
            assertArrayEquals(expected, echoed(relay));
        }
    }

    @Test
    void cutEndsBothSidesCleanlyAfterTheOffset() throws Exception {
        try (EchoServer echo = new EchoServer();
                Relay relay = Relay.to(echo.port())) {
            relay.inject(Relay.Fault.CUT, Relay.Direction.TO_CLIENT, 4000);
            assertArrayEquals(Arrays.copyOf(MESSAGE, 4000), echoed(relay));
        }
    }

    @Test
    void resetEndsTheClientWithAConnectionReset() throws Exception {
        try (EchoServer echo = new EchoServer();
                Relay relay = Relay.to(echo.port())) {
            relay.inject(Relay.Fault.RESET, Relay.Direction.TO_CLIENT, 4000);
            try (Socket client = new Socket(LOOPBACK, relay.port())) {
                client.setSoTimeout(10_000);
                client.getOutputStream().write(MESSAGE);
                client.shutdownOutput();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                SocketException reset = assertThrows(SocketException.class, () -> copy(client.getInputStream(), got));
                assertTrue(String.valueOf(reset.getMessage()).contains("reset"), reset.toString());
                assertTrue(got.size() <= 4000, got.size() + " bytes before the reset");
            }
        }
    }

    @Test
    void stallHoldsTheConnectionOpenWithoutBytes() throws Exception {
        try (EchoServer echo = new EchoServer();
                Relay relay = Relay.to(echo.port())) {
            relay.inject(Relay.Fault.STALL, Relay.Direction.TO_CLIENT, 4000);
            try (Socket client = new Socket(LOOPBACK, relay.port())) {
                client.setSoTimeout(1_000);
                client.getOutputStream().write(MESSAGE);
                client.shutdownOutput();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                assertThrows(SocketTimeoutException.class, () -> copy(client.getInputStream(), got));
                assertArrayEquals(Arrays.copyOf(MESSAGE, 4000), got.toByteArray());
            }
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) throws IOException {
        byte[] buffer = new byte[1024];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(buffer, 0, n);
        }
    }
}
