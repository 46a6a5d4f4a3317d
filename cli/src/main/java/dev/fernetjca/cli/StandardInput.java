package dev.fernetjca.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Tells, before anything is read, when the process's standard input is not something to read: a directory, or
 * closed. A closed standard input ({@code fernet encrypt <&-}) is the subtle one: the JVM's first open file then takes
 * descriptor 0, which on Linux is the runtime's own {@code lib/modules}, and reading it would encrypt the JDK or fail
 * with a size error. Linux only ({@code /proc/self/fd/0}); elsewhere the read's own error is reported.
 *
 * <p>Stateless; safe to use from any thread.
 */
final class StandardInput {
    private static final Path DESCRIPTORS = Path.of("/proc/self/fd");
    private static final Path DESCRIPTOR = DESCRIPTORS.resolve("0");

    private StandardInput() {}

    /** Returns why standard input cannot be read ("is a directory", "is closed"), or null when it can be tried. */
    static String problem() {
        if (!Files.isDirectory(DESCRIPTORS)) {
            return null;
        }
        Path target;
        try {
            target = Files.readSymbolicLink(DESCRIPTOR);
        } catch (NoSuchFileException e) {
            return "is closed; give the input with < FILE or a pipe";
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        Path javaHome = Path.of(System.getProperty("java.home", "/nonexistent"))
                .toAbsolutePath()
                .normalize();
        if (target.isAbsolute() && target.normalize().startsWith(javaHome)) {
            // descriptor 0 was free when the JVM opened its own files: the shell closed it
            return "is closed; give the input with < FILE or a pipe";
        }
        if (Files.isDirectory(DESCRIPTOR)) {
            return "is a directory; give a file with < FILE or a pipe";
        }
        return null;
    }
}
