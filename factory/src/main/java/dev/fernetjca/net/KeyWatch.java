package dev.fernetjca.net;

import dev.fernetjca.provider.FernetKeyRing;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The settings of a factory built from the configuration, kept current with its key file: at most once every
 * {@code fernet.keyFile.refresh} seconds (default 10; 0 checks on every new connection), a new connection first looks
 * at the file's modification time, status change time, size and file key, through every link, so that an edit, a
 * replace-by-rename (Vault Agent, the Secrets Store CSI driver) and a Kubernetes {@code ..data} symlink swap are all
 * seen. A changed file is read again; new connections get its keys, established ones keep theirs. A file that cannot
 * be used (a parse error, a failed permission check, gone) leaves the keys in force, with one error in the log naming
 * the file and the problem.
 *
 * <p>Factories made with a key in code, or configured with inline keys or a keystore, watch nothing.
 *
 * <p>Thread-safe: any thread may ask for the settings; a check runs on one thread at a time.
 */
final class KeyWatch {
    static final String REFRESH_PROPERTY = "fernet.keyFile.refresh";
    static final String REFRESH_VARIABLE = "FERNET_KEY_FILE_REFRESH";
    static final Duration DEFAULT_REFRESH = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger(KeyWatch.class.getName());

    private final Lookup lookup; // null: fixed settings
    private final FernetSocketOptions options; // how the keys read become settings
    private final Path keyFile; // null: nothing to watch
    private final long refreshNanos;
    private volatile Settings current;
    private volatile long nextCheck;
    private FileState seen; // guarded by this

    private KeyWatch(
            Lookup lookup,
            FernetSocketOptions options,
            Path keyFile,
            long refreshNanos,
            Settings current,
            FileState seen) {
        this.lookup = lookup;
        this.options = options;
        this.keyFile = keyFile;
        this.refreshNanos = refreshNanos;
        this.current = current;
        this.seen = seen;
        this.nextCheck = System.nanoTime() + refreshNanos;
    }

    /** Settings that never change: a factory made with a key in code. */
    static KeyWatch fixed(Settings settings) {
        return new KeyWatch(null, null, null, 0, settings, null);
    }

    /**
     * Reads the settings {@code lookup} finds and, when the keys come from a key file, watches it.
     *
     * @throws IllegalStateException if no keys are configured or a setting is invalid
     */
    static KeyWatch configured(Lookup lookup) {
        return configured(lookup, FernetSocketOptions.fromConfiguration());
    }

    /**
     * Reads the keys {@code lookup} finds, turned into settings as {@code options} say (what they leave open comes
     * from {@code lookup} too), and, when the keys come from a key file, watches it.
     *
     * @throws IllegalStateException if no keys are configured or a setting is invalid
     */
    static KeyWatch configured(Lookup lookup, FernetSocketOptions options) {
        Path keyFile = KeySource.configuredKeyFile(lookup);
        long refreshNanos = refresh(lookup).toNanos();
        // looked at before the read: a change made during the read is seen at the next check
        FileState state = keyFile == null ? null : FileState.of(keyFile);
        Settings settings = read(lookup, options);
        return new KeyWatch(lookup, options, keyFile, refreshNanos, settings, state);
    }

    private static Settings read(Lookup lookup, FernetSocketOptions options) {
        FernetKeyRing ring = KeySource.from(lookup);
        try {
            return options.settings(ring, lookup);
        } finally {
            ring.destroy();
        }
    }

    /** Reads {@code fernet.keyFile.refresh}, whole seconds, 0 or more; 10 seconds when unset. */
    static Duration refresh(Lookup lookup) {
        String value = lookup.value(REFRESH_PROPERTY, REFRESH_VARIABLE);
        if (value == null) {
            return DEFAULT_REFRESH;
        }
        if (value.matches("[0-9]{1,9}")) {
            return Duration.ofSeconds(Long.parseLong(value));
        }
        // the value is not repeated: it may be a key set in the wrong place
        throw new IllegalStateException(
                REFRESH_PROPERTY + " (or " + REFRESH_VARIABLE + ") must be a whole number of seconds, 0 to 999999999");
    }

    /** Returns the settings for a new connection, after a look at the key file when one is due. */
    Settings settings() {
        if (keyFile != null && System.nanoTime() - nextCheck >= 0) {
            synchronized (this) {
                long now = System.nanoTime();
                if (now - nextCheck >= 0) {
                    nextCheck = now + refreshNanos;
                    FileState state = FileState.of(keyFile);
                    if (!state.equals(seen)) {
                        read(state);
                    }
                }
            }
        }
        return current;
    }

