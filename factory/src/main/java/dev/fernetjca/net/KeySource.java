package dev.fernetjca.net;

import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.Security;
import java.security.UnrecoverableEntryException;
import java.security.UnrecoverableKeyException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.security.auth.DestroyFailedException;
import javax.security.auth.Destroyable;

/**
 * Finds the Fernet keys the application is configured with, for the socket factories' no-argument constructors.
 *
 * <p>Each setting is read from a system property, else from the security property of the same name
 * ({@link Security#getProperty}), else from an environment variable. Values that are empty or all whitespace count as
 * not set. The first of these settings that is set decides where the keys come from; later ones are ignored, with a
 * warning in the log:
 * <ol>
 *   <li>{@code fernet.keyFile} / {@code FERNET_KEY_FILE}: a file of url-safe base64 keys, one per line, the first the
 *       primary; lines starting with {@code #} and blank lines are skipped, surrounding whitespace is ignored. The file
 *       must not be accessible to group or others where the file system has POSIX permissions, must be at most
 *       {@value #MAX_FILE_BYTES} bytes and hold 1 to {@value #MAX_KEYS} keys.
 *   <li>{@code fernet.key} / {@code FERNET_KEY}: keys inline, comma-separated, the first the primary.
 *   <li>{@code fernet.keyStore} / {@code FERNET_KEYSTORE}: a {@link KeyStore} file, read with
 *       {@code fernet.keyStoreType} / {@code FERNET_KEYSTORE_TYPE} (default {@code PKCS12}) and the required
 *       {@code fernet.keyStorePassword} / {@code FERNET_KEYSTORE_PASSWORD}, also used for the entry; the required
 *       {@code fernet.keyAlias} / {@code FERNET_KEY_ALIAS} names a secret key entry whose encoding is either the 32 raw
 *       key bytes (any algorithm name, such as {@code HmacSHA256} or {@code AES}) or the 44-character key string, as
 *       {@code keytool -importpass} stores it.
 * </ol>
 * The reference, with examples, is {@code docs/configuration.md}.
 *
 * <p>Every failure is an {@link IllegalStateException} whose message names the setting, path, line number or alias
 * concerned, never a key, a line of a key file or a password.
 *
 * <p>Thread-safe: it keeps no state, and reads the configuration afresh on each call.
 */
final class KeySource {
    /** Largest key file read, in bytes. */
    static final int MAX_FILE_BYTES = 64 * 1024;
    /** Most keys accepted from a key file or an inline setting. */
    static final int MAX_KEYS = 16;

    static final String KEY_FILE = "fernet.keyFile";
    static final String KEY = "fernet.key";
    static final String KEY_STORE = "fernet.keyStore";
    static final String KEY_STORE_TYPE = "fernet.keyStoreType";
    static final String KEY_STORE_PASSWORD = "fernet.keyStorePassword";
    static final String KEY_ALIAS = "fernet.keyAlias";
    static final String KEY_FILE_VARIABLE = "FERNET_KEY_FILE";
    static final String KEY_VARIABLE = "FERNET_KEY";
    static final String KEY_STORE_VARIABLE = "FERNET_KEYSTORE";
    static final String KEY_STORE_TYPE_VARIABLE = "FERNET_KEYSTORE_TYPE";
    static final String KEY_STORE_PASSWORD_VARIABLE = "FERNET_KEYSTORE_PASSWORD";
    static final String KEY_ALIAS_VARIABLE = "FERNET_KEY_ALIAS";

    static final String DEFAULT_KEY_STORE_TYPE = "PKCS12";

    private static final int KEY_CHARS = 44;
    private static final int KEY_BYTES = 32;
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    private static final FernetProvider PROVIDER = new FernetProvider();
    private static final System.Logger LOG = System.getLogger(KeySource.class.getName());

    private KeySource() {
    }

