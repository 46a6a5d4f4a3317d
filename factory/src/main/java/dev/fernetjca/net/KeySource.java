package dev.fernetjca.net;

import dev.fernetjca.provider.FernetKeyRing;
import dev.fernetjca.provider.FernetKeySpec;
import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.CharBuffer;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.Security;
import java.security.UnrecoverableEntryException;
import java.security.UnrecoverableKeyException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.security.auth.DestroyFailedException;
import javax.security.auth.Destroyable;

/**
 * Finds the Fernet keys the application is configured with, for the socket factories' no-argument constructors.
 *
 * <p>Each setting is read through a {@link Lookup}: a system property, else the security property of the same name
 * ({@link Security#getProperty}), else an environment variable. Values that are empty or all whitespace count as
 * not set. The first of these settings that is set decides where the keys come from; later ones are ignored, with a
 * warning in the log:
 * <ol>
 *   <li>{@code fernet.keyFile} / {@code FERNET_KEY_FILE}: a key file, read by {@link FernetKeyRing#readKeyFile},
 *       which gives its format, limits and permission check.
 *   <li>{@code fernet.key} / {@code FERNET_KEY}: keys inline, comma-separated, the first the primary, read by
 *       {@link FernetKeyRing#parseKeys}.
 *   <li>{@code fernet.keyStore} / {@code FERNET_KEYSTORE}: a {@link KeyStore} file, read with
 *       {@code fernet.keyStoreType} / {@code FERNET_KEYSTORE_TYPE} (default {@code PKCS12}) and the required
 *       {@code fernet.keyStorePassword} / {@code FERNET_KEYSTORE_PASSWORD}, also used for the entry; the required
 *       {@code fernet.keyAlias} / {@code FERNET_KEY_ALIAS} names a secret key entry whose encoding is either the 32 raw
 *       key bytes (any algorithm name, such as {@code HmacSHA256} or {@code AES}) or the 44-character key string, as
 *       {@code keytool -importpass} stores it.
 * </ol>
 * A key file must be owner-only unless {@code fernet.keyFile.permissions} / {@code FERNET_KEY_FILE_PERMISSIONS} is
 * {@code readable}, which also accepts one that group or others may read but not write (a mounted secret). The
 * reference, with examples, is {@code docs/configuration.md}; {@link KeyWatch} follows a key file's changes.
 *
 * <p>Every failure is an {@link IllegalStateException} whose message names the setting, path, line number or alias
 * concerned, never a key, a line of a key file or a password.
 *
 * <p>Thread-safe: it keeps no state but whether the permissions setting was announced, and reads the configuration
 * afresh on each call.
 */
final class KeySource {
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
    static final String KEY_FILE_PERMISSIONS = "fernet.keyFile.permissions";
    static final String KEY_FILE_PERMISSIONS_VARIABLE = "FERNET_KEY_FILE_PERMISSIONS";

    static final String DEFAULT_KEY_STORE_TYPE = "PKCS12";

    /** Length of a key string in a keystore entry, as {@code keytool -importpass} stores it. */
    private static final int KEY_STRING_BYTES = 44;

    private static final FernetProvider PROVIDER = new FernetProvider();
    private static final System.Logger LOG = System.getLogger(KeySource.class.getName());
    private static final Pattern KEY_LIKE = Pattern.compile("[A-Za-z0-9_+=-]{40,}");
    static final AtomicBoolean READABLE_ANNOUNCED = new AtomicBoolean(); // tests reset it

    private KeySource() {}

    /**
     * Returns the configured keys as a ring, the primary first, read from the system properties, security properties
     * and environment of this process. The caller owns the ring and should destroy it once done.
     *
     * @throws IllegalStateException if no keys are configured, naming every property and variable consulted, or if
     *     the configured keys cannot be read
     */
    static FernetKeyRing configured() {
        return from(Lookup.PROCESS);
    }

    /**
     * Returns the key file that {@code sources} configure, or null when the keys come from elsewhere (inline or a
     * keystore) or from nowhere: the file that a factory built from the configuration watches.
     */
    static Path configuredKeyFile(Lookup sources) {
        Lookup.Found keyFile = sources.find(KEY_FILE, KEY_FILE_VARIABLE);
        if (keyFile == null || looksLikeKey(keyFile.value)) {
            return null;
        }
        try {
            return Path.of(keyFile.value.strip());
        } catch (InvalidPathException e) {
            return null; // reading it says why
        }
    }

