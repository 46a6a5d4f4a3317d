package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.net.ProtocolException;
import java.util.Arrays;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fernet-tokens stream at its exact edges: the unauthenticated line limit, what the read buffers hold after lines
 * of given lengths, a zero handshake timeout, and the plaintext wiped as it is handed out and at close.
 */
@Timeout(30)
class TokenLineStreamEdgesTest {
    private static final int READ_AHEAD_BYTES = 8192;
    private static final int LINE_BUFFER_BYTES = 8192;

    private final SecretKey key = newKey();

    private TokenLineStream stream(InputStream input) {
        return new TokenLineStream(
                FernetKeyRing.of(key),
                FernetParameterSpec.defaults(),
                input,
                new ByteArrayOutputStream(),
                () -> {},
                "peer");
    }

    private byte[] line(byte[] plaintext) {
        byte[] token = Fernet.of(key).encrypt(plaintext);
        byte[] line = Arrays.copyOf(token, token.length + 1);
        line[token.length] = '\n';
        return line;
    }

    private static byte[] plaintextBuffer(TokenLineStream stream) throws ReflectiveOperationException {
        Field field = TokenLineStream.class.getDeclaredField("plaintext");
        field.setAccessible(true);
        return (byte[]) field.get(stream);
    }

    @Test
    void aLineOfExactlyTheUnauthenticatedLimitIsJudgedAsAToken() {
        byte[] atLimit = new byte[TokenLineStream.UNAUTHENTICATED_LINE_BYTES + 1];
        Arrays.fill(atLimit, (byte) 'A');
        atLimit[atLimit.length - 1] = '\n';
        ProtocolException judged = assertThrows(
                ProtocolException.class,
                () -> stream(new ByteArrayInputStream(atLimit)).read(new byte[8], 0, 8));
        assertTrue(judged.getMessage().startsWith("token from peer rejected"), judged::getMessage);

        byte[] over = new byte[atLimit.length + 1];
        Arrays.fill(over, (byte) 'A');
        over[over.length - 1] = '\n';
        ProtocolException refused = assertThrows(
                ProtocolException.class,
                () -> stream(new ByteArrayInputStream(over)).read(new byte[8], 0, 8));
        assertTrue(
                refused.getMessage().contains("exceeds " + TokenLineStream.UNAUTHENTICATED_LINE_BYTES),
                refused::getMessage);
    }

    @Test
    void theBuffersHeldAreTheReadAheadTheLineAndTheUnreadPlaintext() throws IOException {
        byte[] plaintext = "hello, world".getBytes(US_ASCII);
        TokenLineStream stream = stream(new ByteArrayInputStream(line(plaintext)));
        assertEquals(READ_AHEAD_BYTES + LINE_BUFFER_BYTES, stream.bufferedCapacity());
        assertEquals(2, stream.read(new byte[2], 0, 2));
        assertEquals(READ_AHEAD_BYTES + LINE_BUFFER_BYTES + plaintext.length, stream.bufferedCapacity());
    }

    /** A line longer than the buffer doubles it, up to the limit; one that needed the whole limit keeps it. */
    @Test
    void theLineBufferDoublesAndIsKeptUpToTheUnauthenticatedLimit() throws IOException {
        byte[] medium = new byte[7000]; // a token of about 9.4 KB: the line buffer doubles once
        byte[] large = new byte[30_000]; // about 40 KB: doubled to the limit of 64 KiB
        TokenLineStream mediumStream = stream(new ByteArrayInputStream(line(medium)));
        assertEquals(1, mediumStream.read(new byte[1], 0, 1));
        assertEquals(READ_AHEAD_BYTES + 2 * LINE_BUFFER_BYTES + medium.length, mediumStream.bufferedCapacity());

        TokenLineStream largeStream = stream(new ByteArrayInputStream(line(large)));
        assertEquals(1, largeStream.read(new byte[1], 0, 1));
        assertEquals(
                READ_AHEAD_BYTES + TokenLineStream.UNAUTHENTICATED_LINE_BYTES + large.length,
                largeStream.bufferedCapacity());
    }

    /** A zero handshake timeout leaves the default deadline, so a line that comes in pieces still arrives. */
    @Test
    void aZeroHandshakeTimeoutKeepsTheDefaultLineDeadline() throws IOException {
        byte[] plaintext = new byte[64];
        Arrays.fill(plaintext, (byte) 'p');
        TokenLineStream stream = stream(new FragmentingInputStream(new ByteArrayInputStream(line(plaintext)), 7, 3));
        stream.handshake(0, millis -> {});
        byte[] got = new byte[plaintext.length];
        assertEquals(plaintext.length, stream.read(got, 0, got.length));
        assertArrayEquals(plaintext, got);
    }

    @Test
    void plaintextIsWipedAsItIsHandedOutAndAtClose() throws Exception {
        byte[] plaintext = "secret reply".getBytes(US_ASCII);
        TokenLineStream stream = stream(new ByteArrayInputStream(line(plaintext)));
        byte[] first = new byte[6];
        assertEquals(6, stream.read(first, 0, 6));
        byte[] held = plaintextBuffer(stream);
        assertArrayEquals(new byte[6], Arrays.copyOf(held, 6), "handed out: wiped");
        assertArrayEquals(Arrays.copyOfRange(plaintext, 6, plaintext.length), Arrays.copyOfRange(held, 6, held.length));
        stream.close();
        assertArrayEquals(new byte[plaintext.length], held, "unread at close: wiped");
    }
}
