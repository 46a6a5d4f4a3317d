package dev.fernetjca.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * Tells {@code fernet --version} the version Maven wrote into {@code version.properties} at build time, and the Java
 * that runs it.
 *
 * <p>Stateless; safe to use from any thread.
 */
final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
        Properties properties = new Properties();
        InputStream stream = Version.class.getResourceAsStream("version.properties");
        if (stream != null) {
            try (Reader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
                properties.load(reader);
            }
        }
        return new String[] {
            "fernet (fernet-jca) " + properties.getProperty("version", "unknown"),
            "Java " + Runtime.version() + ", " + System.getProperty("java.vm.name", "unknown VM")
        };
    }
}
