package dev.fernetjca.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * Fernet keys as text and key files as {@code fernet keygen > file && chmod 600 file} leaves them. The keys are 32
 * bytes from {@link SecureRandom} in url-safe base64, which is all a Fernet key is; this module does not depend on the
 * provider, so that the provider's own tests may use it.
 *
 * <p>Stateless; safe to use from any thread.
 */
public final class KeyFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyFiles() {}

    /** Returns a new Fernet key: 44 characters of url-safe base64. */
    public static String newKey() {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        try {
            return Base64.getUrlEncoder().encodeToString(raw);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /** Returns the JVM option that makes a child read its keys from {@code keyFile}. */
    public static String flag(Path keyFile) {
        return "-Dfernet.keyFile=" + keyFile;
    }

    /** Writes one new key to {@code dir/name}, readable by its owner only, and returns the file. */
    public static Path newKeyFile(Path dir, String name) throws IOException {
        return write(dir.resolve(name), newKey());
    }

    /**
     * Writes {@code keys}, one a line, the primary first, to a file readable by its owner only (as {@code chmod 600}
     * leaves it), replacing any file of that name the way a deployment would: write aside, then rename over.
     */
    public static Path write(Path path, String... keys) throws IOException {
        Path next = path.resolveSibling(path.getFileName() + ".next");
        Files.deleteIfExists(next);
        try {
            // a key file open to group or others is refused
            Files.createFile(next, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(next); // not a POSIX file system: fernet does not check permissions there
        }
        Files.writeString(next, String.join("\n", keys) + "\n", US_ASCII);
        return Files.move(next, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
