package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.management.ManagementFactory;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;

/**
 * Token decryption fed anything: the only failure a caller may see is {@link AEADBadTagException}, and what a decrypt
 * allocates is bounded by the token's length, so a peer cannot make a small token cost a large buffer.
 *
 * <p>Inputs are shaped so the fuzzer reaches every check, not only the base64 decoder: raw bytes, base64 of fuzzed
 * bytes behind a valid version byte (reaching the HMAC), and real tokens with fuzzed edits (reaching padding and the
 * clock). Regression inputs: {@code TokenDecryptionFuzzTestInputs/decryptsOrRejectsAsABadTag/}.
 */
class TokenDecryptionFuzzTest {
    private static final FernetProvider PROVIDER = TestVectors.PROVIDER;
    private static final SecretKey KEY = key("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Room for the cipher's fixed working set; beyond it, allocation must grow with the input, not faster. */
    private static final long FIXED_ALLOCATION_BYTES = 256 * 1024;

    private static final long ALLOCATION_PER_INPUT_BYTE = 16;

    private static SecretKey key(String text) {
        try {
            return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(new FernetKeySpec(text));
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void decryptsOrRejectsAsABadTag(FuzzedDataProvider data) throws Exception {
        int shape = data.consumeInt(0, 2);
        Duration ttl = data.consumeBoolean() ? Duration.ofSeconds(data.consumeInt(1, 1_000_000)) : null;
        byte[] token = switch (shape) {
            case 0 -> data.consumeRemainingAsBytes();
            case 1 -> versioned(data.consumeRemainingAsBytes());
            default -> edited(data);
        };
        FernetParameterSpec spec = FernetParameterSpec.defaults().withClock(Clock.fixed(NOW, ZoneOffset.UTC));
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, KEY, ttl == null ? spec : spec.withTtl(ttl));

        decrypt(cipher, token); // the first pass also loads and initialises what it meets
        long before = THREADS.getCurrentThreadAllocatedBytes();
        decrypt(cipher, token); // so that the second pass is the steady-state cost
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        long bound = FIXED_ALLOCATION_BYTES + ALLOCATION_PER_INPUT_BYTE * token.length;
        assertTrue(allocated <= bound, "decrypting " + token.length + " bytes allocated " + allocated);
    }

    private static void decrypt(Cipher cipher, byte[] token) throws Exception {
        try {
            cipher.doFinal(token); // a real token may result from edits of one: fine
        } catch (AEADBadTagException expected) {
            // the one failure a caller may see for any bad input
        }
    }

    /** Base64 of fuzzed bytes with the version byte in front, so that only the layout and the HMAC can reject it. */
    private static byte[] versioned(byte[] body) {
        byte[] raw = new byte[body.length + 1];
        raw[0] = Token.VERSION;
        System.arraycopy(body, 0, raw, 1, body.length);
        return Base64.getUrlEncoder().encode(raw);
    }

    /** A real token of fuzzed plaintext and time, then fuzzed edits to its characters. */
    private static byte[] edited(FuzzedDataProvider data) throws Exception {
        long age = data.consumeLong(-120, 10_000_000);
        byte[] plaintext = data.consumeBytes(data.consumeInt(0, 2048));
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(
                Cipher.ENCRYPT_MODE,
                KEY,
                FernetParameterSpec.defaults().withClock(Clock.fixed(NOW.minusSeconds(age), ZoneOffset.UTC)));
        byte[] token = cipher.doFinal(plaintext);
        int edits = data.consumeInt(0, 4);
        for (int i = 0; i < edits && token.length > 0; i++) {
            token[data.consumeInt(0, token.length - 1)] = data.consumeByte();
        }
        return token;
    }
}
