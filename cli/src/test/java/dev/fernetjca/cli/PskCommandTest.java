package dev.fernetjca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PskCommandTest {
    private static final FernetProvider PROVIDER = new FernetProvider();
    private static final String SPEC_KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

    @TempDir
    Path dir;

    private static String newKey() {
        return Cli.run("keygen").out().trim();
    }

    private static SecretKey key(String base64) throws Exception {
        return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(new FernetKeySpec(base64));
    }

    private Path keyFile(String... lines) throws IOException {
        Path file = Files.createTempFile(dir, "fernet", ".key"); // rw------- on POSIX
        Files.writeString(file, "# a ring\n" + String.join("\n", lines) + "\n");
        return file;
    }

    private static List<String> pskLines(Cli.Result result) {
        assertEquals(0, result.status(), result.stderr());
        assertEquals("", result.stderr());
        List<String> lines = result.out().lines().toList();
        assertEquals(FernetCommand.PSK_HEADER, lines.get(0));
        assertTrue(result.out().endsWith("\n"));
        return lines.subList(1, lines.size());
    }

    @Test
    void printsOneIdentityAndHexSecretPerKeyOfTheKeyFile() throws Exception {
        String primary = newKey();
        String older = newKey();
        List<String> lines = pskLines(Cli.run(
                Map.of(),
                new byte[0],
                "psk",
                "--key-file",
                keyFile(primary, "", older).toString()));
        assertEquals(2, lines.size());
        for (String line : lines) {
            assertTrue(line.matches("fernet-jca-1-[0-9a-f]{32} [0-9a-f]{64}"), line);
        }
        assertEquals(FernetSocketFactory.externalPsks(FernetKeyRing.of(key(primary), key(older))), lines);
    }

    @Test
    void takesKeysFromTheEnvironment() throws Exception {
        List<String> lines = pskLines(Cli.run(Map.of("FERNET_KEY", SPEC_KEY), new byte[0], "psk"));
        assertEquals(FernetSocketFactory.externalPsks(key(SPEC_KEY)), lines);
    }

    @Test
    void headerTellsHowOpensslTakesTheLines() {
        assertTrue(FernetCommand.PSK_HEADER.startsWith("# IDENTITY HEX_SECRET"));
        assertTrue(FernetCommand.PSK_HEADER.contains("-psk_identity IDENTITY -psk HEX_SECRET"));
    }

    @Test
    void printsNoKey() throws Exception {
        String key = newKey();
        Cli.Result result =
                Cli.run(Map.of(), new byte[0], "psk", "--key-file", keyFile(key).toString());
        assertFalse(result.out().contains(key), "psk printed the Fernet key");
    }

    @Test
    void withoutKeyIsAUsageError() {
        Cli.Result result = Cli.run("psk");
        assertEquals(2, result.status());
        assertEquals(0, result.stdout().length);
        assertTrue(result.stderr().contains("no key: give --key-file FILE or set the FERNET_KEY"), result.stderr());
    }
}
