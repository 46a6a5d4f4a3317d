package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * {@link FernetKeyRing#parseKeys} fed any text: it returns a ring or throws {@link IllegalArgumentException}, and the
 * message never repeats an entry of what it was given, since that text may be a key typed into the wrong place.
 * Regression inputs: {@code KeyTextFuzzTestInputs/parsesOrRejectsWithoutEchoing/}.
 */
class KeyTextFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void parsesOrRejectsWithoutEchoing(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            FernetKeyRing ring = FernetKeyRing.parseKeys(text);
            assertTrue(ring.size() >= 1 && ring.size() <= 16, "ring of " + ring.size());
            ring.destroy();
        } catch (IllegalArgumentException e) {
            KeyTextChecks.assertNoEcho(e.getMessage(), text, ",");
        }
    }
}
