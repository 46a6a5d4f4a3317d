package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

/**
 * The fernet-tokens stream over in-memory streams: what {@code available} counts, the handshake timeout it takes,
 * what a blank line is, and what closing and failing do to the transport.
 */
class TokenLineStreamRulesTest {
    private final AtomicBoolean transportClosed = new AtomicBoolean();

    private TokenLineStream stream(SecretKey key, byte[] input, ByteArrayOutputStream output) {
        return new TokenLineStream(
                FernetKeyRing.of(key),
                FernetParameterSpec.defaults(),
                new ByteArrayInputStream(input),
                // buffered, so that a write that forgets to flush shows
                new BufferedOutputStream(output, 1 << 20),
                () -> transportClosed.set(true),
                "peer");
    }

    private static byte[] lines(SecretKey key, String... plaintexts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String plaintext : plaintexts) {
            out.write(Fernet.of(key).encrypt(plaintext.getBytes(US_ASCII)));
            out.write('\n');
        }
        return out.toByteArray();
    }

    @Test
    void availableCountsTheDecryptedBytesNotYetRead() throws Exception {
        SecretKey key = newKey();
        TokenLineStream stream = stream(key, lines(key, "hello", "world!"), new ByteArrayOutputStream());
        assertEquals(0, stream.available(), "nothing decrypted before a read");
        byte[] buffer = new byte[2];
        assertEquals(2, stream.read(buffer, 0, 2));
        assertEquals(3, stream.available());
        byte[] rest = new byte[16];
        assertEquals(3, stream.read(rest, 0, rest.length), "a read returns what one token holds");
        assertEquals(0, stream.available());
        assertEquals(6, stream.read(rest, 0, rest.length));
        assertEquals(-1, stream.read(rest, 0, rest.length));
        assertEquals(-1, stream.read(rest, 0, rest.length), "the end stays the end");
        assertEquals(0, stream.read(rest, 0, 0));
        stream.close();
        assertEquals(0, stream.available());
        assertTrue(transportClosed.get());
    }

    @Test
    void theHandshakeOnlyTakesAPositiveTimeout() {
        TokenLineStream stream = stream(newKey(), new byte[0], new ByteArrayOutputStream());
        assertFalse(stream.isHandshakeDone());
        stream.handshake(0, millis -> {});
        assertTrue(stream.isHandshakeDone());
    }

    @Test
    void eachWriteIsFlushedAsWholeLines() throws Exception {
        SecretKey key = newKey();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        TokenLineStream stream = stream(key, new byte[0], output);
        byte[] data = new byte[TokenLineStream.CHUNK_BYTES + 1];
        data[0] = 42;
        stream.write(data, 0, data.length);
        String[] written = new String(output.toByteArray(), US_ASCII).split("\n", -1);
        assertEquals(3, written.length, "two tokens, each ending in a newline, flushed");
        assertEquals(TokenLineStream.CHUNK_BYTES, Fernet.of(key).decrypt(written[0].getBytes(US_ASCII)).length);
        assertArrayEquals(new byte[1], Fernet.of(key).decrypt(written[1].getBytes(US_ASCII)));
        assertEquals("", written[2]);

        stream.close();
        assertEquals(
                "socket is closed",
                assertThrows(SocketException.class, () -> stream.write(data, 0, 1))
                        .getMessage());
    }

    @Test
    void anEmptyLineIsNotAToken() throws Exception {
        SecretKey key = newKey();
        for (String line : new String[] {"\n", "\r\n"}) {
            TokenLineStream stream = stream(key, line.getBytes(US_ASCII), new ByteArrayOutputStream());
            ProtocolException e =
                    assertThrows(ProtocolException.class, () -> stream.read(new byte[8], 0, 8), line.strip());
            assertEquals("token from peer rejected: malformed token", e.getMessage());
            assertTrue(transportClosed.getAndSet(false), "a failure closes the transport");
        }
    }

    @Test
    void aCarriageReturnBeforeTheNewlineIsDropped() throws Exception {
        SecretKey key = newKey();
        byte[] token = Fernet.of(key).encrypt("crlf".getBytes(US_ASCII));
        byte[] input = new byte[token.length + 2];
        System.arraycopy(token, 0, input, 0, token.length);
        input[token.length] = '\r';
        input[token.length + 1] = '\n';
        TokenLineStream stream = stream(key, input, new ByteArrayOutputStream());
        byte[] buffer = new byte[8];
        assertEquals(4, stream.read(buffer, 0, 8));
        assertEquals("crlf", new String(buffer, 0, 4, US_ASCII));
        assertEquals(-1, stream.read(buffer, 0, 8));
    }
}
