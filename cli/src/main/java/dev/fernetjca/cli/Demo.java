package dev.fernetjca.cli;

import dev.fernetjca.provider.Fernet;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import javax.crypto.AEADBadTagException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code fernet demo}: shows, in this process and with a throwaway key, what the provider does. The demonstration is a
 * list of sections run in order, so that later ones (sockets) are added without touching the first; a section that
 * sees something wrong fails the demo with status 1.
 *
 * <p>The key is never printed: a demo's output ends up in screenshots and bug reports.
 *
 * <p>Not thread-safe; one instance serves one command line.
 */
@Command(
        name = "demo",
        description = "Demonstrates Fernet tokens, then TLS sockets keyed by Fernet, in-process with "
                + "a throwaway key (not shown).")
final class Demo implements Callable<Integer> {
    static final String MESSAGE = "hello from fernet-jca";

    /** One part of the demonstration; returns false when what it shows did not happen. */
    interface Section {
        boolean run(PrintWriter out) throws Exception;
    }

    private record Titled(String title, Section section) {}

    @Spec
    CommandSpec spec;

    private List<Titled> sections() {
        return List.of(new Titled("tokens", Demo::tokens), new Titled("sockets", SocketDemo::run));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        for (Titled titled : sections()) {
            out.println("== " + titled.title() + " ==");
            if (!titled.section().run(out)) {
                out.flush();
                spec.commandLine().getErr().println("fernet: demo section '" + titled.title() + "' failed");
                return Main.REFUSED;
            }
            out.println();
        }
        out.flush();
        return Main.OK;
    }

    /** Encrypts, decrypts, and shows that a token with one character changed is rejected. */
    static boolean tokens(PrintWriter out) throws AEADBadTagException {
        Fernet fernet = Fernet.of(Fernet.generateKey());
        out.println("generated a new key (not shown)");
        out.println("message:   " + MESSAGE);
        String token = new String(fernet.encrypt(MESSAGE.getBytes(StandardCharsets.UTF_8)), StandardCharsets.US_ASCII);
        out.println("token:     " + token);
        byte[] plaintext = fernet.decrypt(token.getBytes(StandardCharsets.US_ASCII));
        String decrypted = new String(plaintext, StandardCharsets.UTF_8);
        out.println("decrypted: " + decrypted);
        if (!MESSAGE.equals(decrypted)) {
            return false;
        }
        // a character in the middle carries six whole bits; the last one has spare bits a change may not touch
        int where = token.length() / 2;
        char replacement = token.charAt(where) == 'A' ? 'B' : 'A';
        String tampered = token.substring(0, where) + replacement + token.substring(where + 1);
        out.println(
                "tampered:  character " + (where + 1) + " of " + token.length() + " changed to '" + replacement + "'");
        try {
            fernet.decrypt(tampered.getBytes(StandardCharsets.US_ASCII));
            out.println("accepted, which must never happen");
            return false;
        } catch (AEADBadTagException e) {
            out.println("rejected:  " + e.getMessage());
            return true;
        }
    }
}
