package dev.fernetjca.cli;

import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.Security;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Runs {@code keygen}, {@code encrypt} and {@code decrypt} without picocli when the command line is one of their plain
 * forms and the keys load: picocli's model of every command, built by reflection in interpreted code, costs about
 * 0.25 s of CPU time at each start, most of a short command's run (docs/benchmarks.md, "CLI and tunnel processes").
 *
 * <p>It takes only what it can tell apart from every mistake without a word of its own: {@code keygen} alone;
 * {@code encrypt} and {@code decrypt} with at most one {@code --key-file FILE} (or {@code --key-file=FILE}) and, for
 * {@code decrypt}, at most one {@code --ttl} of 1 to 18 digits. Anything else, and any key file or {@code FERNET_KEY}
 * that does not load, it leaves to picocli, before a byte of standard input is read, so that help, usage errors and
 * their messages have one source. Once the keys have loaded it runs the commands' own code in {@link FernetCommand}.
 *
 * <p>Stateless; safe to use from any thread.
 */
final class Shortcut {
    private static final Pattern TTL = Pattern.compile("[0-9]{1,18}");

    private Shortcut() {}

    /**
     * Runs {@code args} if they are a plain token command whose keys load, and returns the exit status; returns null,
     * having read and written nothing, when picocli must run them.
     */
    static Integer run(String[] args, FernetCommand command, Map<String, String> env, PrintWriter err) {
        if (args.length == 0) {
            return null;
        }
        boolean decrypt = args[0].equals("decrypt");
        if (args[0].equals("keygen")) {
            return args.length == 1 ? command.keygen(null) : null;
        }
        if (!decrypt && !args[0].equals("encrypt")) {
            return null;
        }
        String keyFile = null;
        String ttl = null;
        for (int i = 1; i < args.length; i++) {
            String name = args[i];
            String value;
            int equals = name.indexOf('=');
            if (equals > 0) {
                value = name.substring(equals + 1);
                name = name.substring(0, equals);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return null;
            }
            if (value.isEmpty() || value.startsWith("-")) {
                return null;
            }
            if (name.equals("--key-file") && keyFile == null) {
                keyFile = value;
            } else if (name.equals("--ttl")
                    && decrypt
                    && ttl == null
                    && TTL.matcher(value).matches()
                    && Long.parseLong(value) > 0) {
                ttl = value;
            } else {
                return null;
            }
        }
        Fernet fernet = keys(keyFile, env);
        if (fernet == null) {
            return null;
        }
        try {
            return decrypt
                    ? command.decryptWith(fernet, ttl == null ? null : Duration.ofSeconds(Long.parseLong(ttl)))
                    : command.encryptWith(fernet);
        } catch (RuntimeException | OutOfMemoryError e) {
            return Main.failed(e, err);
        }
    }

    /** Loads the keys as {@link KeyOptions} does, or returns null when it would refuse them, in its own words. */
    private static Fernet keys(String keyFile, Map<String, String> env) {
        if (!onlyTheSimpleKeySettings(keyFile, env)) {
            return null; // a key file or keystore from the configuration, or a permission setting: picocli's path
        }
        FernetKeyRing ring;
        try {
            if (keyFile != null) {
                ring = FernetKeyRing.readKeyFile(Path.of(keyFile));
            } else {
                String variable = env.get(KeyOptions.ENV_VARIABLE);
                if (variable == null || variable.isBlank()) {
                    return null;
                }
                ring = FernetKeyRing.parseKeys(variable);
            }
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
        try {
            return Fernet.of(ring);
        } finally {
            ring.destroy();
        }
    }

    /**
     * Returns whether the keys come from {@code --key-file} or {@code FERNET_KEY} alone, as this shortcut reads them:
     * with any other key setting (a property, a key file or keystore variable, a permission setting) the full key
     * policy of the socket factories decides, and only picocli's path applies it.
     */
    private static boolean onlyTheSimpleKeySettings(String keyFile, Map<String, String> env) {
        for (String property :
                List.of("fernet.keyFile", "fernet.key", "fernet.keyStore", "fernet.keyFile.permissions")) {
            if (System.getProperty(property) != null || Security.getProperty(property) != null) {
                return false;
            }
        }
        List<String> variables = keyFile != null
                ? List.of("FERNET_KEY_FILE_PERMISSIONS")
                : List.of("FERNET_KEY_FILE", "FERNET_KEYSTORE", "FERNET_KEY_FILE_PERMISSIONS");
        return variables.stream()
                .allMatch(variable ->
                        env.get(variable) == null || env.get(variable).isBlank());
    }
}
