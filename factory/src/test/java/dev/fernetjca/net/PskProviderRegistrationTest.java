package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code SSLContext.FernetPSK} registered with no code: a java.security file naming {@code FernetPskProvider} by class,
 * or {@code FernetJCA-PSK} by name (found through META-INF/services), in a child JVM; without such a file, nothing.
 */
class PskProviderRegistrationTest {
    @TempDir
    Path temp;

    /** Prints the provider of {@code SSLContext.FernetPSK}, or the exception's class. Runs in the child JVM. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                System.out.print("provider="
                        + SSLContext.getInstance("FernetPSK").getProvider().getName());
            } catch (Exception e) {
                System.out.print(e.getClass().getSimpleName());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev.fernetjca.net.FernetPskProvider", "FernetJCA-PSK"})
    void securityPropertiesFileRegistersIt(String entry) throws Exception {
        assertEquals("provider=FernetJCA-PSK", probe(entry));
    }

    @Test
    void theJarAloneRegistersNothing() throws Exception {
        assertTrue(probe(null).contains("NoSuchAlgorithmException"));
    }

    private String probe(String entry) throws Exception {
        List<String> options = List.of();
        if (entry != null) {
            // provider numbers must be consecutive: take the first free one of this JDK
            Path file = temp.resolve("fernet.java.security");
            Files.writeString(file, "security.provider." + (Security.getProviders().length + 1) + "=" + entry + "\n");
            options = List.of("-Djava.security.properties=" + file);
        }
        Processes.Result result = Processes.run(
                Processes.java(System.getProperty("java.class.path"), options, Probe.class),
                new byte[0],
                Duration.ofSeconds(30));
        assertEquals(0, result.status(), result.stderr());
        return result.stdout();
    }
}