    /**
     * Reads {@code fernet.keyFile.permissions}: {@code strict} (the default) or {@code readable}, which accepts a key
     * file that group or others may read but not write (a mounted secret), and says so at INFO once per JVM.
     */
    static boolean readableByOthers(Lookup sources) {
        Lookup.Found permissions = sources.find(KEY_FILE_PERMISSIONS, KEY_FILE_PERMISSIONS_VARIABLE);
        if (permissions == null || permissions.value.strip().equalsIgnoreCase("strict")) {
            return false;
        }
        if (!permissions.value.strip().equalsIgnoreCase("readable")) {
            // the value is not repeated: it may be a key set in the wrong place
            throw new IllegalStateException(permissions.origin + " must be strict or readable");
        }
        if (READABLE_ANNOUNCED.compareAndSet(false, true)) {
            LOG.log(
                    Level.INFO,
                    "{0}=readable is in effect: key files that group or others may read (but not write)"
                            + " are accepted",
                    permissions.origin);
        }
        return true;
    }

    /**
     * Returns the keys configured in the given sources, as {@link #configured()} does; each function returns a
     * setting's value by name, or null when it is not set.
     *
     * @throws IllegalStateException as {@link #configured()}
     */
    static FernetKeyRing from(
            Function<String, String> systemProperties,
            Function<String, String> securityProperties,
            Function<String, String> environment) {
        return from(new Lookup(systemProperties, securityProperties, environment));
    }

    /** Returns the keys configured in {@code sources}, as {@link #configured()} does. */
    static FernetKeyRing from(Lookup sources) {
        Lookup.Found keyFile = sources.find(KEY_FILE, KEY_FILE_VARIABLE);
        Lookup.Found key = sources.find(KEY, KEY_VARIABLE);
        Lookup.Found keyStore = sources.find(KEY_STORE, KEY_STORE_VARIABLE);
        if (keyFile != null) {
            warnIgnored(keyFile, key, keyStore);
            return keyFile(keyFile, readableByOthers(sources));
        }
        if (key != null) {
            warnIgnored(key, keyStore);
            return inline(key);
        }
        if (keyStore != null) {
            return keyStore(
                    keyStore,
                    sources.find(KEY_STORE_TYPE, KEY_STORE_TYPE_VARIABLE),
                    sources.find(KEY_STORE_PASSWORD, KEY_STORE_PASSWORD_VARIABLE),
                    sources.find(KEY_ALIAS, KEY_ALIAS_VARIABLE));
        }
        throw new IllegalStateException("no Fernet keys configured: set the system or security property "
                + KEY_FILE + ", " + KEY + " or " + KEY_STORE + " (with " + KEY_STORE_TYPE + ", " + KEY_STORE_PASSWORD
                + ", " + KEY_ALIAS + "), or the environment variable " + KEY_FILE_VARIABLE + ", " + KEY_VARIABLE
                + " or " + KEY_STORE_VARIABLE + " (with " + KEY_STORE_TYPE_VARIABLE + ", "
                + KEY_STORE_PASSWORD_VARIABLE + ", " + KEY_ALIAS_VARIABLE + ")");
    }

    private static void warnIgnored(Lookup.Found used, Lookup.Found... others) {
        for (Lookup.Found other : others) {
            if (other != null) {
                LOG.log(Level.WARNING, "{0} is ignored: {1} takes precedence", other.origin, used.origin);
            }
        }
    }

    // ---- key file and inline keys: the format is the provider's

    /** Returns the keys of the key file named by a socket factory's string argument, as pgjdbc's socketFactoryArg. */
    static FernetKeyRing keyFile(String path) {
        return keyFile(new Lookup.Found(path, "socket factory argument"), readableByOthers(Lookup.PROCESS));
    }

    private static FernetKeyRing keyFile(Lookup.Found setting, boolean readableByOthers) {
        refuseKeyLike(setting, "the path of a key file");
        Path path = path(setting);
        FernetKeyRing ring;
        try {
            ring = FernetKeyRing.readKeyFile(path, readableByOthers);
        } catch (IOException | IllegalArgumentException e) {
            // both messages are the provider's: they name the path and a line number, never a line
            throw new IllegalStateException(e.getMessage() + " (" + setting.origin + ")", e);
        }
        LOG.log(Level.DEBUG, "{0} from key file {1} ({2})", count(ring.size()), path, setting.origin);
        return ring;
    }

