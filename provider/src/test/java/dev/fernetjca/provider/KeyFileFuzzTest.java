package dev.fernetjca.provider;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * {@link FernetKeyRing#readKeyFile} fed any file content (owner-only, so only the content is on trial): it returns a
 * ring, or throws {@link IllegalArgumentException} or {@link IOException}, and the message never repeats a line of the
 * file. Regression inputs: {@code KeyFileFuzzTestInputs/readsOrRejectsWithoutEchoing/}.
 */
class KeyFileFuzzTest {
    private static final Path KEY_FILE = ownerOnlyFile();

    private static Path ownerOnlyFile() {
        try {
            Path directory = Files.createTempDirectory(
                    "fernet-fuzz", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path file = Files.createFile(
                    directory.resolve("keys"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            directory.toFile().deleteOnExit();
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void readsOrRejectsWithoutEchoing(FuzzedDataProvider data) throws IOException {
        byte[] content = data.consumeRemainingAsBytes();
        Files.write(KEY_FILE, content);
        try {
            FernetKeyRing ring = FernetKeyRing.readKeyFile(KEY_FILE);
            assertTrue(ring.size() >= 1 && ring.size() <= 16, "ring of " + ring.size());
            ring.destroy();
        } catch (IllegalArgumentException | IOException e) {
            // one byte per char, so that every line of the file, whatever its encoding, is a string we can look for
            KeyTextChecks.assertNoEcho(e.getMessage(), new String(content, ISO_8859_1), "\n");
        }
    }
}
