package dev.fernetjca.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.it.ExternalTools.Python;
import dev.fernetjca.it.ExternalTools.Result;
import dev.fernetjca.provider.Fernet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code docs/examples/python/fernet_peer.py} against itself, as a newcomer runs it: a client with the wrong key must
 * exit non-zero with a message, not end quietly with status 0 as if the server had nothing to say.
 */
class FernetPeerScriptIT {
    private static final Duration RUN = Duration.ofSeconds(30);
    private static final Pattern LISTENING = Pattern.compile("fernet_peer: listening on (\\S+):(\\d+)");

    private static Path peer;

    @BeforeAll
    static void findPeer() {
        String property = System.getProperty("fernet.python.peer");
        assertTrue(property != null, "the fernet.python.peer system property is not set; run through Maven failsafe");
        peer = Path.of(property).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(peer), peer + " does not exist");
    }

    static List<Object> pythons() throws IOException, InterruptedException {
        return ExternalTools.pythons();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pythons")
    void clientWithTheWrongKeyExitsNonZeroWithAMessage(Object argument) throws Exception {
        Python python = ExternalTools.requirePython(argument);
        String serverKey = Fernet.generateKey();
        String clientKey = Fernet.generateKey();
        ProcessBuilder serverCommand = peer(python, "--listen", "127.0.0.1:0");
        serverCommand.environment().put("FERNET_KEY", serverKey);
        try (ExternalTools.Child server = ExternalTools.Child.start(serverCommand)) {
            int port = listeningPort(server);
            // small and large inputs: the reset may come while the client still sends, or after it half-closed
            for (int size : new int[] {6, 3_000_000}) {
                ProcessBuilder client = peer(python, "--connect", "127.0.0.1:" + port);
                client.environment().put("FERNET_KEY", clientKey);
                Result result = ExternalTools.run(client, "hello\n".repeat(size / 6).getBytes(US_ASCII), RUN);
                assertEquals(1, result.status(), "a wrong key is a failure; stderr: " + result.stderr());
                assertEquals(0, result.stdout().length);
                assertEquals("fernet_peer: the server reset the connection: it refused our tokens (does it hold"
                        + " another key?) or failed\n", result.stderr());
                assertFalse(result.stderr().contains(clientKey.substring(0, 22)));
                server.awaitLine(line -> line.endsWith(" failed: token rejected"), RUN);
            }
            // and the right key still works against the same server
            ProcessBuilder client = peer(python, "--connect", "127.0.0.1:" + port);
            client.environment().put("FERNET_KEY", serverKey);
            Result result = ExternalTools.run(client, "hello\n".getBytes(US_ASCII), RUN);
            assertEquals(0, result.status(), result.stderr());
            assertEquals("HELLO\n", new String(result.stdout(), US_ASCII));
        }
    }

    private static ProcessBuilder peer(Python python, String... args) {
        List<String> command = new ArrayList<>(List.of(python.executable().toString(), peer.toString()));
        command.addAll(List.of(args));
        return ExternalTools.clean(new ProcessBuilder(command));
    }

    private static int listeningPort(ExternalTools.Child server) throws InterruptedException {
        String line = server.awaitLine(l -> LISTENING.matcher(l).matches(), RUN);
        Matcher matcher = LISTENING.matcher(line);
        assertTrue(matcher.matches());
        return Integer.parseInt(matcher.group(2));
    }
}
