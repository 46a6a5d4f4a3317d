package dev.fernetjca.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where {@code encrypt}, {@code decrypt} and {@code psk} find their keys: {@code --key-file FILE}, read by
 * {@link FernetKeyRing#readKeyFile} (one key a line, the primary first; blank lines and {@code #} comments ignored; a
 * regular file of at most 64 KiB and 16 keys, not open to group or others), else the {@code FERNET_KEY} environment
 * variable, read by {@link FernetKeyRing#parseKeys} (keys separated by commas, the primary first). Keys are never taken
 * from an argument: arguments show in {@code ps} and in shell history.
 *
 * <p>Every problem is a usage error (exit status 2) with the provider's message, which names the file and line, or the
 * entry of the variable, but never their text.
 *
 * <p>Not thread-safe; picocli fills one instance per command line.
 */
final class KeyOptions {
    static final String ENV_VARIABLE = "FERNET_KEY";

    @Option(names = "--key-file", paramLabel = "FILE",
            description = {"Read keys from FILE, one a line; the first encrypts, all decrypt.",
                    "FILE must not be open to group or others (chmod 600). Without it, FERNET_KEY is used."})
    Path keyFile;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** Returns a Fernet holding the configured keys; a usage error if there are none or one is unusable. */
    Fernet load(Map<String, String> env) {
        FernetKeyRing ring = ring(env);
        try {
            return Fernet.of(ring);
        } finally {
            ring.destroy();
        }
    }

    /**
     * Returns the configured keys as a ring, the primary first; the caller destroys it. A usage error if there are
     * none or one is unusable.
     */
    FernetKeyRing ring(Map<String, String> env) {
        if (keyFile != null) {
            try {
                return FernetKeyRing.readKeyFile(keyFile);
            } catch (IOException | IllegalArgumentException e) {
                // the provider's message names the file and line, never a line's text
                String message = e.getMessage();
                if (message.endsWith(" is a pipe, not a regular file")) {
                    // what a shell's <(...) gives: the keys would have to travel through an argument or a pipe
                    message += "; give the path of a key file (chmod 600), not <(...) or a pipe";
                }
                throw usage(message);
            }
        }
        String variable = env.get(ENV_VARIABLE);
        if (variable == null || variable.isBlank()) {
            throw usage("no key: give --key-file FILE or set the " + ENV_VARIABLE + " environment variable");
        }
        try {
            return FernetKeyRing.parseKeys(variable);
        } catch (IllegalArgumentException e) {
            throw usage(ENV_VARIABLE + " " + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(command.commandLine(), message);
    }
}