    private static FernetKeyRing inline(Lookup.Found setting) {
        FernetKeyRing ring;
        try {
            ring = FernetKeyRing.parseKeys(setting.value);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(setting.origin + " " + e.getMessage(), e);
        }
        LOG.log(Level.DEBUG, "{0} from {1}", count(ring.size()), setting.origin);
        return ring;
    }

    // ---- keystore

    private static FernetKeyRing keyStore(
            Lookup.Found store, Lookup.Found type, Lookup.Found password, Lookup.Found alias) {
        if (password == null) {
            throw new IllegalStateException(store.origin + " is set, but no " + KEY_STORE_PASSWORD + " or "
                    + KEY_STORE_PASSWORD_VARIABLE + " gives its password");
        }
        // no guessing among entries: a store that gains a second key must not change which key is used
        if (alias == null) {
            throw new IllegalStateException(store.origin + " is set, but no " + KEY_ALIAS + " or " + KEY_ALIAS_VARIABLE
                    + " names the entry to use");
        }
        refuseKeyLike(store, "the keystore's path");
        refuseKeyLike(type, "a keystore type");
        refuseKeyLike(alias, "an entry's alias");
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
            FernetKeyRing ring = entryRing(entry.getSecretKey(), path, aliasName);
            LOG.log(
                    Level.DEBUG,
                    "{0} from keystore {1} entry {2} ({3})",
                    count(ring.size()),
                    path,
                    aliasName,
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
            throw new IllegalStateException(
                    "keystore " + path + " entry " + aliasName + " cannot be recovered with the keystore password");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("keystore " + path + " cannot be read as " + typeName);
        } finally {
            Arrays.fill(passwordChars, '\0');
            destroy(protection);
        }
    }

    /**
     * Returns the ring of a keystore entry's key: 32 raw bytes or the 44-character key string. Zeroes the encoding it
     * gets from {@code entryKey} and destroys {@code entryKey} if it can be destroyed.
     */
    static FernetKeyRing entryRing(SecretKey entryKey, Path path, String alias) {
        byte[] encoded = entryKey.getEncoded();
        char[] keyString = null;
        FernetKeySpec spec = null;
        SecretKey key = null;
        try {
            if (encoded == null) {
                throw new IllegalStateException("keystore " + path + " entry " + alias + " has no raw encoding");
            }
            if (encoded.length == KEY_STRING_BYTES) {
                keyString = new char[encoded.length];
                for (int i = 0; i < encoded.length; i++) {
                    keyString[i] = (char) (encoded[i] & 0xFF);
                }
                try {
                    return FernetKeyRing.parseKeys(CharBuffer.wrap(keyString));
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException(
                            "keystore " + path + " entry " + alias + " is 44 bytes but not a Fernet key string");
                }
            }
            try {
                spec = new FernetKeySpec(encoded);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("keystore " + path + " entry " + alias + " is " + encoded.length
                        + " bytes; a Fernet key entry holds 32 raw bytes or the 44-character key string");
            }
            key = SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(spec);
            return FernetKeyRing.of(key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Fernet SecretKeyFactory failed", e);
        } finally {
            if (encoded != null) {
                Arrays.fill(encoded, (byte) 0);
            }
            if (keyString != null) {
                Arrays.fill(keyString, '\0');
            }
            if (spec != null) {
                spec.destroy();
            }
            if (key != null) {
                destroy(key);
            }
            // a SecretKeySpec cannot be wiped; a PBEKey from keytool -importpass can
            destroy(entryKey);
        }
    }

    // ---- shared

    /**
     * Refuses a setting whose value looks like a Fernet key (a run of 40 or more base64 characters in both cases):
     * a key set in the wrong place. Messages name paths, types and aliases; this keeps a key out of them.
     */
    private static void refuseKeyLike(Lookup.Found setting, String expected) {
        if (setting != null && looksLikeKey(setting.value)) {
            throw new IllegalStateException(
                    setting.origin + " looks like a Fernet key (not repeated here); it should" + " give " + expected);
        }
    }

    /** Whether {@code value} holds a run of 40 or more base64 characters with both upper and lower case. */
    static boolean looksLikeKey(String value) {
        Matcher run = KEY_LIKE.matcher(value);
        while (run.find()) {
            String text = run.group();
            if (text.chars().anyMatch(Character::isUpperCase) && text.chars().anyMatch(Character::isLowerCase)) {
                return true;
            }
        }
        return false;
    }

    private static Path path(Lookup.Found setting) {
        try {
            return Path.of(setting.value.strip());
        } catch (InvalidPathException e) {
            throw new IllegalStateException(setting.origin + " is not a valid path");
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
}
