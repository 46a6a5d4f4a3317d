package dev.fernetjca.provider;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads Fernet keys from key files and from comma-separated text, for {@link FernetKeyRing#readKeyFile(Path)} and
 * {@link FernetKeyRing#parseKeys(CharSequence)}, which document the formats and checks. Kept apart from the ring so
 * that the public value type holds keys and nothing else.
 *
 * <p>Stateless; safe to use from any thread.
 */
final class KeyFiles {
    /** Largest key file read, in bytes: a key file is a few lines, anything much larger is the wrong file. */
    static final int MAX_KEY_FILE_BYTES = 64 * 1024;
    /** Most keys read from a key file or an inline list; a ring is for a rotation, not an archive. */
    static final int MAX_KEYS = 16;

    private static final System.Logger LOG = System.getLogger(KeyFiles.class.getName());
    private static final int ROOT_UID = 0;
    /** A run of base64 as long as a key, give or take a few characters lost in a paste. */
    private static final Pattern KEY_LIKE = Pattern.compile("[A-Za-z0-9_+=-]{40,}");
    /** The {@code st_mode} bits that grant group or others anything. */
    private static final int GROUP_OR_OTHERS_BITS = 0077;

    private static final int WRITE_BY_GROUP_OR_OTHERS = 0022;
    /** What group or others may not have even when a key file may be readable by them. */
    private static final int GROUP_OR_OTHERS_WRITE_OR_EXECUTE = 0033;
    /** Directories already warned about, so that a reload does not repeat the warning. */
    private static final Set<String> WARNED_DIRECTORIES = ConcurrentHashMap.newKeySet();

    private KeyFiles() {}

    /** See {@link FernetKeyRing#readKeyFile(Path, boolean)}. */
    static FernetKeyRing readKeyFile(Path keyFile, boolean readableByOthers) throws IOException {
        if (looksLikeKey(keyFile.toString())) {
            // every message names the path: a key given where a path belongs must not reach a terminal or a log
            throw new IllegalArgumentException("key file path looks like a Fernet key (not repeated here); give the"
                    + " path of a file that holds the key");
        }
        String name = "key file " + keyFile;
        byte[] text = read(keyFile, name, readableByOthers);
        try {
            return parse(text, (byte) '\n', true, name + " line ", name);
        } finally {
            Arrays.fill(text, (byte) 0);
        }
    }

    /** See {@link FernetKeyRing#parseKeys(CharSequence)}. */
    static FernetKeyRing parseKeys(CharSequence commaSeparatedKeys) {
        byte[] text = new byte[commaSeparatedKeys.length()];
        try {
            boolean blank = true;
            for (int i = 0; i < text.length; i++) {
                char c = commaSeparatedKeys.charAt(i);
                // anything beyond ASCII cannot be base64: a byte with the top bit set makes the decoder say so
                text[i] = c < 0x80 ? (byte) c : (byte) 0xFF;
                blank &= isAsciiWhitespace(text[i]);
            }
            if (blank) {
                throw new IllegalArgumentException("no keys given");
            }
            return parse(text, (byte) ',', false, "entry ", null);
        } finally {
            Arrays.fill(text, (byte) 0);
        }
    }

    /** Whether {@code text} holds a run of 40 or more base64 characters with both upper and lower case. */
    private static boolean looksLikeKey(String text) {
        Matcher run = KEY_LIKE.matcher(text);
        while (run.find()) {
            String characters = run.group();
            if (characters.chars().anyMatch(Character::isUpperCase)
                    && characters.chars().anyMatch(Character::isLowerCase)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns the bytes of the key file at {@code keyFile}, after the checks {@link FernetKeyRing#readKeyFile} lists.
     *
     * <p>The path is checked before the open only so that a FIFO or a device is never opened (opening a FIFO blocks
     * until a writer comes). The checks that count are made after the open, on the open file itself where the
     * platform can say what that is (Linux), and the open file must still be the one the path names: a file swapped
     * in between a check and the open is refused, not read.
     */
    private static byte[] read(Path keyFile, String name, boolean readableByOthers) throws IOException {
        Path real = resolve(keyFile, name);
        boolean unix = real.getFileSystem().supportedFileAttributeViews().contains("unix");
        if (!unix) {
            return readPlain(real, name);
        }
        FileStatus before = FileStatus.of(real, name);
        check(before, keyFile, name, readableByOthers);
        warnIfParentWritable(real);
        ByteBuffer buffer = ByteBuffer.allocateDirect(MAX_KEY_FILE_BYTES + 1);
        try (FileChannel channel = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            FileStatus opened = FileStatus.ofOpen(channel, name);
            if (opened != null) {
                check(opened, keyFile, name, readableByOthers);
            }
            FileStatus now = FileStatus.of(real, name);
            // whatever was opened must be what the path names before and after: no swap in between
            Object openedKey = opened == null ? before.fileKey() : opened.fileKey();
            if (!before.fileKey().equals(openedKey) || !now.fileKey().equals(openedKey)) {
                throw new IllegalArgumentException(name + " was replaced while it was being opened");
            }
            return readAll(channel, buffer, name);
        } catch (IOException e) {
            throw inOurWords(e, name);
        } finally {
            wipe(buffer);
        }
    }

    /** Reads a key file where the file system has no Unix attributes (Windows): a regular file, nothing more. */
    private static byte[] readPlain(Path real, String name) throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw inOurWords(e, name);
        }
        if (!attributes.isRegularFile()) {
            throw new IllegalArgumentException(
                    name + " is " + (attributes.isDirectory() ? "a directory" : "special") + ", not a regular file");
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(MAX_KEY_FILE_BYTES + 1);
        try (FileChannel channel = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            return readAll(channel, buffer, name);
        } catch (IOException e) {
            throw inOurWords(e, name);
        } finally {
            wipe(buffer);
        }
    }

    /**
     * Returns {@code keyFile} with every link resolved. A path that names something with no path of its own, such as
     * the pipe of a shell's {@code <(...)} ({@code /dev/fd/63}), is described as what it is, not as missing.
     */
    private static Path resolve(Path keyFile, String name) throws IOException {
        try {
            // check and open one resolved path, not a link that could be swapped between the two
            return keyFile.toRealPath();
        } catch (NoSuchFileException e) {
            FileStatus status;
            try {
                status = FileStatus.of(keyFile, name, new LinkOption[0]);
            } catch (IOException | UnsupportedOperationException notThere) {
                throw inOurWords(e, name);
            }
            if (status.isRegularFile()) {
                throw inOurWords(e, name); // a deleted file still open somewhere: gone for a reader by path
            }
            throw new IllegalArgumentException(name + " is " + status.kind() + ", not a regular file");
        } catch (IOException e) {
            throw inOurWords(e, name);
        }
    }

    /**
     * Refuses anything but a regular file of this process's user or root that grants nothing to group or others, or,
     * when {@code readableByOthers}, nothing but reading (a mounted secret: 0644, 0440, 0444).
     */
    private static void check(FileStatus status, Path keyFile, String name, boolean readableByOthers) {
        if (!status.isRegularFile()) {
            // a FIFO or a device could block or never end; a directory has no lines
            throw new IllegalArgumentException(name + " is " + status.kind() + ", not a regular file");
        }
        int processUid = ProcessUser.UID;
        if (status.uid() != ROOT_UID && status.uid() != processUid) {
            // root reads any file: a file of another user, 0600 or not, may hold that user's choice of keys
            throw new IllegalArgumentException(name + " is owned by uid " + status.uid() + ", not by this process's"
                    + " user (uid " + processUid + ") or root; a key file must belong to the user that reads it");
        }
        // judged on the bits, not on whether this process could read it: root reads any file
        if (readableByOthers) {
            // another user who may write the file chooses the keys; one who may only read it learns them, accepted
            if ((status.mode() & GROUP_OR_OTHERS_WRITE_OR_EXECUTE) != 0) {
                throw new IllegalArgumentException(name + " has permissions " + status.permissions()
                        + ", writable by group or others; restrict it with chmod go-wx " + keyFile);
            }
            return;
        }
        if ((status.mode() & GROUP_OR_OTHERS_BITS) != 0) {
            throw new IllegalArgumentException(name + " has permissions " + status.permissions()
                    + ", open to group or others; restrict it with chmod 600 " + keyFile);
        }
    }

    /** Warns, once for each directory, when the key file's directory lets group or others replace the file. */
    private static void warnIfParentWritable(Path real) {
        Path parent = real.getParent();
        if (parent == null) {
            return;
        }
        try {
            int mode = (Integer) Files.getAttribute(parent, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & WRITE_BY_GROUP_OR_OTHERS) != 0 && WARNED_DIRECTORIES.add(parent.toString())) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "key file directory {0} is writable by group or others, who"
                                + " could replace a key file in it; restrict it with chmod go-w {0}",
                        parent);
            }
        } catch (IOException | RuntimeException e) {
            // a warning only: the file's own checks decide
        }
    }

    /**
     * Reads the whole channel into {@code buffer}, which is one byte larger than the limit: one byte over tells a file
     * at the limit from a larger one, even one still growing.
     */
    private static byte[] readAll(FileChannel channel, ByteBuffer buffer, String name) throws IOException {
        while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
            // read on
        }
        if (buffer.position() > MAX_KEY_FILE_BYTES) {
            throw new IllegalArgumentException(name + " is larger than " + MAX_KEY_FILE_BYTES + " bytes");
        }
        byte[] text = new byte[buffer.position()];
        buffer.get(0, text);
        return text;
    }

    private static void wipe(ByteBuffer buffer) {
        for (int i = 0; i < buffer.position(); i++) {
            buffer.put(i, (byte) 0);
        }
    }

    /** Returns {@code e} as the same kind of exception with a message that names the key file; the cause is kept. */
    private static IOException inOurWords(IOException e, String name) {
        if (e.getMessage() != null && e.getMessage().startsWith(name + " ")) {
            return e; // ours already, from a step that named the file itself
        }
        IOException ours;
        if (e instanceof NoSuchFileException) {
            ours = new NoSuchFileException(null, null, name + " does not exist");
        } else if (e instanceof AccessDeniedException) {
            ours = new AccessDeniedException(null, null, name + " cannot be read: access denied");
        } else {
            String reason = e instanceof FileSystemException fileSystem ? fileSystem.getReason() : e.getMessage();
            ours = new IOException(name + " cannot be read" + (reason == null ? "" : ": " + reason));
        }
        ours.initCause(e);
        return ours;
    }

    /** What the checks need of a file: {@code st_mode} (type and permission bits), owner and identity. */
    record FileStatus(int mode, int uid, Object fileKey) {
        private static final int TYPE_BITS = 0170000;
        private static final int REGULAR = 0100000;
        private static final Path FD_INFO = Path.of("/proc/self/fdinfo");
        private static final SecureRandom RANDOM = new SecureRandom();

        /** Returns the status of {@code path} itself, a link not followed unless {@code options} is empty. */
        static FileStatus of(Path path, String name, LinkOption... options) throws IOException {
            Map<String, Object> attributes;
            try {
                attributes = Files.readAttributes(path, "unix:mode,uid,fileKey", options);
            } catch (IOException e) {
                throw inOurWords(e, name);
            }
            return new FileStatus(
                    (Integer) attributes.get("mode"), (Integer) attributes.get("uid"), attributes.get("fileKey"));
        }

        static FileStatus of(Path path, String name) throws IOException {
            return of(path, name, LinkOption.NOFOLLOW_LINKS);
        }

        /**
         * Returns the status of the file open in {@code channel} (an {@code fstat}), or null where the platform cannot
         * tell (no {@code /proc/self/fdinfo}). The JDK gives no descriptor number, so the channel is found among the
         * process's descriptors by a random file position set for the search (Linux shows each descriptor's position
         * in {@code /proc/self/fdinfo}); {@code /proc/self/fd/N} then leads to the open file, whatever its path now.
         */
        static FileStatus ofOpen(FileChannel channel, String name) throws IOException {
            if (!Files.isDirectory(FD_INFO)) {
                return null;
            }
            try {
                // a mark another descriptor also shows (astronomically unlikely) is tried again with another
                for (int attempt = 0; attempt < 3; attempt++) {
                    // past the end of any key file, below every file system's largest offset (lseek says EINVAL)
                    long mark = (1L << 20) + RANDOM.nextInt(Integer.MAX_VALUE - (1 << 20));
                    channel.position(mark);
                    Path found = null;
                    int matches = 0;
                    try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(FD_INFO)) {
                        for (Path info : descriptors) {
                            if (positionOf(info) == mark) {
                                found = info.getFileName();
                                matches++;
                            }
                        }
                    }
                    if (matches == 1) {
                        return of(Path.of("/proc/self/fd").resolve(found), name, new LinkOption[0]);
                    }
                }
            } finally {
                channel.position(0);
            }
            throw new IOException(name + " cannot be read: the open file was not found in /proc/self/fdinfo");
        }

        /** Returns the position a {@code /proc/self/fdinfo} entry shows, or -1 if it shows none or went away. */
        private static long positionOf(Path info) {
            try {
                for (String line : Files.readAllLines(info)) {
                    if (line.startsWith("pos:")) {
                        return Long.parseLong(line.substring(4).strip());
                    }
                }
            } catch (IOException | RuntimeException e) {
                // a descriptor closed by another thread meanwhile, or one this process may not inspect
            }
            return -1;
        }

        boolean isRegularFile() {
            return (mode & TYPE_BITS) == REGULAR;
        }

        /** Returns what the file is, as a noun phrase: "a directory", "a pipe". */
        String kind() {
            switch (mode & TYPE_BITS) {
                case REGULAR:
                    return "a regular file";
                case 0040000:
                    return "a directory";
                case 0010000:
                    return "a pipe";
                case 0140000:
                    return "a socket";
                case 0020000:
                    return "a character device";
                case 0060000:
                    return "a block device";
                case 0120000:
                    return "a symbolic link";
                default:
                    return "a special file";
            }
        }

        /** Returns the permission bits as {@code ls} shows them, {@code rw-r--r--}. */
        String permissions() {
            StringBuilder text = new StringBuilder(9);
            for (int bit = 8; bit >= 0; bit--) {
                text.append((mode & (1 << bit)) == 0 ? '-' : "rwx".charAt(2 - bit % 3));
            }
            return text.toString();
        }
    }

    /** The user this process runs as, for the owner check. */
    private static final class ProcessUser {
        /** The effective uid, or -1 where it cannot be found (then only root's files pass). */
        static final int UID = find();

        private static int find() {
            try {
                // Linux: "Uid:	real	effective	saved	filesystem"
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("Uid:")) {
                        return Integer.parseInt(line.substring(4).strip().split("\\s+")[1]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not Linux: ask the JDK's own Unix module, where it is present
            }
            try {
                Class<?> unixSystem = Class.forName("com.sun.security.auth.module.UnixSystem");
                Object system = unixSystem.getConstructor().newInstance();
                return (int) (long) (Long) unixSystem.getMethod("getUid").invoke(system);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return -1;
            }
        }
    }

    /**
     * Decodes the keys of {@code text}, split at {@code separator}, into a ring. In a key file, comments and blank
     * lines are skipped and a leading byte order mark ignored; inline, an empty entry is an error. {@code where}
     * prefixes the 1-based line or entry number in messages; {@code whole} names a key file.
     */
    private static FernetKeyRing parse(byte[] text, byte separator, boolean keyFile, String where, String whole) {
        List<FernetSecretKey> keys = new ArrayList<>();
        try {
            boolean byteOrderMark = keyFile
                    && text.length >= 3
                    && text[0] == (byte) 0xEF
                    && text[1] == (byte) 0xBB
                    && text[2] == (byte) 0xBF;
            int start = byteOrderMark ? 3 : 0;
            int number = 0;
            // a key file's final line end starts no line; a final comma starts an (empty) entry
            while (keyFile ? start < text.length : start <= text.length) {
                int end = indexOf(text, separator, start);
                number++;
                int from = start;
                int to = end;
                while (from < to && isAsciiWhitespace(text[from])) {
                    from++;
                }
                while (to > from && isAsciiWhitespace(text[to - 1])) {
                    to--;
                }
                start = end + 1;
                if (keyFile && (from == to || text[from] == '#')) {
                    continue;
                }
                if (from == to) {
                    throw new IllegalArgumentException(where + number + " is empty");
                }
                if (keys.size() == MAX_KEYS) {
                    throw new IllegalArgumentException(where + number + ": more than " + MAX_KEYS + " keys");
                }
                try {
                    keys.add(FernetSecretKey.adopt(FernetKeySpec.decode(text, from, to)));
                } catch (IllegalArgumentException e) {
                    // no cause: the message is ours already, and names no byte of the line
                    throw new IllegalArgumentException(where + number + ": " + e.getMessage());
                }
            }
            if (keys.isEmpty()) {
                throw new IllegalArgumentException(keyFile ? whole + " holds no keys" : "no keys given");
            }
            FernetKeyRing ring = FernetKeyRing.adopt(keys);
            keys.clear(); // the ring owns them now
            return ring;
        } finally {
            keys.forEach(FernetSecretKey::destroy);
        }
    }

    private static int indexOf(byte[] text, byte separator, int from) {
        for (int i = from; i < text.length; i++) {
            if (text[i] == separator) {
                return i;
            }
        }
        return text.length;
    }

    private static boolean isAsciiWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == 0x0b;
    }
}
