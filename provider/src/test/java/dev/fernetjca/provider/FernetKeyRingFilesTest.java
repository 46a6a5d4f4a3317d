package dev.fernetjca.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The key file and inline key formats of {@link FernetKeyRing#readKeyFile} and {@link FernetKeyRing#parseKeys}. */
class FernetKeyRingFilesTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    /** Every key string, and every spoiled one, a test used, for the canary check. */
    private final List<String> secrets = new ArrayList<>();
    /** Every exception message and toString met. */
    private final List<String> seen = new ArrayList<>();

    @AfterEach
    void noSecretInAnyMessageOrToString() {
        for (String text : seen) {
            for (String secret : secrets) {
                assertFalse(text.contains(secret), () -> "a secret leaked into: " + text);
                // a key's base64 without padding, or its halves, would leak as much
                assertFalse(text.contains(secret.substring(0, secret.length() / 2)), () -> "half a secret in: " + text);
                assertFalse(text.contains(secret.substring(secret.length() / 2)), () -> "half a secret in: " + text);
            }
        }
    }

    // ---- key file: format

    @Test
    void readsKeyFileSkippingCommentsBlankLinesAndWhitespace() throws IOException {
        byte[] primary = rawKey();
        byte[] older = rawKey();
        Path file = keyFile("\uFEFF# fernet keys, newest first\r\n"
                + "\r\n"
                + "   " + encode(primary) + "  \t\r\n"
                + "  # rotated out 2024-05\n"
                + "\t\f\u000b\n"
                + encode(older)); // no final newline
        assertRing(FernetKeyRing.readKeyFile(file), primary, older);
    }

    @Test
    void keyFilePrimaryIsTheFirstKeyLine() throws IOException {
        List<byte[]> keys = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            byte[] raw = rawKey();
            keys.add(raw);
            text.append(encode(raw)).append('\n');
        }
        assertRing(FernetKeyRing.readKeyFile(keyFile(text.toString())), keys.toArray(new byte[0][]));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "truncated|a Fernet key is 44 characters of url-safe base64, got 40",
                "padding removed|a Fernet key is 44 characters of url-safe base64, got 43",
                "standard alphabet|a Fernet key must be url-safe base64",
                "wrong character|a Fernet key must be url-safe base64",
                "all plus signs|a Fernet key must be url-safe base64",
                "trailing comment|a Fernet key is 44 characters of url-safe base64, got 58",
                "two keys|a Fernet key is 44 characters of url-safe base64, got 89",
                "non-ascii|a Fernet key must be url-safe base64",
                "control character|a Fernet key is 44 characters of url-safe base64, got 45",
                "unpadded 33 bytes|a Fernet key must decode to 32 bytes, got 33"
            })
    void reportsBadLineByNumberNotContent(String defect, String reason) throws IOException {
        String good = encode(rawKey());
        String bad = spoil(encode(rawKey()), defect);
        Path file = keyFile("# keys\n" + good + "\n\n" + bad + "\n" + good + "\n");
        assertEquals("key file " + file + " line 4: " + reason, invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    @Test
    void byteOrderMarkCountsOnlyAtTheStart() throws IOException {
        Path file = keyFile(encode(rawKey()) + "\n\uFEFF" + encode(rawKey()) + "\n");
        assertEquals(
                "key file " + file + " line 2: a Fernet key must be url-safe base64",
                invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    @Test
    void refusesKeyFileWithoutKeys() throws IOException {
        Path file = keyFile("# nothing yet\n\n   \n");
        assertEquals("key file " + file + " holds no keys", invalid(() -> FernetKeyRing.readKeyFile(file)));
        Files.write(file, new byte[0]);
        assertEquals("key file " + file + " holds no keys", invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    @Test
    void acceptsSixteenKeysAndRefusesSeventeen() throws IOException {
        StringBuilder text = new StringBuilder("# sixteen\n");
        for (int i = 0; i < KeyFiles.MAX_KEYS; i++) {
            text.append(encode(rawKey())).append('\n');
        }
        Path file = keyFile(text.toString());
        assertEquals(16, ring(FernetKeyRing.readKeyFile(file)).size());
        Files.writeString(file, text + encode(rawKey()) + "\n");
        assertEquals(
                "key file " + file + " line 18: more than 16 keys", invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    @Test
    void refusesKeyFileLargerThanTheLimit() throws IOException {
        String key = encode(rawKey());
        // comments count toward the limit: the file is refused before any line is read
        String comment = "#".repeat(KeyFiles.MAX_KEY_FILE_BYTES - key.length() - 1) + "\n";
        Path file = keyFile(comment + key);
        assertEquals(65536, Files.size(file));
        assertEquals(1, ring(FernetKeyRing.readKeyFile(file)).size());
        Files.writeString(file, comment + key + "\n");
        assertEquals(
                "key file " + file + " is larger than 65536 bytes", invalid(() -> FernetKeyRing.readKeyFile(file)));
        Files.writeString(file, "#".repeat(10 * KeyFiles.MAX_KEY_FILE_BYTES));
        assertEquals(
                "key file " + file + " is larger than 65536 bytes", invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    // ---- key file: what it is and who may read it

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "rw-r-----",
                "rw----r--",
                "rw-rw----",
                "rw-----w-",
                "rw--w----",
                "rwx--x--x",
                "r--r--r--",
                "rw-r--r--",
                "rw------x"
            })
    void refusesKeyFileAccessibleToGroupOrOthers(String permissions) throws IOException {
        assumePosix();
        String key = encode(rawKey());
        Path file = keyFile(key + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        // judged on the bits: root could read the file either way
        assertEquals(
                "key file " + file + " has permissions " + permissions
                        + ", open to group or others; restrict it with chmod 600 " + file,
                invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rw-------", "r--------"})
    void acceptsKeyFileOfOwnerOnly(String permissions) throws IOException {
        assumePosix();
        byte[] raw = rawKey();
        Path file = keyFile(encode(raw));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        assertRing(FernetKeyRing.readKeyFile(file), raw);
    }

    /** Kubernetes Secret volumes (0644; 0440 with fsGroup), Docker secrets (0444), a systemd credential (0400). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rw-r--r--", "r--r-----", "r--r--r--", "r--------", "rw-------"})
    void readableByOthersAcceptsMountedSecretModes(String permissions) throws IOException {
        assumePosix();
        byte[] raw = rawKey();
        Path file = keyFile(encode(raw));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        assertRing(FernetKeyRing.readKeyFile(file, true), raw);
        if (!permissions.equals("rw-------") && !permissions.equals("r--------")) {
            invalid(() -> FernetKeyRing.readKeyFile(file, false)); // the default stays strict
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rw-rw-r--", "rw-r--rw-", "rw--w----", "rw-----w-", "rw-r-xr--", "rw-r--r-x"})
    void readableByOthersStillRefusesWhatOthersMayWriteOrRun(String permissions) throws IOException {
        assumePosix();
        String key = encode(rawKey());
        Path file = keyFile(key + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        String message = invalid(() -> FernetKeyRing.readKeyFile(file, true));
        assertEquals(
                "key file " + file + " has permissions " + permissions
                        + ", writable by group or others; restrict it with chmod go-wx " + file,
                message);
    }

    @Test
    void readableByOthersKeepsTheOwnerCheck() throws IOException {
        Path file = keyFile(encode(rawKey()));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
        giveToAnotherUser(file);
        assertTrue(invalid(() -> FernetKeyRing.readKeyFile(file, true)).contains("is owned by uid " + OTHER_UID));
    }

    @Test
    void reportsMissingKeyFileByPath() {
        Path missing = dir.resolve("absent.key");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FernetKeyRing.readKeyFile(missing));
        see(e);
        assertEquals("key file " + missing + " does not exist", e.getMessage());
    }

    @Test
    void reportsUnreadableKeyFileAsAccessDenied() throws IOException {
        assumePosix();
        Path file = keyFile(encode(rawKey()) + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
        assumeTrue(!Files.isReadable(file), "this process reads any file (root): nothing to deny");
        AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> FernetKeyRing.readKeyFile(file));
        see(e);
        assertEquals("key file " + file + " cannot be read: access denied", e.getMessage());
    }

    @Test
    void refusesDirectoryAsKeyFile() {
        assertEquals(
                "key file " + dir + " is a directory, not a regular file",
                invalid(() -> FernetKeyRing.readKeyFile(dir)));
    }

    @Test
    void refusesFifoWithoutBlocking() throws Exception {
        Path fifo = dir.resolve("fernet.fifo");
        try {
            Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString())
                    .inheritIO()
                    .start();
            assumeTrue(mkfifo.waitFor() == 0, "mkfifo failed");
        } catch (IOException e) {
            Assumptions.abort("no mkfifo here");
        }
        // opening a FIFO with no writer blocks: it must be refused before any open
        assertTimeoutPreemptively(
                Duration.ofSeconds(10),
                () -> assertEquals(
                        "key file " + fifo + " is a pipe, not a regular file",
                        invalid(() -> FernetKeyRing.readKeyFile(fifo))));
        // behind a link, as a Kubernetes mount would put it, the same
        Path link = dir.resolve("fifo.key");
        Files.createSymbolicLink(link, fifo);
        assertTimeoutPreemptively(
                Duration.ofSeconds(10),
                () -> assertEquals(
                        "key file " + link + " is a pipe, not a regular file",
                        invalid(() -> FernetKeyRing.readKeyFile(link))));
    }

    @Test
    void saysAPipeIsAPipeNotMissing() throws IOException {
        // a shell's --key-file <(...) gives /dev/fd/63: a link to "pipe:[1234]", which has no path of its own
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            Assumptions.abort("no /proc/self/fd here (not Linux): the pipe's path cannot be named");
        }
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source();
                Pipe.SinkChannel sink = pipe.sink()) {
            Path pipeLink = null;
            try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(fds)) {
                for (Path descriptor : descriptors) {
                    try {
                        if (Files.readSymbolicLink(descriptor).toString().startsWith("pipe:")) {
                            pipeLink = descriptor;
                        }
                    } catch (IOException closedMeanwhile) {
                        // the directory stream's own descriptor, gone once listed
                    }
                }
            }
            assertNotNull(pipeLink, "an open Pipe shows as pipe:[...] in /proc/self/fd");
            Path named = pipeLink;
            assertTimeoutPreemptively(
                    Duration.ofSeconds(10),
                    () -> assertEquals(
                            "key file " + named + " is a pipe, not a regular file",
                            invalid(() -> FernetKeyRing.readKeyFile(named))));
        }
    }

    @Test
    void keyGivenAsThePathIsNotRepeated() {
        // every other message names the path: a key pasted where the path belongs must not reach a terminal
        String key = encode(rawKey());
        String expected = "key file path looks like a Fernet key (not repeated here); give the path of a file that"
                + " holds the key";
        assertEquals(expected, invalid(() -> FernetKeyRing.readKeyFile(Path.of(key))));
        assertEquals(expected, invalid(() -> FernetKeyRing.readKeyFile(dir.resolve(key))));
        // a long directory name of one case, or a hex digest, is a path like any other
        assertThrows(
                NoSuchFileException.class,
                () -> FernetKeyRing.readKeyFile(
                        dir.resolve("0123456789abcdef".repeat(4)).resolve("key")));
    }

    @Test
    void refusesKeyFileOfAnotherUser() throws IOException {
        Path file = keyFile(encode(rawKey()) + "\n");
        giveToAnotherUser(file);
        assertEquals(
                "key file " + file + " is owned by uid " + OTHER_UID + ", not by this process's user (uid 0) or"
                        + " root; a key file must belong to the user that reads it",
                invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    @Test
    void refusesLinkToKeyFileOfAnotherUser() throws IOException {
        Path target = keyFile(encode(rawKey()) + "\n");
        giveToAnotherUser(target);
        Path link = dir.resolve("link.key");
        Files.createSymbolicLink(link, target);
        assertEquals(
                "key file " + link + " is owned by uid " + OTHER_UID + ", not by this process's user (uid 0) or"
                        + " root; a key file must belong to the user that reads it",
                invalid(() -> FernetKeyRing.readKeyFile(link)));
    }

    /**
     * The checks after the open judge the open file, not whatever its path names by then: a file renamed over the
     * path after the open does not pass for the one that was opened.
     */
    @Test
    void openFileIsJudgedByItselfNotByItsPath() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fdinfo")), "the open file is found through /proc (Linux)");
        Path file = keyFile(encode(rawKey()) + "\n");
        Path other = keyFile(encode(rawKey()) + "\n");
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rw-r--r--"));
        Object openedKey = Files.getAttribute(file, "unix:fileKey");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Files.move(other, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            KeyFiles.FileStatus opened = KeyFiles.FileStatus.ofOpen(channel, "key file " + file);
            assertEquals(openedKey, opened.fileKey());
            assertEquals("rw-------", opened.permissions());
            assertNotEquals(openedKey, Files.getAttribute(file, "unix:fileKey"), "the path names the new file");
            assertEquals(0, channel.position(), "the search leaves the channel at the start");
        }
    }

    @Test
    void readsLinkChainsLikeAKubernetesSecretMount() throws IOException {
        assumePosix();
        // key -> ..data/key, ..data -> ..2024_01_01_00_00_00.1/, as the kubelet lays out a mounted secret
        byte[] raw = rawKey();
        Path version = Files.createDirectory(dir.resolve("..2024_01_01_00_00_00.1"));
        Path real = version.resolve("fernet.key");
        Files.move(keyFile(encode(raw) + "\n"), real);
        Files.createSymbolicLink(dir.resolve("..data"), version.getFileName());
        Path key = dir.resolve("fernet.key");
        Files.createSymbolicLink(key, Path.of("..data", "fernet.key"));
        assertRing(FernetKeyRing.readKeyFile(key), raw);
    }

    @Test
    void warnsOnceWhenTheKeyFileDirectoryIsWritableByOthers() throws IOException {
        assumePosix();
        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        byte[] raw = rawKey();
        Path file = open.resolve("fernet.key");
        Files.move(keyFile(encode(raw) + "\n"), file);
        Logger logger = Logger.getLogger(KeyFiles.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(capture);
        boolean parentHandlers = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false); // the build log needs no copy
        try {
            assertRing(FernetKeyRing.readKeyFile(file), raw); // a warning, not a refusal
            assertRing(FernetKeyRing.readKeyFile(file), raw);
        } finally {
            logger.removeHandler(capture);
            logger.setUseParentHandlers(parentHandlers);
        }
        assertEquals(1, records.size(), "one warning for the directory, not one a read");
        assertEquals(Level.WARNING, records.get(0).getLevel());
        String message = new SimpleFormatter().formatMessage(records.get(0));
        seen.add(message);
        assertEquals(
                "key file directory " + open + " is writable by group or others, who could replace a key file in"
                        + " it; restrict it with chmod go-w " + open,
                message);
    }

    @Test
    void followsLinkButChecksItsTarget() throws IOException {
        assumePosix();
        byte[] raw = rawKey();
        Path target = keyFile(encode(raw) + "\n");
        Path link = dir.resolve("link.key");
        try {
            Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            Assumptions.abort("no symbolic links here");
        }
        assertRing(FernetKeyRing.readKeyFile(link), raw);
        // a link's own bits (rwxrwxrwx) do not matter; its target's do
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(
                "key file " + link + " has permissions rw-r--r--, open to group or others; restrict it with"
                        + " chmod 600 " + link,
                invalid(() -> FernetKeyRing.readKeyFile(link)));
        Files.delete(target);
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FernetKeyRing.readKeyFile(link));
        see(e);
        assertEquals("key file " + link + " does not exist", e.getMessage());
    }

    // ---- inline keys

    @Test
    void readsInlineKeysPrimaryFirstTrimmingWhitespace() {
        byte[] primary = rawKey();
        byte[] older = rawKey();
        byte[] oldest = rawKey();
        assertRing(
                FernetKeyRing.parseKeys(" " + encode(primary) + " ,\t" + encode(older) + "," + encode(oldest) + "\n"),
                primary,
                older,
                oldest);
        assertRing(FernetKeyRing.parseKeys(new StringBuilder(encode(primary))), primary);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "truncated|a Fernet key is 44 characters of url-safe base64, got 40",
                "standard alphabet|a Fernet key must be url-safe base64",
                "wrong character|a Fernet key must be url-safe base64",
                "non-ascii|a Fernet key must be url-safe base64",
                "non-bmp|a Fernet key must be url-safe base64",
                "comment|a Fernet key must be url-safe base64",
                "unpadded 33 bytes|a Fernet key must decode to 32 bytes, got 33"
            })
    void reportsBadInlineKeyByPositionNotContent(String defect, String reason) {
        String bad = spoil(encode(rawKey()), defect);
        String keys = encode(rawKey()) + "," + bad + "," + encode(rawKey());
        assertEquals("entry 2: " + reason, invalid(() -> FernetKeyRing.parseKeys(keys)));
    }

    @Test
    void refusesEmptyInlineEntries() {
        String key = encode(rawKey());
        assertEquals("entry 2 is empty", invalid(() -> FernetKeyRing.parseKeys(key + ",")));
        assertEquals("entry 1 is empty", invalid(() -> FernetKeyRing.parseKeys(" ," + key)));
        assertEquals("entry 2 is empty", invalid(() -> FernetKeyRing.parseKeys(key + ",," + key)));
        assertEquals("entry 2 is empty", invalid(() -> FernetKeyRing.parseKeys(key + ", \t," + key)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t\r\n"})
    void refusesBlankInlineKeys(String blank) {
        assertEquals("no keys given", invalid(() -> FernetKeyRing.parseKeys(blank)));
    }

    @Test
    void acceptsSixteenInlineKeysAndRefusesSeventeen() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i <= KeyFiles.MAX_KEYS; i++) {
            keys.add(encode(rawKey()));
        }
        assertEquals("entry 17: more than 16 keys", invalid(() -> FernetKeyRing.parseKeys(String.join(",", keys))));
        assertEquals(
                16,
                ring(FernetKeyRing.parseKeys(String.join(",", keys.subList(0, KeyFiles.MAX_KEYS))))
                        .size());
    }

    // ---- canary

    @Test
    void ringAndKeysShowOnlyCounts() throws IOException {
        FernetKeyRing fromFile = FernetKeyRing.readKeyFile(keyFile(encode(rawKey()) + "\n" + encode(rawKey())));
        FernetKeyRing inline = FernetKeyRing.parseKeys(encode(rawKey()) + "," + encode(rawKey()));
        for (FernetKeyRing ring : List.of(fromFile, inline)) {
            assertEquals("FernetKeyRing[2 keys]", ring.toString());
            for (SecretKey key : ring.keys()) {
                assertEquals("FernetSecretKey[32 bytes]", key.toString());
            }
            ring.destroy();
            assertEquals("FernetKeyRing[destroyed]", ring.toString());
        }
    }

    @Test
    void noWarningWhenOnlyTheOwnerMayWriteTheDirectory() throws IOException {
        assumePosix();
        List<LogRecord> records = new ArrayList<>();
        for (String permissions : List.of("rwx------", "rwxr-xr-x", "r-x------")) {
            Path closed = Files.createDirectory(dir.resolve("closed-" + permissions));
            byte[] raw = rawKey();
            Path file = closed.resolve("fernet.key");
            Files.move(keyFile(encode(raw) + "\n"), file);
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString(permissions));
            try {
                records.addAll(logsWhile(() -> assertRing(FernetKeyRing.readKeyFile(file), raw)));
            } finally {
                Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            }
        }
        assertEquals(List.of(), records.stream().map(LogRecord::getMessage).toList());
    }

    /** Returns what {@code KeyFiles} logged while {@code action} ran. */
    private static List<LogRecord> logsWhile(Executable action) {
        Logger logger = Logger.getLogger(KeyFiles.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(capture);
        boolean parentHandlers = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);
        try {
            action.execute();
        } catch (Throwable e) {
            throw new AssertionError(e);
        } finally {
            logger.removeHandler(capture);
            logger.setUseParentHandlers(parentHandlers);
        }
        return records;
    }

    @Test
    void aFileOfOnlyAByteOrderMarkHoldsNoKeys() throws IOException {
        Path file = keyFile("\uFEFF");
        assertEquals(3, Files.size(file));
        assertEquals("key file " + file + " holds no keys", invalid(() -> FernetKeyRing.readKeyFile(file)));
    }

    @Test
    void aPathThroughAFileSaysWhyItCannotBeRead() throws IOException {
        Path notADirectory = keyFile(encode(rawKey()) + "\n");
        Path file = notADirectory.resolve("fernet.key");
        IOException e = assertThrows(IOException.class, () -> FernetKeyRing.readKeyFile(file));
        see(e);
        assertEquals("key file " + file + " cannot be read: Not a directory", e.getMessage());
        assertInstanceOf(FileSystemException.class, e.getCause());
    }

    @Test
    void aDeviceOrASocketIsNamedForWhatItIs() throws IOException {
        assumePosix();
        Path devNull = Path.of("/dev/null");
        assumeTrue(Files.exists(devNull), "no /dev/null here");
        assertEquals(
                "key file /dev/null is a character device, not a regular file",
                invalid(() -> FernetKeyRing.readKeyFile(devNull)));
        Path socketPath = dir.resolve("key.sock");
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(socketPath));
            assertEquals(
                    "key file " + socketPath + " is a socket, not a regular file",
                    invalid(() -> FernetKeyRing.readKeyFile(socketPath)));
        }
    }

    // ---- helpers

    /** Returns the message of the IllegalArgumentException that {@code call} throws, after the canary has seen it. */
    private String invalid(Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        see(e);
        return e.getMessage();
    }

    private void see(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            seen.add(String.valueOf(t.getMessage()));
            seen.add(t.toString());
        }
    }

    private FernetKeyRing ring(FernetKeyRing ring) {
        seen.add(ring.toString());
        return ring;
    }

    private void assertRing(FernetKeyRing ring, byte[]... expected) {
        seen.add(ring.toString());
        List<SecretKey> keys = ring.keys();
        assertEquals(expected.length, keys.size());
        for (int i = 0; i < expected.length; i++) {
            seen.add(keys.get(i).toString());
            assertArrayEquals(expected[i], keys.get(i).getEncoded(), "key " + (i + 1));
        }
        ring.destroy();
    }

    private byte[] rawKey() {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        secrets.add(encode(raw));
        return raw;
    }

    private static String encode(byte[] raw) {
        return Base64.getUrlEncoder().encodeToString(raw);
    }

    private String spoil(String key, String defect) {
        String bad;
        switch (defect) {
            case "truncated":
                bad = key.substring(0, 40);
                break;
            case "padding removed":
                bad = key.substring(0, 43);
                break;
            case "standard alphabet":
                bad = "+/" + key.substring(2);
                break;
            case "wrong character":
                bad = key.substring(0, 20) + "!" + key.substring(21);
                break;
            case "all plus signs":
                bad = "+".repeat(43) + "=";
                break;
            case "trailing comment":
                bad = key + " # the old one";
                break;
            case "comment":
                bad = "#" + key.substring(1);
                break;
            case "two keys":
                bad = key + " " + key;
                break;
            case "non-ascii":
                bad = "\u00e9" + key.substring(1);
                break;
            case "non-bmp":
                bad = "\uD83D\uDD11" + key.substring(2);
                break;
            case "control character":
                bad = key + "\u0000";
                break;
            case "unpadded 33 bytes":
                bad = key.substring(0, 43) + "A";
                break;
            default:
                throw new IllegalArgumentException(defect);
        }
        secrets.add(bad.strip());
        return bad;
    }

    private Path keyFile(String text) throws IOException {
        Path file = Files.createTempFile(dir, "fernet", ".key");
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    /** A uid that is not this process's: {@code nobody}'s. */
    private static final int OTHER_UID = 65534;

    /** Gives {@code file} to {@link #OTHER_UID}; only root can, so the test is skipped otherwise. */
    private static void giveToAnotherUser(Path file) throws IOException {
        assumePosix();
        if ((Integer) Files.getAttribute(file, "unix:uid") != 0) {
            Assumptions.abort("not root: this process cannot give a file to another user (the root case is the one"
                    + " that matters: root can read any user's 0600 file)");
        }
        Files.setAttribute(file, "unix:uid", OTHER_UID);
        assertEquals(OTHER_UID, Files.getAttribute(file, "unix:uid"));
    }

    private static void assumePosix() {
        assumeTrue(
                FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
                "this file system has no POSIX permissions; the check is skipped there");
    }
}