    /**
     * Reads the key file again now, changed or not, as for a {@code SIGHUP}; does nothing when nothing is watched.
     *
     * @return whether new keys are in force; false when nothing is watched or the file could not be used (logged)
     */
    boolean reload() {
        if (keyFile == null) {
            return false;
        }
        synchronized (this) {
            nextCheck = System.nanoTime() + refreshNanos;
            return read(FileState.of(keyFile));
        }
    }

    boolean watches() {
        return keyFile != null;
    }

    /**
     * Tells whether the watched key file looks now as it did when the keys in force were read from it, so that
     * reading it again would give the same keys; false when nothing is watched.
     */
    synchronized boolean matchesKeyFile() {
        return keyFile != null && FileState.of(keyFile).equals(seen);
    }

    /**
     * Returns what decides the settings {@link #configured(Lookup)} makes when they come from a key file: where each
     * setting is found and its value (a path, a mode, numbers: never a key); null when the keys come from elsewhere,
     * since inline keys and keystores are not watched.
     */
    static List<String> keyFileConfiguration(Lookup lookup) {
        if (KeySource.configuredKeyFile(lookup) == null) {
            return null;
        }
        List<String> found = new ArrayList<>();
        String[][] settings = {
            {KeySource.KEY_FILE, KeySource.KEY_FILE_VARIABLE},
            {KeySource.KEY_FILE_PERMISSIONS, KeySource.KEY_FILE_PERMISSIONS_VARIABLE},
            {Settings.MODE_PROPERTY, Settings.MODE_VARIABLE},
            {Settings.TTL_PROPERTY, Settings.TTL_VARIABLE},
            {Settings.HANDSHAKE_TIMEOUT_PROPERTY, Settings.HANDSHAKE_TIMEOUT_VARIABLE},
            {REFRESH_PROPERTY, REFRESH_VARIABLE},
        };
        for (String[] setting : settings) {
            Lookup.Found value = lookup.find(setting[0], setting[1]);
            found.add(value == null ? "" : value.origin);
            found.add(value == null ? "" : value.value);
        }
        return found;
    }

    private boolean read(FileState state) {
        seen = state;
        Settings fresh;
        try {
            fresh = read(lookup, options);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // KeySource's messages name the file and a line number, never a line
            LOG.log(
                    Level.ERROR,
                    "key file {0} changed but cannot be used, so the keys read before stay in force: {1}",
                    keyFile,
                    e.getMessage());
            return false;
        }
        current = fresh;
        Metrics.keysReloaded(); // the tunnel's /metrics and the MBean count every reload, timed or on SIGHUP
        LOG.log(
                Level.INFO,
                "keys reloaded from key file {0}: {1} for new connections",
                keyFile,
                fresh.keyCount() == 1 ? "1 key" : fresh.keyCount() + " keys");
        return true;
    }

    /**
     * What tells a changed file, through every link: modification time, size and file key (device and inode on
     * Unix), and where the platform has it the status change time, which a {@code chmod} or {@code chown} moves too (a
     * file refused for its permissions is read again once they are fixed); or why the file cannot be looked at, so
     * that a vanished file counts as a change once.
     */
    private record FileState(Object modified, Object changed, Object size, Object fileKey, String problem) {
        private static final boolean UNIX =
                FileSystems.getDefault().supportedFileAttributeViews().contains("unix");

        // written out: a record's generated equals links an invokedynamic call site, which costs a cold JVM's first
        // connection a few milliseconds (docs/benchmarks.md, "What each change gained")
        @Override
        public boolean equals(Object other) {
            return other instanceof FileState that
                    && Objects.equals(modified, that.modified)
                    && Objects.equals(changed, that.changed)
                    && Objects.equals(size, that.size)
                    && Objects.equals(fileKey, that.fileKey)
                    && Objects.equals(problem, that.problem);
        }

        @Override
        public int hashCode() {
            return Objects.hash(modified, changed, size, fileKey, problem);
        }

        static FileState of(Path keyFile) {
            try {
                if (UNIX) {
                    Map<String, Object> unix =
                            Files.readAttributes(keyFile, "unix:lastModifiedTime,ctime,size,fileKey");
                    return new FileState(
                            unix.get("lastModifiedTime"),
                            unix.get("ctime"),
                            unix.get("size"),
                            unix.get("fileKey"),
                            null);
                }
                BasicFileAttributes attributes = Files.readAttributes(keyFile, BasicFileAttributes.class);
                return new FileState(
                        attributes.lastModifiedTime(), null, attributes.size(), attributes.fileKey(), null);
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return new FileState(null, null, null, null, e.getClass().getSimpleName());
            }
        }
    }
}
