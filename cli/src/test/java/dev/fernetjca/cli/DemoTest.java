package dev.fernetjca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class DemoTest {
    @Test
    void demoEncryptsDecryptsAndRejectsTamperedToken() {
        Cli.Result result = Cli.run("demo");
        assertEquals(0, result.status(), result.stderr());
        assertEquals("", result.stderr());
        String out = result.out();
        assertTrue(out.contains("generated a new key (not shown)"), out);
        assertTrue(out.contains("token:     gAAAAA"), out);
        assertTrue(out.contains("decrypted: " + Demo.MESSAGE), out);
        assertTrue(out.contains("rejected:  token authentication failed"), out);
    }

    @Test
    void demoSendsThroughTlsSocketsAndShowsTheWire() {
        Cli.Result result = Cli.run("demo");
        assertEquals(0, result.status(), result.stderr());
        String out = result.out();
        String sockets = out.substring(out.indexOf("== sockets ==\n"));
        assertTrue(sockets.contains("echo server: FernetServerSocketFactory on 127.0.0.1:"), sockets);
        assertTrue(sockets.contains("client:      FernetSocketFactory"), sockets);
        assertTrue(sockets.contains("sent:        " + Demo.MESSAGE + "\n"), sockets);
        assertTrue(sockets.contains("received:    " + Demo.MESSAGE + "\n"), sockets);
        assertTrue(sockets.contains("plaintext seen on the wire: no"), sockets);

        StringBuilder wireHex = new StringBuilder();
        for (String line : sockets.split("\n")) {
            if (line.matches(" {13}([0-9a-f]{2} ){0,15}[0-9a-f]{2}")) {
                wireHex.append(line.strip().replace(" ", ""));
            }
        }
        assertEquals(2 * SocketDemo.SHOWN_WIRE_BYTES, wireHex.length(), sockets);
        assertTrue(wireHex.toString().startsWith("16"), "the wire starts with a TLS handshake record");
        String messageHex = HexFormat.of().formatHex(Demo.MESSAGE.getBytes(StandardCharsets.UTF_8));
        // any 4 bytes of the message would be a leak; 4 random bytes match by chance once in 2^32 windows
        for (int at = 0; at + 8 <= messageHex.length(); at += 2) {
            assertFalse(wireHex.toString().contains(messageHex.substring(at, at + 8)), "plaintext on the wire");
        }
    }

    @Test
    void demoPrintsNoKey() {
        for (String word : Cli.run("demo").out().split("\\s+")) {
            assertFalse(word.matches("[A-Za-z0-9_-]{43}="), "the demo printed something shaped like a key");
        }
    }
}
