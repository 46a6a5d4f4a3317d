package dev.fernetjca.provider;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

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

    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private KeyFiles() {}

    /** See {@link FernetKeyRing#readKeyFile(Path)}. */
    static FernetKeyRing readKeyFile(Path keyFile) throws IOException {
        String name = "key file " + keyFile;
        byte[] text = read(keyFile, name);
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

    /** Returns the bytes of the key file at {@code keyFile}, after the checks {@link FernetKeyRing#readKeyFile} lists. */
    private static byte[] read(Path keyFile, String name) throws IOException {
        Path real;
        try {
            // check and open one resolved path, not a link that could be swapped between the two
            real = keyFile.toRealPath();
        } catch (IOException e) {
            throw inOurWords(e, name);
        }
        BasicFileAttributes attributes;
        boolean posix = real.getFileSystem().supportedFileAttributeViews().contains("posix");
        try {
            attributes = posix
                    ? Files.readAttributes(real, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    : Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw inOurWords(e, name);
        }
        if (!attributes.isRegularFile()) {
            // a FIFO or a device could block or never end; a directory has no lines
            throw new IllegalArgumentException(name + " is not a regular file");
        }
        if (posix) {
            // judged on the bits, not on whether this process could read it: root reads any file
            Set<PosixFilePermission> permissions = ((PosixFileAttributes) attributes).permissions();
            if (permissions.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                throw new IllegalArgumentException(name + " has permissions "
                        + PosixFilePermissions.toString(permissions)
                        + ", open to group or others; restrict it with chmod 600 " + keyFile);
            }
        }
        // a direct buffer of our own: with a heap buffer the JDK reads through a cached per-thread direct buffer
        // that we could not wipe
        ByteBuffer buffer = ByteBuffer.allocateDirect(MAX_KEY_FILE_BYTES + 1);
        try (FileChannel channel = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            // one byte over the limit tells a file at the limit from a larger one, even one still growing
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // read on
            }
            if (buffer.position() > MAX_KEY_FILE_BYTES) {
                throw new IllegalArgumentException(name + " is larger than " + MAX_KEY_FILE_BYTES + " bytes");
            }
            byte[] text = new byte[buffer.position()];
            buffer.get(0, text);
            return text;
        } catch (IOException e) {
            throw inOurWords(e, name);
        } finally {
            for (int i = 0; i < buffer.position(); i++) {
                buffer.put(i, (byte) 0);
            }
        }
    }

    /** Returns {@code e} as the same kind of exception with a message that names the key file; the cause is kept. */
    private static IOException inOurWords(IOException e, String name) {
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

    /**
     * Decodes the keys of {@code text}, split at {@code separator}, into a ring. In a key file, comments and blank
     * lines are skipped and a leading byte order mark ignored; inline, an empty entry is an error. {@code where}
     * prefixes the 1-based line or entry number in messages; {@code whole} names a key file.
     */
    private static FernetKeyRing parse(byte[] text, byte separator, boolean keyFile, String where, String whole) {
        List<FernetSecretKey> keys = new ArrayList<>();
        try {
            boolean byteOrderMark = keyFile && text.length >= 3
                    && text[0] == (byte) 0xEF && text[1] == (byte) 0xBB && text[2] == (byte) 0xBF;
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
