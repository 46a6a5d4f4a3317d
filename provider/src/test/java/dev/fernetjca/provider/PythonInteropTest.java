package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Checks that tokens cross between this provider and Python's {@code cryptography.fernet} both ways, under every Python
 * on this machine that has {@code cryptography}: {@code /usr/bin/python3} and {@code python3} on the {@code PATH}, one
 * of each executable. The system property {@code fernet.interop.pythons} (paths separated by {@link File#pathSeparator})
 * replaces those candidates, to check the detection itself.
 *
 * <p>Each Python runs {@code python/fernet_oracle.py} once, answering JSON lines, so the whole test costs one process
 * per interpreter. Without any usable Python the test is skipped, or fails when the environment variable {@code CI} is
 * {@code true}: a CI machine must have {@code python3-cryptography}.
 */
class PythonInteropTest {
    private static final FernetProvider PROVIDER = new FernetProvider();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** When the tokens of timed cases were made: long ago, so only the fixed clocks can accept them. */
    private static final long THEN = 1_500_000_000L;

    private static final long MAX_CLOCK_SKEW_SECONDS = 60;
    private static final int[] PLAINTEXT_SIZES = {0, 1, 15, 16, 17, 1000, 65536, 1 << 20};
    private static final int[] FIXED_IV_SIZES = {0, 1, 15, 16, 17, 31, 32, 1000, 65536};

    private static final List<PythonOracle> STARTED = new ArrayList<>();

    @TestFactory
    Stream<DynamicContainer> tokensCrossBetweenJavaAndPython() throws IOException {
        List<String> candidates = candidates();
        List<PythonOracle> pythons = startPythons(candidates);
        if (pythons.isEmpty()) {
            String reason = "no Python with the cryptography package among " + candidates
                    + "; install python3-cryptography (apt-get install python3-cryptography)";
            if ("true".equals(System.getenv("CI"))) {
                fail(reason);
            }
            // a skipped test rather than an aborted factory, which Surefire would not even count; Surefire drops
            // the abort message, hence the display name and the line on stderr
            System.err.println("PythonInteropTest skipped: " + reason);
            return Stream.of(
                    dynamicContainer("skipped", Stream.of(dynamicTest(reason, () -> Assumptions.abort(reason)))));
        }
        return pythons.stream().map(python -> dynamicContainer(python.toString(), cases(python)));
    }

    @AfterAll
    static void stopPythons() {
        STARTED.forEach(PythonOracle::close);
        STARTED.clear();
    }

    private static Stream<DynamicNode> cases(PythonOracle python) {
        List<DynamicNode> cases = new ArrayList<>();
        for (int size : PLAINTEXT_SIZES) {
            cases.add(dynamicTest(
                    "python decrypts java's token of " + size + " bytes", () -> pythonDecryptsJavaToken(python, size)));
            cases.add(dynamicTest(
                    "java decrypts python's token of " + size + " bytes", () -> javaDecryptsPythonToken(python, size)));
        }
        for (int size : FIXED_IV_SIZES) {
            cases.add(dynamicTest(
                    "fixed iv and clock make python's very token of " + size + " bytes",
                    () -> fixedIvAndClockMakePythonsToken(python, size)));
        }
        for (long ttlSeconds : new long[] {1, 3600}) {
            cases.add(dynamicTest(
                    "java token, ttl " + ttlSeconds + " s: java and python agree at every boundary",
                    () -> bothJudgeJavaTokenAtBoundaries(python, ttlSeconds)));
            cases.add(dynamicTest(
                    "python token, ttl " + ttlSeconds + " s: java and python agree at every boundary",
                    () -> bothJudgePythonTokenAtBoundaries(python, ttlSeconds)));
        }
        cases.add(dynamicTest(
                "python rotates java's token; java reads it with the new key only",
                () -> pythonRotatesJavaToken(python)));
        cases.add(dynamicTest(
                "java rotates python's token; python reads it with the new key only",
                () -> javaRotatesPythonToken(python)));
        cases.add(dynamicTest(
                "python MultiFernet decrypts java's token of an older key",
                () -> pythonMultiFernetDecryptsOlderKeyToken(python)));
        cases.add(dynamicTest(
                "java key ring decrypts python's token of an older key",
                () -> javaKeyRingDecryptsOlderKeyToken(python)));
        cases.add(dynamicTest("java uses a key from Fernet.generate_key()", () -> javaUsesPythonKey(python)));
        cases.add(dynamicTest(
                "python uses keys from java's KeyGenerator and Fernet.generateKey()",
                () -> pythonUsesJavaKeys(python)));
        cases.add(dynamicTest(
                "java rejects every tampered token python rejects", () -> javaRejectsWhatPythonRejects(python)));
        cases.add(dynamicTest(
                "java rejects the non-canonical base64 python tolerates", () -> javaRejectsNonCanonicalBase64(python)));
        cases.add(dynamicTest(
                "timestamps beyond Instant decrypt without ttl and fail with one, on both sides",
                () -> bothHandleTimestampsBeyondInstant(python)));
        return cases.stream();
    }

    // ---- cases

    private static void pythonDecryptsJavaToken(PythonOracle python, int size) throws Exception {
        String key = newKey();
        byte[] data = randomBytes(size);
        byte[] token = javaEncrypt(key, FernetParameterSpec.defaults(), data);
        assertArrayEquals(data, python.decrypt(List.of(key), token));
    }

    private static void javaDecryptsPythonToken(PythonOracle python, int size) throws Exception {
        String key = newKey();
        byte[] data = randomBytes(size);
        byte[] token = python.encryptAtTime(key, data, Instant.now().getEpochSecond());
        assertArrayEquals(data, javaDecrypt(key, FernetParameterSpec.defaults(), token));
    }

    private static void fixedIvAndClockMakePythonsToken(PythonOracle python, int size) throws Exception {
        String key = newKey();
        byte[] data = randomBytes(size);
        byte[] iv = randomBytes(16);
        byte[] expected = python.encryptFromParts(key, data, THEN, iv);
        FernetParameterSpec params = FernetParameterSpec.defaults().withIv(iv).withClock(clockAt(THEN, 0));
        assertArrayEquals(expected, javaEncrypt(key, params, data));
    }

    private static void bothJudgeJavaTokenAtBoundaries(PythonOracle python, long ttlSeconds) throws Exception {
        String key = newKey();
        byte[] data = randomBytes(40);
        byte[] token = javaEncrypt(key, FernetParameterSpec.defaults().withClock(clockAt(THEN, 0)), data);
        bothJudgeAtBoundaries(python, key, data, token, ttlSeconds);
    }

    private static void bothJudgePythonTokenAtBoundaries(PythonOracle python, long ttlSeconds) throws Exception {
        String key = newKey();
        byte[] data = randomBytes(40);
        byte[] token = python.encryptAtTime(key, data, THEN);
        bothJudgeAtBoundaries(python, key, data, token, ttlSeconds);
    }

    /** Python's rule: rejected when {@code timestamp + ttl < now} or {@code now + 60 < timestamp}. */
    private static void bothJudgeAtBoundaries(
            PythonOracle python, String key, byte[] data, byte[] token, long ttlSeconds) {
        Map<String, Long> accepted = new LinkedHashMap<>();
        accepted.put("made now", THEN);
        accepted.put("exactly ttl old", THEN + ttlSeconds);
        accepted.put("dated exactly 60 s ahead", THEN - MAX_CLOCK_SKEW_SECONDS);
        Map<String, Long> rejected = new LinkedHashMap<>();
        rejected.put("ttl + 1 s old", THEN + ttlSeconds + 1);
        rejected.put("dated 61 s ahead", THEN - MAX_CLOCK_SKEW_SECONDS - 1);

        List<Executable> checks = new ArrayList<>();
        accepted.forEach((label, now) -> {
            checks.add(() ->
                    assertArrayEquals(data, javaDecrypt(key, timed(ttlSeconds, now, 0), token), "java, " + label));
            checks.add(
                    () -> assertArrayEquals(data, python.decryptAt(key, token, ttlSeconds, now), "python, " + label));
        });
        rejected.forEach((label, now) -> {
            checks.add(() -> assertThrows(
                    AEADBadTagException.class,
                    () -> javaDecrypt(key, timed(ttlSeconds, now, 0), token),
                    "java, " + label));
            checks.add(() ->
                    assertEquals("InvalidToken", python.rejectionAt(key, token, ttlSeconds, now), "python, " + label));
        });
        // Python truncates time.time() to whole seconds; a clock late in the last accepted second must agree
        checks.add(() -> assertArrayEquals(
                data,
                javaDecrypt(key, timed(ttlSeconds, THEN + ttlSeconds, 999_999_999), token),
                "java, ttl old and 0.999999999 s"));
        assertAll(checks);
    }

    private static void pythonRotatesJavaToken(PythonOracle python) throws Exception {
        String oldKey = newKey();
        String newKey = newKey();
        byte[] data = randomBytes(100);
        byte[] token = javaEncrypt(oldKey, FernetParameterSpec.defaults().withClock(clockAt(THEN, 0)), data);

        byte[] rotated = python.rotate(List.of(newKey, oldKey), token);

        assertArrayEquals(data, javaDecrypt(newKey, FernetParameterSpec.defaults(), rotated));
        assertEquals(Instant.ofEpochSecond(THEN), Fernet.of(newKey).extractTimestamp(rotated));
        assertThrows(AEADBadTagException.class, () -> javaDecrypt(oldKey, FernetParameterSpec.defaults(), rotated));
    }

    private static void javaRotatesPythonToken(PythonOracle python) throws Exception {
        String oldKey = newKey();
        String newKey = newKey();
        byte[] data = randomBytes(100);
        byte[] token = python.encryptAtTime(oldKey, data, THEN);
        Map<String, Function<byte[], byte[]>> rotators = Map.of(
                "FernetKeyRing.rotate", rethrowing(FernetKeyRing.of(secretKey(newKey), secretKey(oldKey))::rotate),
                "Fernet.rotate", rethrowing(Fernet.of(newKey, oldKey)::rotate));
        List<Executable> checks = new ArrayList<>();
        rotators.forEach((name, rotator) -> checks.add(() -> {
            byte[] rotated = rotator.apply(token);
            assertArrayEquals(data, python.decrypt(List.of(newKey), rotated), name + ": python, new key");
            assertEquals(THEN, python.extractTimestamp(newKey, rotated), name + ": python's extract_timestamp");
            assertEquals("InvalidToken", python.rejection(List.of(oldKey), rotated), name + ": python, old key");
        }));
        assertAll(checks);
    }

    private static void pythonMultiFernetDecryptsOlderKeyToken(PythonOracle python) throws Exception {
        String oldKey = newKey();
        String newKey = newKey();
        byte[] data = randomBytes(100);
        byte[] token = javaEncrypt(oldKey, FernetParameterSpec.defaults(), data);
        assertArrayEquals(data, python.decrypt(List.of(newKey, oldKey), token));
        assertEquals("InvalidToken", python.rejection(List.of(newKey), token));
    }

    private static void javaKeyRingDecryptsOlderKeyToken(PythonOracle python) throws Exception {
        String oldKey = newKey();
        String newKey = newKey();
        byte[] data = randomBytes(100);
        byte[] token = python.encryptAtTime(oldKey, data, Instant.now().getEpochSecond());

        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(
                Cipher.DECRYPT_MODE,
                FernetKeyRing.of(secretKey(newKey), secretKey(oldKey)),
                FernetParameterSpec.ttl(Duration.ofMinutes(5)));
        assertArrayEquals(data, cipher.doFinal(token));
        assertArrayEquals(data, Fernet.of(newKey, oldKey).decrypt(token, Duration.ofMinutes(5)));
        assertThrows(AEADBadTagException.class, () -> javaDecrypt(newKey, FernetParameterSpec.defaults(), token));
    }

    private static void javaUsesPythonKey(PythonOracle python) throws Exception {
        String pythonKey = python.generateKey();
        byte[] data = randomBytes(100);
        assertArrayEquals(
                data, python.decrypt(List.of(pythonKey), javaEncrypt(pythonKey, FernetParameterSpec.defaults(), data)));
        byte[] pythonToken = python.encryptAtTime(pythonKey, data, Instant.now().getEpochSecond());
        assertArrayEquals(data, javaDecrypt(pythonKey, FernetParameterSpec.defaults(), pythonToken));
    }

    private static void pythonUsesJavaKeys(PythonOracle python) throws Exception {
        SecretKey generated = KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        FernetKeySpec spec = (FernetKeySpec)
                SecretKeyFactory.getInstance("Fernet", PROVIDER).getKeySpec(generated, FernetKeySpec.class);
        List<String> javaKeys = List.of(spec.toBase64(), Fernet.generateKey());
        spec.destroy();
        byte[] data = randomBytes(100);
        for (String javaKey : javaKeys) {
            byte[] token = python.encryptAtTime(javaKey, data, Instant.now().getEpochSecond());
            assertArrayEquals(data, javaDecrypt(javaKey, FernetParameterSpec.defaults(), token));
        }
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, generated);
        assertArrayEquals(data, python.decrypt(List.of(javaKeys.get(0)), cipher.doFinal(data)));
    }

    private static void javaRejectsWhatPythonRejects(PythonOracle python) throws Exception {
        String key = newKey();
        String otherKey = newKey();
        JsonNode variants = python.ask(Map.of(
                        "op",
                        "tampered",
                        "key",
                        key,
                        "other_key",
                        otherKey,
                        "data",
                        base64(randomBytes(20)),
                        "time",
                        Instant.now().getEpochSecond()))
                .get("variants");
        List<Executable> checks = new ArrayList<>();
        for (JsonNode variant : variants) {
            String name = variant.get("name").asText();
            byte[] token = variant.get("token").asText().getBytes(StandardCharsets.US_ASCII);
            // a variant Python accepts would test nothing here: it must be invalid on the Python side first
            checks.add(() -> assertTrue(variant.has("rejected"), "python accepted: " + name));
            checks.add(() -> assertThrows(
                    AEADBadTagException.class,
                    () -> javaDecrypt(key, FernetParameterSpec.defaults(), token),
                    "java accepted: " + name));
            checks.add(() -> assertThrows(
                    AEADBadTagException.class,
                    () -> javaDecrypt(key, FernetParameterSpec.ttl(Duration.ofDays(365_000)), token),
                    "java accepted with a ttl: " + name));
        }
        assertFalse(checks.isEmpty(), "python listed no tampered tokens");
        assertAll(checks);
    }

    /**
     * Python decodes tokens with {@code base64.urlsafe_b64decode}, which skips characters outside the alphabet,
     * takes {@code +} and {@code /} too, and ignores what follows the padding. Token.parse is deliberately strict
     * (one spelling per token); no encoder writes these, so interoperability is unaffected.
     */
    private static void javaRejectsNonCanonicalBase64(PythonOracle python) throws Exception {
        String key = newKey();
        byte[] data = randomBytes(64);
        JsonNode variants = python.ask(Map.of("op", "lenient", "key", key, "data", base64(data)))
                .get("variants");
        List<Executable> checks = new ArrayList<>();
        for (JsonNode variant : variants) {
            String name = variant.get("name").asText();
            byte[] token = variant.get("token").asText().getBytes(StandardCharsets.US_ASCII);
            checks.add(() -> assertTrue(variant.has("data"), "python now rejects: " + name));
            checks.add(() -> assertThrows(
                    AEADBadTagException.class,
                    () -> javaDecrypt(key, FernetParameterSpec.defaults(), token),
                    "java accepted: " + name));
        }
        assertFalse(checks.isEmpty(), "python listed no variants");
        assertAll(checks);
    }

    private static void bothHandleTimestampsBeyondInstant(PythonOracle python) throws Exception {
        String key = newKey();
        byte[] data = randomBytes(10);
        BigInteger latest = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        byte[] token = python.encryptAtTime(key, data, latest);
        long now = Instant.now().getEpochSecond();
        assertAll(
                () -> assertArrayEquals(data, javaDecrypt(key, FernetParameterSpec.defaults(), token), "java"),
                () -> assertArrayEquals(data, python.decrypt(List.of(key), token), "python"),
                () -> assertThrows(
                        AEADBadTagException.class,
                        () -> javaDecrypt(key, timed(3600, now, 0), token),
                        "java with a ttl"),
                () -> assertEquals("InvalidToken", python.rejectionAt(key, token, 3600, now), "python with a ttl"),
                () -> assertArrayEquals(
                        data,
                        python.decrypt(List.of(key), Fernet.of(key).rotate(token)),
                        "python reads java's rotation"));
    }

    // ---- the Java side, as users call it

    private static SecretKey secretKey(String base64Key) throws GeneralSecurityException {
        FernetKeySpec spec = new FernetKeySpec(base64Key);
        try {
            return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(spec);
        } finally {
            spec.destroy();
        }
    }

    private static byte[] javaEncrypt(String key, FernetParameterSpec params, byte[] data)
            throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.ENCRYPT_MODE, secretKey(key), params);
        return cipher.doFinal(data);
    }

    private static byte[] javaDecrypt(String key, FernetParameterSpec params, byte[] token)
            throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("Fernet", PROVIDER);
        cipher.init(Cipher.DECRYPT_MODE, secretKey(key), params);
        return cipher.doFinal(token);
    }

    private static FernetParameterSpec timed(long ttlSeconds, long nowSeconds, int nanos) {
        return FernetParameterSpec.ttl(Duration.ofSeconds(ttlSeconds)).withClock(clockAt(nowSeconds, nanos));
    }

    private static Clock clockAt(long epochSeconds, int nanos) {
        return Clock.fixed(Instant.ofEpochSecond(epochSeconds, nanos), ZoneOffset.UTC);
    }

    private interface Rotation {
        byte[] rotate(byte[] token) throws AEADBadTagException;
    }

    private static Function<byte[], byte[]> rethrowing(Rotation rotation) {
        return token -> {
            try {
                return rotation.rotate(token);
            } catch (AEADBadTagException e) {
                throw new AssertionError("java rejected the token to rotate", e);
            }
        };
    }

    private static String newKey() {
        byte[] keyBytes = randomBytes(32);
        FernetKeySpec spec = new FernetKeySpec(keyBytes);
        Arrays.fill(keyBytes, (byte) 0);
        try {
            return spec.toBase64();
        } finally {
            spec.destroy();
        }
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static String base64(byte[] bytes) {
        return Base64.getUrlEncoder().encodeToString(bytes);
    }

    // ---- finding and driving Pythons

    private static List<String> candidates() {
        String override = System.getProperty("fernet.interop.pythons");
        if (override != null) {
            return List.of(override.split(File.pathSeparator));
        }
        Set<String> candidates = new LinkedHashSet<>();
        candidates.add("/usr/bin/python3");
        String path = System.getenv("PATH");
        for (String directory : path == null ? new String[0] : path.split(File.pathSeparator)) {
            Path python = Path.of(directory.isEmpty() ? "." : directory, "python3");
            if (Files.isRegularFile(python) && Files.isExecutable(python)) {
                candidates.add(python.toString());
                break; // the one a shell would run
            }
        }
        return List.copyOf(candidates);
    }

    /** Starts the oracle under each candidate; keeps one per real executable, and only those with cryptography. */
    private static List<PythonOracle> startPythons(List<String> candidates) throws IOException {
        Path script = Files.createTempFile("fernet_oracle", ".py");
        script.toFile().deleteOnExit();
        try (InputStream in = PythonInteropTest.class.getResourceAsStream("/python/fernet_oracle.py")) {
            assertNotNull(in, "python/fernet_oracle.py is missing from the test resources");
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Set<Path> programs = new HashSet<>();
        Set<String> executables = new HashSet<>();
        List<PythonOracle> pythons = new ArrayList<>();
        for (String candidate : candidates) {
            Path program = Path.of(candidate);
            if (!Files.isExecutable(program) || !programs.add(program.toRealPath())) {
                continue;
            }
            PythonOracle python = PythonOracle.start(candidate, script);
            if (python == null) {
                continue;
            }
            STARTED.add(python);
            if (executables.add(python.executable)) {
                pythons.add(python);
            } else {
                python.close(); // a second name (a pyenv shim, a symlink) for an interpreter already found
            }
        }
        return pythons;
    }

    /** One running {@code fernet_oracle.py}: requests and answers as JSON lines. */
    private static final class PythonOracle implements AutoCloseable {
        private final Process process;
        private final BufferedWriter requests;
        private final BufferedReader answers;
        private final Path stderr;
        private final String description;
        final String executable;

        private PythonOracle(Process process, BufferedReader answers, Path stderr, JsonNode hello) {
            this.process = process;
            this.answers = answers;
            this.stderr = stderr;
            this.requests =
                    new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            this.executable = hello.path("executable").asText();
            this.description = "Python " + hello.path("python").asText() + ", cryptography "
                    + hello.path("cryptography").asText() + " (" + executable + ")";
        }

        /** Returns the running oracle, or null when {@code program} cannot run it (no cryptography, not Python). */
        static PythonOracle start(String program, Path script) throws IOException {
            Path stderr = Files.createTempFile("fernet_oracle", ".stderr");
            stderr.toFile().deleteOnExit();
            Process process;
            try {
                process = new ProcessBuilder(program, "-u", script.toString())
                        .redirectError(stderr.toFile())
                        .start();
            } catch (IOException e) {
                return null;
            }
            BufferedReader reader =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String firstLine = reader.readLine();
            JsonNode hello = null;
            try {
                hello = firstLine == null ? null : JSON.readTree(firstLine);
            } catch (IOException e) {
                // not our oracle talking: an interpreter too old to run it
            }
            if (hello == null || !hello.has("cryptography")) {
                process.destroy();
                return null;
            }
            return new PythonOracle(process, reader, stderr, hello);
        }

        synchronized JsonNode ask(Map<String, ?> request) throws IOException {
            requests.write(JSON.writeValueAsString(request));
            requests.newLine();
            requests.flush();
            String line = answers.readLine();
            if (line == null) {
                fail("python stopped: " + Files.readString(stderr));
            }
            JsonNode answer = JSON.readTree(line);
            if (answer.has("error")) {
                fail("python failed " + request.get("op") + ": "
                        + answer.get("error").asText());
            }
            return answer;
        }

        byte[] encryptAtTime(String key, byte[] data, Object epochSeconds) throws IOException {
            return token(ask(
                    Map.of("op", "encrypt_at_time", "keys", List.of(key), "data", base64(data), "time", epochSeconds)));
        }

        byte[] encryptFromParts(String key, byte[] data, long epochSeconds, byte[] iv) throws IOException {
            return token(ask(Map.of(
                    "op",
                    "encrypt_from_parts",
                    "key",
                    key,
                    "data",
                    base64(data),
                    "time",
                    epochSeconds,
                    "iv",
                    base64(iv))));
        }

        byte[] rotate(List<String> keys, byte[] token) throws IOException {
            return token(ask(Map.of("op", "rotate", "keys", keys, "token", ascii(token))));
        }

        String generateKey() throws IOException {
            return ask(Map.of("op", "generate_key")).get("key").asText();
        }

        long extractTimestamp(String key, byte[] token) throws IOException {
            return ask(Map.of("op", "extract_timestamp", "keys", List.of(key), "token", ascii(token)))
                    .get("time")
                    .asLong();
        }

        /** Returns the plaintext from {@code Fernet.decrypt} or {@code MultiFernet.decrypt}, without a TTL. */
        byte[] decrypt(List<String> keys, byte[] token) throws IOException {
            return plaintext(ask(Map.of("op", "decrypt", "keys", keys, "token", ascii(token))));
        }

        /** Returns the plaintext from {@code decrypt_at_time(token, ttl, now)}. */
        byte[] decryptAt(String key, byte[] token, long ttlSeconds, long now) throws IOException {
            return plaintext(ask(timedDecryption(key, token, ttlSeconds, now)));
        }

        /** Returns the name of the exception {@code decrypt} raised, or fails if it accepted the token. */
        String rejection(List<String> keys, byte[] token) throws IOException {
            return rejected(ask(Map.of("op", "decrypt", "keys", keys, "token", ascii(token))));
        }

        String rejectionAt(String key, byte[] token, long ttlSeconds, long now) throws IOException {
            return rejected(ask(timedDecryption(key, token, ttlSeconds, now)));
        }

        private static Map<String, Object> timedDecryption(String key, byte[] token, long ttlSeconds, long now) {
            return Map.of("op", "decrypt", "keys", List.of(key), "token", ascii(token), "ttl", ttlSeconds, "now", now);
        }

        private static byte[] token(JsonNode answer) {
            return answer.get("token").asText().getBytes(StandardCharsets.US_ASCII);
        }

        private static byte[] plaintext(JsonNode answer) {
            if (!answer.has("data")) {
                fail("python rejected the token: " + answer.path("rejected").asText());
            }
            return Base64.getUrlDecoder().decode(answer.get("data").asText());
        }

        private static String rejected(JsonNode answer) {
            if (!answer.has("rejected")) {
                fail("python accepted the token");
            }
            return answer.get("rejected").asText();
        }

        private static String ascii(byte[] token) {
            return new String(token, StandardCharsets.US_ASCII);
        }

        @Override
        public void close() {
            try {
                requests.close(); // end of input: the oracle's loop ends
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (IOException e) {
                process.destroyForcibly();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public String toString() {
            return description;
        }
    }
}
