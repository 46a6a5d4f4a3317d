package dev.fernetjca.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where {@code encrypt}, {@code decrypt} and {@code psk} find their keys: {@code --key-file FILE} (one key a line,
 * the primary first; blank lines and lines starting with {@code #} ignored), else the {@code FERNET_KEY} environment
 * variable (keys separated by commas, the primary first). Keys are never taken from an argument: arguments show in
 * {@code ps} and in shell history.
 *
 * <p>Keys are decoded from bytes, not from Strings, so that every copy of a key file's secrets can be wiped. Every
 * problem is a usage error whose message names the file and line, or the variable and entry, but never their text.
 *
 * <p>Not thread-safe; picocli fills one instance per command line.
 */
final class KeyOptions {
    static final String ENV_VARIABLE = "FERNET_KEY";

    /** A key file is a few lines; anything much larger is the wrong file. */
    static final int MAX_KEY_FILE_BYTES = 64 * 1024;

    private static final int KEY_CHARS = 44;
    private static final int KEY_BYTES = 32;

    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

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
            byte[] content = readKeyFile(keyFile);
            try {
                return ring(content, (byte) '\n', "key file " + keyFile + " line ", "key file " + keyFile);
            } finally {
                Arrays.fill(content, (byte) 0);
            }
        }
        String variable = env.get(ENV_VARIABLE);
        if (variable == null || variable.isBlank()) {
            throw usage("no key: give --key-file FILE or set the " + ENV_VARIABLE + " environment variable");
        }
        byte[] content = variable.getBytes(StandardCharsets.ISO_8859_1);
        try {
            return ring(content, (byte) ',', ENV_VARIABLE + " entry ", ENV_VARIABLE);
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    private byte[] readKeyFile(Path path) {
        try {
            PosixFileAttributeView posix = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            if (posix != null) {
                // judged on the bits, not on whether we can read it: root reads anything, yet others must not
                Set<PosixFilePermission> permissions = posix.readAttributes().permissions();
                if (!disjoint(permissions, GROUP_OR_OTHERS)) {
                    throw usage("key file " + path + " has permissions " + PosixFilePermissions.toString(permissions)
                            + ", open to group or others; restrict it with chmod 600 " + path);
                }
            }
            byte[] content;
            try (InputStream stream = Files.newInputStream(path)) {
                content = FernetCommand.readAtMost(stream, MAX_KEY_FILE_BYTES);
            }
            if (content.length > MAX_KEY_FILE_BYTES) {
                Arrays.fill(content, (byte) 0);
                throw usage("key file " + path + " is over " + MAX_KEY_FILE_BYTES + " bytes; is it the right file?");
            }
            return content;
        } catch (NoSuchFileException e) {
            throw usage("key file " + path + " does not exist");
        } catch (AccessDeniedException e) {
            throw usage("key file " + path + " is not readable");
        } catch (IOException e) {
            throw usage("cannot read key file " + path + ": " + e.getMessage());
        }
    }

    private static boolean disjoint(Set<PosixFilePermission> a, Set<PosixFilePermission> b) {
        for (PosixFilePermission permission : a) {
            if (b.contains(permission)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Decodes the keys of {@code content}, split at {@code separator}, into a ring; {@code where} prefixes the
     * 1-based entry number in messages, {@code source} names the whole.
     */
    private FernetKeyRing ring(byte[] content, byte separator, String where, String source) {
        List<SecretKey> keys = new ArrayList<>();
        try {
            SecretKeyFactory factory = SecretKeyFactory.getInstance("Fernet", Holder.PROVIDER);
            int entry = 0;
            int start = 0;
            while (start <= content.length) {
                int end = indexOf(content, separator, start);
                entry++;
                int from = start;
                int to = end;
                while (from < to && FernetCommand.isAsciiWhitespace(content[from])) {
                    from++;
                }
                while (to > from && FernetCommand.isAsciiWhitespace(content[to - 1])) {
                    to--;
                }
                if (from < to && content[from] != '#') {
                    keys.add(decodeKey(factory, content, from, to, where + entry));
                }
                start = end + 1;
            }
            if (keys.isEmpty()) {
                throw usage(source + " holds no key");
            }
            return FernetKeyRing.of(keys.get(0), keys.subList(1, keys.size()).toArray(new SecretKey[0]));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the FernetJCA provider cannot make keys", e);
        } finally {
            for (SecretKey key : keys) {
                destroy(key);
            }
        }
    }

    private SecretKey decodeKey(SecretKeyFactory factory, byte[] content, int from, int to, String where)
            throws GeneralSecurityException {
        if (to - from != KEY_CHARS) {
            throw usage(where + ": a Fernet key is " + KEY_CHARS + " characters of url-safe base64, got "
                    + (to - from));
        }
        byte[] text = Arrays.copyOfRange(content, from, to);
        byte[] raw = null;
        try {
            raw = Base64.getUrlDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            // the JDK's message may quote a character of the key
            throw usage(where + ": a Fernet key must be url-safe base64");
        } finally {
            Arrays.fill(text, (byte) 0);
        }
        FernetKeySpec spec = null;
        try {
            if (raw.length != KEY_BYTES) {
                throw usage(where + ": a Fernet key must decode to " + KEY_BYTES + " bytes, got " + raw.length);
            }
            spec = new FernetKeySpec(raw);
            return factory.generateSecret(spec);
        } finally {
            Arrays.fill(raw, (byte) 0);
            if (spec != null) {
                spec.destroy();
            }
        }
    }

    private static void destroy(SecretKey key) {
        try {
            key.destroy();
        } catch (javax.security.auth.DestroyFailedException e) {
            // only our own keys are here, and they can always be destroyed
        }
    }

    private static int indexOf(byte[] content, byte separator, int from) {
        for (int i = from; i < content.length; i++) {
            if (content[i] == separator) {
                return i;
            }
        }
        return content.length;
    }

    private ParameterException usage(String message) {
        return new ParameterException(command.commandLine(), message);
    }

    private static final class Holder {
        static final FernetProvider PROVIDER = new FernetProvider();
    }
}
