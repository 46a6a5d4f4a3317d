package dev.fernetjca.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Programs outside the JVM that tests run: {@code openssl}, {@code stunnel}, {@code python3} with
 * {@code cryptography}.
 *
 * <p>A missing program skips the test with the reason shown in the report, except under {@code CI=true}, where it
 * fails: CI must install what its tests need, and a green run that skipped them all proves nothing.
 *
 * <p>Stateless; safe to use from any thread.
 */
public final class ExternalTools {
    private static final Pattern PYTHON_NAME = Pattern.compile("python3(\\.\\d+)?");

    private ExternalTools() {}

    /** Returns the path of {@code program} on {@code PATH}; skips the test, or fails it under {@code CI=true}. */
    public static Path require(String program) {
        for (Path dir : pathDirectories()) {
            Path candidate = dir.resolve(program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        unavailable(program + " not found on PATH");
        throw new AssertionError("unreachable");
    }

    /**
     * Returns the path of {@code openssl}, version 3 or later (for {@code openssl kdf} and TLS 1.3 external PSKs);
     * skips the test, or fails it under {@code CI=true}, if there is none.
     */
    public static Path openssl() throws IOException, InterruptedException {
        Path openssl = require("openssl");
        Processes.Result version =
                Processes.run(new ProcessBuilder(openssl.toString(), "version"), new byte[0], Duration.ofSeconds(10));
        String text = version.stdout().trim();
        if (version.status() != 0 || !text.matches("OpenSSL [3-9]\\..*")) {
            unavailable("openssl 3 or later, found " + text);
        }
        return openssl;
    }

    /** A Python interpreter that imports {@code cryptography}. */
    public record Python(Path executable, String realPath, String version, String cryptographyVersion) {
        @Override
        public String toString() {
            return "python " + version + ", cryptography " + cryptographyVersion + " (" + realPath + ")";
        }
    }

    /**
     * Returns every Python 3 on this machine that imports {@code cryptography}: each {@code python3} and
     * {@code python3.N} on {@code PATH}, and {@code /usr/bin/python3}, once per real interpreter (a pyenv shim and the
     * interpreter it runs count once). Never empty: with none found, the list holds the reason, and
     * {@link #requirePython(Object)} skips the test, or fails it under {@code CI=true}.
     */
    public static List<Object> pythons() throws IOException, InterruptedException {
        Set<Path> candidates = new LinkedHashSet<>();
        for (Path dir : pathDirectories()) {
            try (var entries = Files.list(dir)) {
                entries.filter(p ->
                                PYTHON_NAME.matcher(p.getFileName().toString()).matches())
                        .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
                        .sorted()
                        .forEach(candidates::add);
            } catch (IOException e) {
                // a PATH entry that is not a readable directory holds no Python
            }
        }
        Path system = Path.of("/usr/bin/python3");
        if (Files.isExecutable(system)) {
            candidates.add(system);
        }
        Map<String, Python> byRealPath = new LinkedHashMap<>();
        List<String> refused = new ArrayList<>();
        for (Path candidate : candidates) {
            Processes.Result probe = Processes.run(
                    new ProcessBuilder(
                            candidate.toString(),
                            "-c",
                            "import os, sys, cryptography; print(os.path.realpath(sys.executable)); "
                                    + "print('%d.%d.%d' % sys.version_info[:3]); print(cryptography.__version__)"),
                    new byte[0],
                    Duration.ofSeconds(30));
            String[] lines = probe.stdout().trim().split("\n");
            if (probe.status() != 0 || lines.length != 3) {
                refused.add(candidate + " (no cryptography, or not runnable)");
                continue;
            }
            byRealPath.putIfAbsent(
                    lines[0].trim(), new Python(candidate, lines[0].trim(), lines[1].trim(), lines[2].trim()));
        }
        if (byRealPath.isEmpty()) {
            return List.of("no python3 with the cryptography package; tried " + candidates + ", refused " + refused);
        }
        return List.copyOf(byRealPath.values());
    }

    /** Returns {@code argument} as a Python, or skips (fails under {@code CI=true}) if it is the reason for none. */
    public static Python requirePython(Object argument) {
        if (argument instanceof Python python) {
            return python;
        }
        unavailable(String.valueOf(argument));
        throw new AssertionError("unreachable");
    }

    /** Skips the test because an external tool is unusable (missing, too old), or fails it under {@code CI=true}. */
    public static void unavailable(String reason) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("external tool required under CI=true: " + reason);
        }
        Assumptions.abort("external tool required: " + reason + " (this test fails instead when CI=true)");
    }

    private static List<Path> pathDirectories() {
        List<Path> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                dirs.add(Path.of(dir.isEmpty() ? "." : dir));
            }
        }
        return dirs;
    }
}