    /**
     * Returns the configured keys as a ring, the primary first, read from the system properties, security properties
     * and environment of this process. The caller owns the ring and should destroy it once done.
     *
     * @throws IllegalStateException if no keys are configured, naming every property and variable consulted, or if
     *     the configured keys cannot be read
     */
    static FernetKeyRing configured() {
        return from(System::getProperty, Security::getProperty, System::getenv);
    }

    /**
     * Returns the keys configured in the given sources, as {@link #configured()} does; each function returns a
     * setting's value by name, or null when it is not set.
     *
     * @throws IllegalStateException as {@link #configured()}
     */
    static FernetKeyRing from(Function<String, String> systemProperties, Function<String, String> securityProperties,
            Function<String, String> environment) {
        Sources sources = new Sources(systemProperties, securityProperties, environment);
        Setting keyFile = sources.lookup(KEY_FILE, KEY_FILE_VARIABLE);
        Setting key = sources.lookup(KEY, KEY_VARIABLE);
        Setting keyStore = sources.lookup(KEY_STORE, KEY_STORE_VARIABLE);
        if (keyFile != null) {
            warnIgnored(keyFile, key, keyStore);
            return keyFile(keyFile);
        }
        if (key != null) {
            warnIgnored(key, keyStore);
            return inline(key);
        }
        if (keyStore != null) {
            return keyStore(keyStore, sources.lookup(KEY_STORE_TYPE, KEY_STORE_TYPE_VARIABLE),
                    sources.lookup(KEY_STORE_PASSWORD, KEY_STORE_PASSWORD_VARIABLE),
                    sources.lookup(KEY_ALIAS, KEY_ALIAS_VARIABLE));
        }
        throw new IllegalStateException("no Fernet keys configured: set the system or security property "
                + KEY_FILE + ", " + KEY + " or " + KEY_STORE + " (with " + KEY_STORE_TYPE + ", " + KEY_STORE_PASSWORD
                + ", " + KEY_ALIAS + "), or the environment variable " + KEY_FILE_VARIABLE + ", " + KEY_VARIABLE
                + " or " + KEY_STORE_VARIABLE + " (with " + KEY_STORE_TYPE_VARIABLE + ", "
                + KEY_STORE_PASSWORD_VARIABLE + ", " + KEY_ALIAS_VARIABLE + ")");
    }

    private static void warnIgnored(Setting used, Setting... others) {
        for (Setting other : others) {
            if (other != null) {
                LOG.log(Level.WARNING, "{0} is ignored: {1} takes precedence", other.origin, used.origin);
            }
        }
    }

    // ---- key file

