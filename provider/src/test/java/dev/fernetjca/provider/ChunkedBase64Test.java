package dev.fernetjca.provider;

import static dev.fernetjca.provider.ChunkedBase64.CHUNKED_ABOVE_BYTES;
import static dev.fernetjca.provider.ChunkedBase64.CHUNK_BYTES;
import static dev.fernetjca.provider.ChunkedBase64.CHUNK_CHARS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chunked codec against the JDK's codec over the whole array: the same text out, the same bytes back, and the
 * same verdict on every text, whichever chunk a flaw falls in.
 */
class ChunkedBase64Test {
    private static final byte[] REPLACEMENTS = {'=', '+', '/', ' ', '\n', '.', (byte) 0x80, 0, 'A', '-', '_'};

    /** Lengths of raw bytes on both sides of where chunking starts and of the chunk boundaries after it. */
    static IntStream rawLengths() {
        IntStream small = IntStream.rangeClosed(0, 8);
        IntStream boundaries = IntStream.rangeClosed(0, 2)
                .map(k -> CHUNKED_ABOVE_BYTES + k * CHUNK_BYTES)
                .flatMap(boundary -> IntStream.rangeClosed(boundary - 4, boundary + 4));
        return IntStream.concat(small, boundaries);
    }

    @ParameterizedTest
    @MethodSource("rawLengths")
    void encodesInPlaceAsTheJdkEncodesTheWholeArray(int rawBytes) {
        byte[] raw = randomBytes(rawBytes);
        byte[] expected = Base64.getUrlEncoder().encode(raw);
        for (int offset : new int[] {0, 7}) {
            byte[] buffer = new byte[offset + expected.length + 3];
            Arrays.fill(buffer, (byte) '#');
            System.arraycopy(raw, 0, buffer, offset + expected.length - rawBytes, rawBytes);
            ChunkedBase64.encodeInPlace(buffer, offset, rawBytes);
            assertArrayEquals(expected, Arrays.copyOfRange(buffer, offset, offset + expected.length));
            byte[] untouched = new byte[offset];
            Arrays.fill(untouched, (byte) '#');
            assertArrayEquals(untouched, Arrays.copyOf(buffer, offset), "bytes before the text changed");
            assertArrayEquals(
                    new byte[] {'#', '#', '#'},
                    Arrays.copyOfRange(buffer, buffer.length - 3, buffer.length),
                    "bytes after the text changed");
        }
    }

    @ParameterizedTest
    @MethodSource("rawLengths")
    void decodesAsTheJdkDecodesTheWholeText(int rawBytes) {
        byte[] raw = randomBytes(rawBytes);
        byte[] text = Base64.getUrlEncoder().encode(raw);
        assertArrayEquals(raw, ChunkedBase64.decode(text, 0, text.length));
        byte[] framed = new byte[text.length + 10];
        System.arraycopy(text, 0, framed, 5, text.length);
        assertArrayEquals(raw, ChunkedBase64.decode(framed, 5, text.length));
    }

    /**
     * Every character near a chunk boundary or the end, replaced by padding, a character of the other alphabet,
     * white space or a non-ASCII byte: the chunks must not accept padding in the middle, which each chunk on its own
     * would take for an end.
     */
    @Test
    void rejectsExactlyWhatTheJdkRejectsOfTheWholeText() {
        byte[] raw = randomBytes(CHUNKED_ABOVE_BYTES + 2 * CHUNK_BYTES + 1);
        byte[] text = Base64.getUrlEncoder().encode(raw);
        List<Integer> positions = new ArrayList<>();
        List<Integer> boundaries = new ArrayList<>();
        for (int boundary = CHUNK_CHARS; boundary <= text.length; boundary += CHUNK_CHARS) {
            boundaries.add(boundary);
        }
        boundaries.add(text.length);
        for (int boundary : boundaries) {
            for (int i = boundary - 6; i < Math.min(text.length, boundary + 6); i++) {
                positions.add(i);
            }
        }
        positions.add(0);
        int rejected = 0;
        for (int position : positions) {
            for (byte replacement : REPLACEMENTS) {
                byte[] changed = text.clone();
                changed[position] = replacement;
                rejected += sameVerdict(changed, "'" + (char) replacement + "' at " + position);
            }
            // padding of two at the end of a chunk that is not the last
            if (position >= 1) {
                byte[] changed = text.clone();
                changed[position - 1] = '=';
                changed[position] = '=';
                rejected += sameVerdict(changed, "\"==\" at " + (position - 1));
            }
        }
        // most of these are invalid, so a codec that accepted everything would fail above; make sure they were tried
        assertTrue(rejected > positions.size() * 5, "too few invalid texts: " + rejected);
    }

    @Test
    void rejectsTextThatIsNotWholeGroupsOfFour() {
        byte[] text = Base64.getUrlEncoder().withoutPadding().encode(new byte[CHUNKED_ABOVE_BYTES + 1]);
        assertThrows(IllegalArgumentException.class, () -> ChunkedBase64.decode(text, 0, text.length));
    }

    private static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        new SplittableRandom(length).nextBytes(bytes);
        return bytes;
    }

    /** Returns 1 if both rejected the text, 0 if both accepted it with the same bytes; fails otherwise. */
    private static int sameVerdict(byte[] text, String what) {
        byte[] expected;
        try {
            expected = Base64.getUrlDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            assertThrows(
                    IllegalArgumentException.class,
                    () -> ChunkedBase64.decode(text, 0, text.length),
                    "the JDK rejects, the chunks accept: " + what);
            return 1;
        }
        try {
            assertArrayEquals(expected, ChunkedBase64.decode(text, 0, text.length), what);
        } catch (IllegalArgumentException e) {
            fail("the JDK accepts, the chunks reject: " + what, e);
        }
        return 0;
    }
}
