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

/**
 * Registration with no code: a java.security file names the provider by class or by name, on the class path and on
 * the module path; and without such a file, the jar alone registers nothing.
 */
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
        String output = runProbe(CLASS_NAME, "-cp", mainClasses().toString());
        assertEquals("provider=FernetJCA module=unnamed roundtrip=registered", output);
    }

    @Test
    void securityPropertiesFileRegistersItOnTheModulePath() throws Exception {
        String output = runProbe(
                CLASS_NAME, "--module-path", mainClasses().toString(), "--add-modules", "dev.fernetjca.provider");
        assertEquals("provider=FernetJCA module=dev.fernetjca.provider roundtrip=registered", output);
    }

    /** By provider name, the JDK finds the class through ServiceLoader: META-INF/services or the module's provides. */
    @Test
    void securityPropertiesFileRegistersItByNameOnTheClassPath() throws Exception {
        String output = runProbe("FernetJCA", "-cp", mainClasses().toString());
        assertEquals("provider=FernetJCA module=unnamed roundtrip=registered", output);
    }

    @Test
    void securityPropertiesFileRegistersItByNameOnTheModulePath() throws Exception {
        String output = runProbe(
                "FernetJCA", "--module-path", mainClasses().toString(), "--add-modules", "dev.fernetjca.provider");
        assertEquals("provider=FernetJCA module=dev.fernetjca.provider roundtrip=registered", output);
    }

    /** The jar alone registers nothing: the JCA looks only at the providers java.security names. */
    @Test
    void theJarOnTheClassPathAloneDoesNotRegisterIt() throws Exception {
        String output = runProbe(null, "-cp", mainClasses().toString());
        assertTrue(output.contains("NoSuchAlgorithmException"), output);
    }

    private static final String CLASS_NAME = "dev.fernetjca.provider.FernetProvider";

    /**
     * Runs Probe.java in a child JVM whose only registration is a {@code -Djava.security.properties} file naming
     * {@code entry} (a class or provider name), or none when it is null; returns what the probe printed.
     */
    private String runProbe(String entry, String... pathOptions) throws IOException, InterruptedException {
        // provider numbers must be consecutive: take the first free one of this JDK
        int next = Security.getProviders().length + 1;
        for (Provider provider : Security.getProviders()) {
            if (provider instanceof FernetProvider) {
                next--;
            }
        }
        Path securityFile = temp.resolve("fernet.java.security");
        Files.writeString(securityFile, entry == null ? "" : "security.provider." + next + "=" + entry + "\n");
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
        assertEquals(entry == null ? 1 : 0, process.exitValue(), output);
        return output;
    }

    private static Path mainClasses() throws URISyntaxException {
        return Path.of(FernetProvider.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
    }
}
