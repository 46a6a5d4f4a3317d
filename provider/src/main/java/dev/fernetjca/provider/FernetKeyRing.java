package dev.fernetjca.provider;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectStreamException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.Key;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.SecretKey;

/**
 * A primary Fernet key and older ones, for key rotation, like Python's {@code MultiFernet}. The Cipher encrypts with the
 * primary and decrypts a token with whichever key authenticates it.
 *
 * <p>The ring holds copies of its keys; {@link #destroy()} wipes them. It has no encoding and refuses serialization.
 * Safe to share until destroyed.
 */
public final class FernetKeyRing implements SecretKey {
    private static final long serialVersionUID = 1L;

    private final transient List<FernetSecretKey> keys; // copies; the primary first
    private transient volatile boolean destroyed;

    private FernetKeyRing(List<FernetSecretKey> keys) {
        this.keys = keys;
    }

    /** Returns a ring that owns {@code keys} (not copied), the primary first; for {@link KeyFiles}. */
    static FernetKeyRing adopt(List<FernetSecretKey> keys) {
        return new FernetKeyRing(List.copyOf(keys));
    }

    /**
     * Returns a ring that encrypts with {@code primary} and also accepts tokens of {@code older} keys, tried in order.
     * A ring given as a key contributes all its keys.
     *
     * @throws IllegalArgumentException if a key is not a 32-byte Fernet key or has been destroyed
     */
    public static FernetKeyRing of(SecretKey primary, SecretKey... older) {
        List<FernetSecretKey> copies = new ArrayList<>(1 + older.length);
        try {
            copies.addAll(copies(primary));
            for (SecretKey key : older) {
                copies.addAll(copies(key));
            }
        } catch (InvalidKeyException e) {
            copies.forEach(FernetSecretKey::destroy);
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return new FernetKeyRing(List.copyOf(copies));
    }

    /**
     * Reads a key file: one url-safe base64 key a line (44 characters decoding to 32 bytes, as
     * {@link FernetKeySpec#FernetKeySpec(String)} reads it), the first the primary. Lines whose first non-blank
     * character is {@code #} and blank lines are skipped; ASCII whitespace around a key, a {@code \r} before each
     * line end and a UTF-8 byte order mark are ignored. A comment must be on its own line.
     *
     * <p>The file must be a regular file (or a link to one, through any number of links, as a Kubernetes secret mount
     * has), at most 64 KiB (65536 bytes, comments included), and hold 1 to 16 keys. Where the file system has Unix
     * attributes, the file must also be owned by this process's user or by root, and grant nothing to group or others
     * (mode 600 or 400); both are judged on the file's attributes, not on whether this process could read it, so they
     * hold for a process running as root too. The links are resolved once; a FIFO or a device is refused without being
     * opened; the checks are made again on the file once open (on Linux, on the open file itself), and that file must
     * be the one the path names, so a file swapped in meanwhile is refused, not read. A key file in a directory that
     * group or others may write to is read, with a warning (once a directory) on the {@code System.Logger} of
     * {@code dev.fernetjca.provider.KeyFiles}. Elsewhere (Windows) only the regular-file and size checks are made.
     *
     * <p>Keys are decoded from the file's bytes and every buffer is wiped before this method returns; no key passes
     * through a {@code String}.
     *
     * @return a new ring, which the caller owns and should {@link #destroy()} once done
     * @throws NoSuchFileException if the file (or a link's target) does not exist; the message names the path
     * @throws AccessDeniedException if this process may not read the file; the message names the path
     * @throws IOException if the file cannot be read for another reason
     * @throws IllegalArgumentException if the file is not a regular file (the message says what it is: a directory, a
     *     pipe...), belongs to another user, is open to group or others, was replaced while being opened, is too large,
     *     holds no key or more than 16, or a line is neither a key, a comment nor blank; the message names the path
     *     and, for a line, its number, never its text or any part of a key; a path that looks like a key (a run of 40
     *     or more base64 characters in both cases: a key given where its file's path belongs) is refused without
     *     being named
     */
    public static FernetKeyRing readKeyFile(Path keyFile) throws IOException {
        return KeyFiles.readKeyFile(keyFile, false);
    }

    /**
     * Reads a key file as {@link #readKeyFile(Path)} does, but when {@code readableByOthers} is true accepts a file
     * that group or others may read, as long as nobody but its owner may write or execute it: a mounted secret, which
     * Kubernetes (mode 0644, or 0440 with {@code fsGroup}) and Docker (0444) make readable by design. Anyone the file
     * is readable to learns the keys; use it where the directory, not the file, keeps other users out (a container,
     * a volume mounted for one pod). {@code readKeyFile(keyFile, false)} is {@code readKeyFile(keyFile)}.
     *
     * @throws IllegalArgumentException as {@link #readKeyFile(Path)}, and, when {@code readableByOthers}, for a file
     *     that group or others may write or execute instead of one they may read
     */
    public static FernetKeyRing readKeyFile(Path keyFile, boolean readableByOthers) throws IOException {
        return KeyFiles.readKeyFile(keyFile, readableByOthers);
    }

    /**
     * Reads comma-separated keys, such as the value of an environment variable: each a url-safe base64 key (44
     * characters decoding to 32 bytes), the first the primary, with ASCII whitespace around each ignored. At most 16
     * keys; an empty entry is an error, not skipped, since it usually means a key that was meant to be there is
     * missing (an unset variable in {@code "$NEW,$OLD"} would otherwise make the old key the primary).
     *
     * <p>The caller's {@code CharSequence} cannot be wiped, and a {@code String} of keys stays in memory until
     * collected; this method wipes its own copies. Prefer {@link #readKeyFile(Path)} where there is a choice.
     *
     * @return a new ring, which the caller owns and should {@link #destroy()} once done
     * @throws IllegalArgumentException if there is no key, an entry is empty or not a key, or there are more than 16;
     *     the message names the entry by its number (from 1), never its text or any part of a key
     */
    public static FernetKeyRing parseKeys(CharSequence commaSeparatedKeys) {
        return KeyFiles.parseKeys(commaSeparatedKeys);
    }

    /** Returns how many keys the ring holds, the primary included. */
    public int size() {
        return live().size();
    }

    /** Returns copies of the ring's keys, the primary first; the caller should destroy them after use. */
    public List<SecretKey> keys() {
        List<SecretKey> result = new ArrayList<>(keys.size());
        for (FernetSecretKey key : live()) {
            result.add(FernetSecretKey.copyOf(key.bytes()));
        }
        return List.copyOf(result);
    }

    /**
     * Re-encrypts a token under the primary key with a fresh IV, keeping its timestamp, as Python's
     * {@code MultiFernet.rotate}. No TTL is applied.
     *
     * @throws AEADBadTagException if no key of the ring authenticates the token, or it is malformed
     */
    public byte[] rotate(byte[] token) throws AEADBadTagException {
        TokenEngine engine = TokenEngine.ofChecked(this);
        try {
            return engine.rotate(token);
        } finally {
            engine.wipe();
        }
    }

    /** Returns {@code "Fernet"}. */
    @Override
    public String getAlgorithm() {
        return FernetProvider.ALGORITHM;
    }

    /** Returns null: a ring has no single encoding. */
    @Override
    public String getFormat() {
        return null;
    }

    /** Returns null: a ring has no single encoding; see {@link #keys()}. */
    @Override
    public byte[] getEncoded() {
        return null;
    }

    /** Wipes every key of the ring; later use throws {@link IllegalStateException}. */
    @Override
    public void destroy() {
        destroyed = true;
        keys.forEach(FernetSecretKey::destroy);
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return destroyed ? "FernetKeyRing[destroyed]" : "FernetKeyRing[" + keys.size() + " keys]";
    }

    private List<FernetSecretKey> live() {
        if (destroyed) {
            throw new IllegalStateException("key ring has been destroyed");
        }
        return keys;
    }

    /** Refuses a crafted stream too: deserialization would make a key without bytes. */
    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("Fernet key rings are not serializable");
    }

