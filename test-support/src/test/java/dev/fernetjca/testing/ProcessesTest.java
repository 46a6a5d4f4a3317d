package dev.fernetjca.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A child never inherits the developer's keys or JVM options, and key files are written as deployments write them. */
class ProcessesTest {
    @TempDir
    Path dir;

    @Test
    void scrubRemovesEveryFernetVariableAndJvmOptionsAndKeepsTheRest() {
        ProcessBuilder builder = new ProcessBuilder("true");
        Map<String, String> environment = builder.environment();
        for (String name : List.of(
                "FERNET_KEY",
                "FERNET_KEY_FILE",
                "FERNET_MODE",
                "FERNET_SOMETHING_NEW",
                "JAVA_TOOL_OPTIONS",
                "JDK_JAVA_OPTIONS",
                "_JAVA_OPTIONS")) {
            environment.put(name, "set by the developer");
        }
        environment.put("KEEP_ME", "yes");
        Processes.scrub(builder);
        assertTrue(environment.keySet().stream().noneMatch(name -> name.startsWith("FERNET_")), environment.toString());
        assertFalse(environment.containsKey("JAVA_TOOL_OPTIONS"));
        assertFalse(environment.containsKey("JDK_JAVA_OPTIONS"));
        assertFalse(environment.containsKey("_JAVA_OPTIONS"));
        assertEquals("yes", environment.get("KEEP_ME"));
    }

    @Test
    void aChildJvmSeesNoKeyFileVariable() throws Exception {
        // as in a developer's shell, where CliIT's children used to inherit it
        ProcessBuilder leaky = new ProcessBuilder(
                Processes.javaLauncher(), "-cp", System.getProperty("java.class.path"), PrintKeyFile.class.getName());
        leaky.environment().put("FERNET_KEY_FILE", "/home/developer/.fernet/key");
        Processes.Result scrubbed = Processes.run(Processes.scrub(leaky), new byte[0], Processes.CHILD_TIMEOUT);
        assertEquals(0, scrubbed.status(), scrubbed.stderr());
        assertEquals("null", scrubbed.stdout().trim(), scrubbed.stderr());
    }

    /** Prints what a child JVM sees of {@code FERNET_KEY_FILE}. */
    static final class PrintKeyFile {
        public static void main(String[] args) {
            System.out.println(System.getenv("FERNET_KEY_FILE"));
        }
    }

    @Test
    void keyFileIsOwnerOnlyAndReplacedWhole() throws Exception {
        String first = KeyFiles.newKey();
        String second = KeyFiles.newKey();
        assertEquals(44, first.length());
        Path file = KeyFiles.write(dir.resolve("fernet.key"), first);
        KeyFiles.write(file, second, first);
        assertEquals(second + "\n" + first + "\n", Files.readString(file));
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
        assertFalse(Files.exists(dir.resolve("fernet.key.next")));
    }
}
