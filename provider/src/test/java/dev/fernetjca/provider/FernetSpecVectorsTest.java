package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fernetjca.provider.TestVectors.Vector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The official spec vectors and this project's boundary vectors, under whichever backend the build selects. */
class FernetSpecVectorsTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("generateVectors")
    void generatesTheExactToken(Vector vector) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", TestVectors.PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, vector.key(), vector.encryptParameters());
        byte[] token = cipher.doFinal(vector.src().getBytes(StandardCharsets.UTF_8));
        assertEquals(vector.token(), new String(token, StandardCharsets.US_ASCII));
        assertArrayEquals(vector.iv(), cipher.getIV());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verifyVectors")
    void decryptsVerifyVector(Vector vector) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", TestVectors.PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, vector.key(), vector.decryptParameters());
        assertEquals(vector.src(), new String(cipher.doFinal(vector.tokenBytes()), StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidVectors")
    void rejectsInvalidVector(Vector vector) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", TestVectors.PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, vector.key(), vector.decryptParameters());
        AEADBadTagException e = assertThrows(AEADBadTagException.class, () -> cipher.doFinal(vector.tokenBytes()));
        assertNotNull(e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("boundaryVectors")
    void judgesBoundaryAsPythonDoes(Vector vector) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet", TestVectors.PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, vector.key(), vector.decryptParameters());
        if (vector.valid()) {
            assertEquals(vector.src(), new String(cipher.doFinal(vector.tokenBytes()), StandardCharsets.UTF_8));
        } else {
            assertThrows(AEADBadTagException.class, () -> cipher.doFinal(vector.tokenBytes()));
        }
    }

    static Stream<Vector> generateVectors() throws IOException {
        return TestVectors.load("/vectors/spec-generate.json");
    }

    static Stream<Vector> verifyVectors() throws IOException {
        return TestVectors.load("/vectors/spec-verify.json");
    }

    static Stream<Vector> invalidVectors() throws IOException {
        return TestVectors.load("/vectors/spec-invalid.json")
                .map(v -> new Vector(v.desc(), v.secret(), v.token(), v.now(), v.ttlSeconds(), v.iv(), v.src(), false));
    }

    static Stream<Vector> boundaryVectors() throws IOException {
        return TestVectors.load("/vectors/boundaries.json");
    }
}
