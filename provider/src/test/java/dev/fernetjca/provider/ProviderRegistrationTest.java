package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Provider;
import java.security.Security;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registration with no code: a java.security file names the provider, on the class path and on the module path. */
class ProviderRegistrationTest {
    @TempDir
    Path temp;

    @Test
    void serviceLoaderFindsTheProvider() {
        boolean found = false;
        for (Provider provider : ServiceLoader.load(Provider.class)) {
            found |= provider instanceof FernetProvider && provider.getName().equals("FernetJCA");
        }
        assertTrue(found, "META-INF/services/java.security.Provider does not list FernetProvider");
    }

    @Test
    void securityPropertiesFileRegistersItOnTheClassPath() throws Exception {
        String output = runProbe("-cp", mainClasses().toString());
        assertEquals("provider=FernetJCA module=unnamed roundtrip=registered", output);
    }

    @Test
    void securityPropertiesFileRegistersItOnTheModulePath() throws Exception {
        String output = runProbe("--module-path", mainClasses().toString(), "--add-modules", "dev.fernetjca.provider");
        assertEquals("provider=FernetJCA module=dev.fernetjca.provider roundtrip=registered", output);
    }

    /** Runs Probe.java in a child JVM whose only registration is a {@code -Djava.security.properties} file. */
    private String runProbe(String... pathOptions) throws IOException, InterruptedException {
        // provider numbers must be consecutive: take the first free one of this JDK
        int next = Security.getProviders().length + 1;
        for (Provider provider : Security.getProviders()) {
            if (provider instanceof FernetProvider) {
                next--;
            }
        }
        Path securityFile = temp.resolve("fernet.java.security");
        Files.writeString(securityFile, "security.provider." + next + "=dev.fernetjca.provider.FernetProvider\n");
        Path probe = temp.resolve("Probe.java");
        try (var in = getClass().getResourceAsStream("/registration/Probe.java")) {
            Files.copy(in, probe);
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(pathOptions));
        command.add("-Djava.security.properties=" + securityFile);
        command.add(probe.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    private static Path mainClasses() throws URISyntaxException {
        return Path.of(FernetProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
