package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetParameterSpec;
import dev.fernetjca.testing.Fuzzing;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;

/**
 * The fernet-tokens line reader fed a fuzzed mix of real tokens (some ending in CR LF), garbage lines, and a possibly
 * unfinished last line. The oracle is exact: the reader returns the plaintext of the leading real tokens, in order,
 * and nothing of what follows the first bad line; it ends cleanly only if every line was a real token, and otherwise
 * fails with an {@link IOException}, never an unchecked exception. Regression inputs:
 * {@code TokenLineStreamFuzzTestInputs/returnsTheLeadingTokensThenFails/}.
 */
class TokenLineStreamFuzzTest {
    static {
        Fuzzing.quietLogsWhileFuzzing();
    }

    private static final SecretKey KEY = SocketTestSupport.newKey();
    private static final FernetKeyRing RING = FernetKeyRing.of(KEY);
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final FernetParameterSpec AT_NOW =
            FernetParameterSpec.defaults().withClock(Clock.fixed(NOW, ZoneOffset.UTC));

    @FuzzTest(maxDuration = "10m")
    void returnsTheLeadingTokensThenFails(FuzzedDataProvider data) throws Exception {
        Cipher encrypt = Cipher.getInstance("Fernet", SocketTestSupport.PROVIDER);
        encrypt.init(Cipher.ENCRYPT_MODE, KEY, AT_NOW);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        boolean allGood = true;
        int lines = data.consumeInt(0, 8);
        for (int i = 0; i < lines; i++) {
            if (data.consumeBoolean()) {
                byte[] plaintext = data.consumeBytes(data.consumeInt(0, 512));
                wire.writeBytes(encrypt.doFinal(plaintext));
                if (allGood) {
                    expected.writeBytes(plaintext);
                }
            } else {
                // anything but a newline: a line that is no token (empty included)
                byte[] garbage = data.consumeBytes(data.consumeInt(0, 256));
                for (int j = 0; j < garbage.length; j++) {
                    garbage[j] = garbage[j] == '\n' ? (byte) ' ' : garbage[j];
                }
                wire.writeBytes(garbage);
                allGood = false;
            }
            wire.writeBytes(data.consumeBoolean() ? new byte[] {'\r', '\n'} : new byte[] {'\n'});
        }
        byte[] tail = data.consumeRemainingAsBytes(); // an unfinished line, newlines and all
        wire.writeBytes(tail);
        byte[] input = wire.toByteArray();

        ByteArrayOutputStream got = new ByteArrayOutputStream();
        IOException failure = null;
        TokenLineStream stream = open(new ByteArrayInputStream(input), OutputStream.nullOutputStream());
        try {
            byte[] buffer = new byte[1 + lines * 97 % 4096];
            for (int n; (n = stream.read(buffer, 0, buffer.length)) >= 0; ) {
                got.write(buffer, 0, n);
            }
        } catch (IOException e) {
            failure = e;
        } finally {
            stream.close();
        }
        if (failure == null) {
            // a garbage line, or a tail that is not a whole token, is a real token only with negligible probability
            assertTrue(allGood, "garbage line accepted");
            assertEquals(0, tail.length, "a tail of " + tail.length + " bytes ended cleanly");
            assertArrayEquals(expected.toByteArray(), got.toByteArray(), "plaintext changed");
        } else {
            byte[] want = expected.toByteArray();
            byte[] have = got.toByteArray();
            assertTrue(have.length <= want.length, "returned more than the leading tokens held");
            for (int i = 0; i < have.length; i++) {
                assertEquals(want[i], have[i], "plaintext changed at byte " + i);
            }
            if (allGood && tail.length == 0) {
                throw new AssertionError("only real tokens, yet the stream failed", failure);
            }
            assertFalse(failure.getMessage() == null || failure.getMessage().isEmpty(), "failure without a message");
        }
    }

    private static TokenLineStream open(InputStream rawIn, OutputStream rawOut) {
        return new TokenLineStream(RING, AT_NOW, rawIn, rawOut, rawIn, "fuzz peer");
    }
}