    private void readObjectNoData() throws InvalidObjectException {
        throw new InvalidObjectException("Fernet key rings are not serializable");
    }

    private Object writeReplace() throws ObjectStreamException {
        throw new NotSerializableException("Fernet key rings are not serializable");
    }

    /**
     * Returns fresh copies of the keys in {@code key}: a ring's keys, or one Fernet key (ours, or any {@code RAW}
     * secret key of algorithm {@code Fernet} and 32 bytes, such as a {@code SecretKeySpec}).
     */
    static List<FernetSecretKey> copies(Key key) throws InvalidKeyException {
        if (key == null) {
            throw new InvalidKeyException("no key given");
        }
        try {
            if (key instanceof FernetKeyRing ring) {
                List<FernetSecretKey> result = new ArrayList<>(ring.keys.size());
                for (FernetSecretKey member : ring.live()) {
                    result.add(FernetSecretKey.copyOf(member.bytes()));
                }
                return List.copyOf(result);
            }
            if (key instanceof FernetSecretKey fernetKey) {
                return List.of(FernetSecretKey.copyOf(fernetKey.bytes()));
            }
        } catch (IllegalStateException e) {
            throw new InvalidKeyException("key has been destroyed");
        }
        if (!FernetProvider.ALGORITHM.equalsIgnoreCase(key.getAlgorithm())) {
            throw new InvalidKeyException("key algorithm must be Fernet, got " + key.getAlgorithm());
        }
        if (!"RAW".equalsIgnoreCase(key.getFormat())) {
            throw new InvalidKeyException("key format must be RAW, got " + key.getFormat());
        }
        byte[] encoded = key.getEncoded();
        if (encoded == null || encoded.length != FernetSecretKey.KEY_BYTES) {
            int length = encoded == null ? 0 : encoded.length;
            if (encoded != null) {
                Arrays.fill(encoded, (byte) 0);
            }
            throw new InvalidKeyException("a Fernet key is " + FernetSecretKey.KEY_BYTES + " bytes, got " + length);
        }
        return List.of(FernetSecretKey.adopt(encoded));
    }
}