    private static FernetKeyRing keyFile(Setting setting) {
        Path path = path(setting);
        checkRegularFile(path);
        // check and open one resolved path, not a link that could be swapped between the two
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            throw new IllegalStateException("key file " + path + " cannot be resolved", e);
        }
        checkRegularFile(real);
        checkPermissions(real);
        byte[] text = null;
        try (InputStream in = Files.newInputStream(real, LinkOption.NOFOLLOW_LINKS)) {
            // one byte over the limit tells a file at the limit from a larger one, even one still growing
            text = in.readNBytes(MAX_FILE_BYTES + 1);
            if (text.length > MAX_FILE_BYTES) {
                throw new IllegalStateException("key file " + path + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            FernetKeyRing ring = ring(parseKeyFile(text, path));
            LOG.log(Level.DEBUG, "{0} from key file {1} ({2})", count(ring.size()), path, setting.origin);
            return ring;
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("key file " + path + " does not exist (" + setting.origin + ")", e);
        } catch (AccessDeniedException e) {
            throw new IllegalStateException("key file " + path + " cannot be read: access denied", e);
        } catch (IOException e) {
            throw new IllegalStateException("key file " + path + " cannot be read", e);
        } finally {
            if (text != null) {
                Arrays.fill(text, (byte) 0);
            }
        }
    }

    private static void checkRegularFile(Path path) {
        if (Files.notExists(path)) {
            throw new IllegalStateException("key file " + path + " does not exist");
        }
        if (!Files.isRegularFile(path)) {
            // a directory fails later anyway; a FIFO or device could block or never end
            throw new IllegalStateException("key file " + path + " is not a regular file");
        }
    }

    private static void checkPermissions(Path path) {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        if (view == null) {
            LOG.log(Level.DEBUG, "key file {0}: no POSIX permissions to check on this file system", path);
            return;
        }
        Set<PosixFilePermission> permissions;
        try {
            permissions = view.readAttributes().permissions();
        } catch (IOException e) {
            throw new IllegalStateException("key file " + path + ": cannot read its permissions", e);
        }
        // judged on the bits, not on whether this process could read it: root reads any file
        if (!Collections.disjoint(permissions, GROUP_OR_OTHERS)) {
            throw new IllegalStateException("key file " + path
                    + " is accessible to group or others; restrict it with chmod 600 " + path);
        }
    }

    private static List<FernetKeySpec> parseKeyFile(byte[] text, Path path) {
        List<FernetKeySpec> specs = new ArrayList<>();
        try {
            int start = startsWithByteOrderMark(text) ? 3 : 0;
            int lineNumber = 0;
            while (start < text.length) {
                int end = indexOf(text, (byte) '\n', start, text.length);
                lineNumber++;
                int from = skipWhitespace(text, start, end);
                int to = trimWhitespace(text, from, end);
                if (from < to && text[from] != '#') {
                    if (specs.size() == MAX_KEYS) {
                        throw new IllegalStateException(
                                "key file " + path + " holds more than " + MAX_KEYS + " keys");
                    }
                    try {
                        specs.add(decodeKey(text, from, to));
                    } catch (IllegalArgumentException e) {
                        // no cause: its message is ours, and the line itself must not travel
                        throw new IllegalStateException("key file " + path + " line " + lineNumber
                                + ": not a Fernet key (44 characters of url-safe base64)");
                    }
                }
                start = end + 1;
            }
            if (specs.isEmpty()) {
                throw new IllegalStateException("key file " + path + " holds no keys");
            }
            return specs;
        } catch (RuntimeException e) {
            specs.forEach(KeySource::destroy);
            throw e;
        }
    }

    private static boolean startsWithByteOrderMark(byte[] text) {
        return text.length >= 3 && text[0] == (byte) 0xEF && text[1] == (byte) 0xBB && text[2] == (byte) 0xBF;
    }

    // ---- inline keys

    private static FernetKeyRing inline(Setting setting) {
        byte[] text = setting.value.getBytes(StandardCharsets.ISO_8859_1);
        List<FernetKeySpec> specs = new ArrayList<>();
        try {
            int start = 0;
            int position = 0;
            while (start <= text.length) {
                int end = indexOf(text, (byte) ',', start, text.length);
                position++;
                if (position > MAX_KEYS) {
                    throw new IllegalStateException(setting.origin + " holds more than " + MAX_KEYS + " keys");
                }
                int from = skipWhitespace(text, start, end);
                try {
                    specs.add(decodeKey(text, from, trimWhitespace(text, from, end)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException(setting.origin + ": key " + position
                            + " is not a Fernet key (44 characters of url-safe base64)");
                }
                start = end + 1;
            }
        } catch (RuntimeException e) {
            specs.forEach(KeySource::destroy);
            throw e;
        } finally {
            Arrays.fill(text, (byte) 0);
        }
        FernetKeyRing ring = ring(specs);
        LOG.log(Level.DEBUG, "{0} from {1}", count(ring.size()), setting.origin);
        return ring;
    }

    // ---- keystore

    private static FernetKeyRing keyStore(Setting store, Setting type, Setting password, Setting alias) {
        if (password == null) {
            throw new IllegalStateException(store.origin + " is set, but no " + KEY_STORE_PASSWORD + " or "
                    + KEY_STORE_PASSWORD_VARIABLE + " gives its password");
        }
        // no guessing among entries: a store that gains a second key must not change which key is used
        if (alias == null) {
            throw new IllegalStateException(store.origin + " is set, but no " + KEY_ALIAS + " or "
                    + KEY_ALIAS_VARIABLE + " names the entry to use");
        }
        Path path = path(store);
        String typeName = type == null ? DEFAULT_KEY_STORE_TYPE : type.value.strip();
        String aliasName = alias.value.strip();
        KeyStore keyStore;
        try {
            keyStore = KeyStore.getInstance(typeName);
        } catch (KeyStoreException e) {
            throw new IllegalStateException("keystore type " + typeName + " is not available", e);
        }
        // the password is used as given: surrounding spaces may belong to it
        char[] passwordChars = password.value.toCharArray();
        KeyStore.PasswordProtection protection = new KeyStore.PasswordProtection(passwordChars);
        try (InputStream in = Files.newInputStream(path)) {
            keyStore.load(in, passwordChars);
            if (!keyStore.containsAlias(aliasName)) {
                throw new IllegalStateException("keystore " + path + " has no entry " + aliasName);
            }
            if (!keyStore.entryInstanceOf(aliasName, KeyStore.SecretKeyEntry.class)) {
                throw new IllegalStateException("keystore " + path + " entry " + aliasName + " is not a secret key");
            }
            KeyStore.SecretKeyEntry entry = (KeyStore.SecretKeyEntry) keyStore.getEntry(aliasName, protection);
            FernetKeyRing ring = ring(List.of(entrySpec(entry.getSecretKey(), path, aliasName)));
            LOG.log(Level.DEBUG, "{0} from keystore {1} entry {2} ({3})", count(ring.size()), path, aliasName,
                    store.origin);
            return ring;
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("keystore " + path + " does not exist (" + store.origin + ")", e);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new IllegalStateException("keystore " + path + ": wrong password (" + password.origin + ")");
            }
            // no cause: a parser's message may quote bytes of the file, which could be a key file given by mistake
            throw new IllegalStateException("keystore " + path + " cannot be read as " + typeName);
        } catch (UnrecoverableEntryException e) {
            throw new IllegalStateException("keystore " + path + " entry " + aliasName
                    + " cannot be recovered with the keystore password");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("keystore " + path + " cannot be read as " + typeName);
        } finally {
            Arrays.fill(passwordChars, '\0');
            destroy(protection);
        }
    }

    private static FernetKeySpec entrySpec(SecretKey entryKey, Path path, String alias) {
        byte[] encoded = entryKey.getEncoded();
        try {
            if (encoded == null) {
                throw new IllegalStateException("keystore " + path + " entry " + alias + " has no raw encoding");
            }
            if (encoded.length == KEY_BYTES) {
                return new FernetKeySpec(encoded);
            }
            if (encoded.length == KEY_CHARS) {
                try {
                    return decodeKey(encoded, 0, encoded.length);
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException("keystore " + path + " entry " + alias
                            + " is 44 bytes but not a Fernet key string");
                }
            }
            throw new IllegalStateException("keystore " + path + " entry " + alias + " is " + encoded.length
                    + " bytes; a Fernet key entry holds 32 raw bytes or the 44-character key string");
        } finally {
            if (encoded != null) {
                Arrays.fill(encoded, (byte) 0);
            }
            // a SecretKeySpec cannot be wiped; a PBEKey from keytool -importpass can
            destroy(entryKey);
        }
    }

    // ---- shared

    private static Path path(Setting setting) {
        try {
            return Path.of(setting.value.strip());
        } catch (InvalidPathException e) {
            throw new IllegalStateException(setting.origin + " is not a valid path");
        }
    }

    /**
     * Decodes {@code text[from, to)} as FernetKeySpec(String) does, strictly, but from bytes that can be wiped.
     *
     * @throws IllegalArgumentException without detail, so nothing of the text can travel
     */
    private static FernetKeySpec decodeKey(byte[] text, int from, int to) {
        if (to - from != KEY_CHARS) {
            throw new IllegalArgumentException();
        }
        byte[] ascii = Arrays.copyOfRange(text, from, to);
        byte[] raw = null;
        try {
            raw = Base64.getUrlDecoder().decode(ascii);
            if (raw.length != KEY_BYTES) {
                throw new IllegalArgumentException();
            }
            return new FernetKeySpec(raw);
        } catch (IllegalArgumentException e) {
            // the JDK's message may quote a character of the key
            throw new IllegalArgumentException();
        } finally {
            Arrays.fill(ascii, (byte) 0);
            if (raw != null) {
                Arrays.fill(raw, (byte) 0);
            }
        }
    }

    private static FernetKeyRing ring(List<FernetKeySpec> specs) {
        List<SecretKey> keys = new ArrayList<>(specs.size());
        try {
            SecretKeyFactory factory = SecretKeyFactory.getInstance("Fernet", PROVIDER);
            for (FernetKeySpec spec : specs) {
                keys.add(factory.generateSecret(spec));
            }
            return FernetKeyRing.of(keys.get(0), keys.subList(1, keys.size()).toArray(new SecretKey[0]));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Fernet SecretKeyFactory failed", e);
        } finally {
            keys.forEach(KeySource::destroy);
            specs.forEach(KeySource::destroy);
        }
    }

    private static void destroy(Destroyable secret) {
        try {
            secret.destroy();
        } catch (DestroyFailedException e) {
            // SecretKeySpec and some providers' keys cannot be destroyed; our own copies already are
        }
    }

    private static String count(int keys) {
        return keys == 1 ? "1 key" : keys + " keys";
    }

    private static int indexOf(byte[] text, byte wanted, int from, int to) {
        for (int i = from; i < to; i++) {
            if (text[i] == wanted) {
                return i;
            }
        }
        return to;
    }

    private static int skipWhitespace(byte[] text, int from, int to) {
        while (from < to && isWhitespace(text[from])) {
            from++;
        }
        return from;
    }

    private static int trimWhitespace(byte[] text, int from, int to) {
        while (to > from && isWhitespace(text[to - 1])) {
            to--;
        }
        return to;
    }

    private static boolean isWhitespace(byte b) {
        return (b & 0xFF) <= ' '; // as String.trim; bytes over 0x7F are not whitespace
    }

    /** The three places a setting is looked up, in order. */
    private static final class Sources {
        private final Function<String, String> systemProperties;
        private final Function<String, String> securityProperties;
        private final Function<String, String> environment;

        Sources(Function<String, String> systemProperties, Function<String, String> securityProperties,
                Function<String, String> environment) {
            this.systemProperties = systemProperties;
            this.securityProperties = securityProperties;
            this.environment = environment;
        }

        /** Returns the first non-blank value of {@code property} or {@code variable}, or null. */
        Setting lookup(String property, String variable) {
            String value = systemProperties.apply(property);
            if (isSet(value)) {
                return new Setting(value, "system property " + property);
            }
            value = securityProperties.apply(property);
            if (isSet(value)) {
                return new Setting(value, "security property " + property);
            }
            value = environment.apply(variable);
            if (isSet(value)) {
                return new Setting(value, "environment variable " + variable);
            }
            return null;
        }

        private static boolean isSet(String value) {
            return value != null && !value.isBlank();
        }
    }

    /** A setting's value and where it came from; not a record, since the value may be a key or a password. */
    private static final class Setting {
        final String value;
        final String origin;

        Setting(String value, String origin) {
            this.value = value;
            this.origin = origin;
        }

        @Override
        public String toString() {
            return origin;
        }
    }
}
