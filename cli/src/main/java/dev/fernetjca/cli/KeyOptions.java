package dev.fernetjca.cli;

import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where {@code encrypt}, {@code decrypt}, {@code psk} and {@code tunnel} find their keys: {@code --key-file FILE},
 * else what the socket factories' configuration gives (docs/configuration.md): the key file of {@code fernet.keyFile}
 * or {@code FERNET_KEY_FILE}, else the keys of {@code fernet.key} or {@code FERNET_KEY}, else the keystore entry of
 * {@code fernet.keyStore} or {@code FERNET_KEYSTORE}. One policy, the library's: a key file is read by
 * {@link FernetKeyRing#readKeyFile} (one key a line, the primary first; not open to group or others unless
 * {@code FERNET_KEY_FILE_PERMISSIONS=readable}), inline keys by {@link FernetKeyRing#parseKeys}. Keys are never taken
 * from an argument: arguments show in {@code ps} and in shell history.
 *
 * <p>Every problem is a usage error (exit status 2) with the library's message, which names the file and line, the
 * setting, or the entry of the variable, but never their text.
 *
 * <p>Not thread-safe; picocli fills one instance per command line.
 */
final class KeyOptions {
    static final String ENV_VARIABLE = "FERNET_KEY";
    static final String KEY_FILE_VARIABLE = "FERNET_KEY_FILE";
    private static final String KEY_FILE_ORIGIN = "environment variable " + KEY_FILE_VARIABLE;

    @Option(
            names = "--key-file",
            paramLabel = "FILE",
            description = {
                "Read keys from FILE, one a line; the first encrypts, all decrypt.",
                "FILE must not be open to group or others (chmod 600). Without it, FERNET_KEY_FILE, FERNET_KEY"
                        + " or FERNET_KEYSTORE is used, as by the socket factories."
            })
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
        try {
            return FernetSocketFactory.configuredKeys(environment(env));
        } catch (IllegalStateException e) {
            throw usage(e);
        }
    }

    /**
     * Returns {@code env} as the socket factories should see it: with {@code --key-file}, as {@code FERNET_KEY_FILE}
     * and without the variables it overrides (quietly: the option is the user's choice, not a conflict). A
     * {@code fernet.keyFile} system property given to the JVM still comes first, as for every factory.
     */
    Map<String, String> environment(Map<String, String> env) {
        if (keyFile == null) {
            return env;
        }
        Map<String, String> withKeyFile = new HashMap<>(env);
        withKeyFile.remove(ENV_VARIABLE);
        withKeyFile.remove("FERNET_KEYSTORE");
        withKeyFile.put(KEY_FILE_VARIABLE, keyFile.toString());
        return withKeyFile;
    }

    /** Returns the library's refusal as a usage error, in the command's words where they are shorter. */
    ParameterException usage(IllegalStateException e) {
        String message = e.getMessage();
        if (message.startsWith("no Fernet keys configured")) {
            return usage("no key: give --key-file FILE or set the FERNET_KEY environment variable (or FERNET_KEY_FILE,"
                    + " or FERNET_KEYSTORE with FERNET_KEYSTORE_PASSWORD and FERNET_KEY_ALIAS)");
        }
        if (keyFile != null) {
            // the file is the option's, not the variable's that carried it to the library
            message = message.replace(" (" + KEY_FILE_ORIGIN + ")", "").replace(KEY_FILE_ORIGIN, "--key-file");
        }
        if (message.contains(" is a pipe, not a regular file")) {
            // what a shell's <(...) gives: the keys would have to travel through an argument or a pipe
            message += "; give the path of a key file (chmod 600), not <(...) or a pipe";
        }
        return usage(message);
    }

    private ParameterException usage(String message) {
        return new ParameterException(command.commandLine(), message);
    }
}
