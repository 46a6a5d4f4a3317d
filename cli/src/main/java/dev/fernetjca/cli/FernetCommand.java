package dev.fernetjca.cli;

import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import javax.crypto.AEADBadTagException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The root {@code fernet} command and its token commands, {@code keygen}, {@code encrypt} and {@code decrypt}, which
 * move bytes between standard input and output, and {@code psk}. {@link Demo} is a subcommand of its own; the
 * {@code tunnel} command is declared here, in its place among the others, and {@link TunnelCommand} holds its options
 * and its run.
 *
 * <p>Output is written only once a command has succeeded, so a refused token leaves standard output empty and a
 * pipeline never sees half a result.
 *
 * <p>Not thread-safe; one instance serves one command line.
 */
@Command(
        name = "fernet",
        scope = ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        subcommands = Demo.class,
        description = "Makes and reads Fernet tokens, compatible with Python's cryptography.fernet.",
        footer = {
            "",
            "Keys come from --key-file FILE, else FERNET_KEY_FILE, FERNET_KEY or FERNET_KEYSTORE as for the"
                    + " socket factories (docs/cli.md); never from an argument."
        })
final class FernetCommand implements Callable<Integer> {
    /** The most standard input {@code encrypt} accepts: 64 MiB of plaintext, read whole into memory. */
    static final int MAX_INPUT_BYTES = 64 * 1024 * 1024;

    /**
     * The longest token {@code decrypt} accepts: that of a plaintext of {@link #MAX_INPUT_BYTES}, about 85 MiB (base64
     * of version, timestamp, IV, the padded ciphertext and the tag), so that it reads every token {@code encrypt} makes.
     */
    static final int MAX_TOKEN_BYTES = 4 * ((1 + 8 + 16 + (MAX_INPUT_BYTES / 16 + 1) * 16 + 32 + 2) / 3);

    /** Whitespace {@code decrypt} reads around a token at most: a newline, a CRLF, an editor's indentation. */
    static final int MAX_SURROUNDING_WHITESPACE = 4096;

    /** The first line of {@code psk}: how the lines after it are used, for whoever finds the output later. */
    static final String PSK_HEADER = "# IDENTITY HEX_SECRET; openssl s_server|s_client -tls1_3 "
            + "-psk_identity IDENTITY -psk HEX_SECRET (docs/guides/openssl.md)";

    private final InputStream in;
    private final PrintStream out;
    // the root command line's error writer too (Main sets both): the token commands also run without picocli
    private final PrintWriter err;
    private final Map<String, String> env;

    @Spec
    CommandSpec spec;

    FernetCommand(InputStream in, PrintStream out, PrintWriter err, Map<String, String> env) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.env = env;
    }

    /** Without a command there is nothing to do: a usage error, so that scripts notice. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "no command given; use one of " + commands(spec));
    }

    /** Returns the names of {@code root}'s commands, as the usage lists them: "keygen, encrypt, ...". */
    static String commands(CommandSpec root) {
        return String.join(", ", root.subcommands().keySet());
    }

    @Command(
            name = "keygen",
            description = {
                "Prints a new random key: 44 characters of url-safe base64, " + "as Python's Fernet.generate_key().",
                "With --out FILE, writes it to a new FILE instead, readable by its owner only from the start, and"
                        + " prints nothing; an existing FILE is never replaced."
            })
    int keygen(
            @Option(
                            names = "--out",
                            paramLabel = "FILE",
                            description = "create FILE (mode 600) holding the key; refused if FILE exists")
                    Path outFile) {
        if (outFile != null) {
            return keygenTo(outFile);
        }
        // the one place the command prints a secret: that is what it is for
        out.print(Fernet.generateKey());
        out.print('\n');
        return flushed();
    }

    /**
     * Writes a new key to {@code keyFile}, created with mode 600 in the same system call that creates it (no moment
     * when {@code keygen > f; chmod 600 f} leaves it readable), and never over an existing file: a second run must not
     * silently replace a key already in use.
     */
    private int keygenTo(Path keyFile) {
        byte[] line = (Fernet.generateKey() + "\n").getBytes(StandardCharsets.US_ASCII);
        boolean created = false;
        try {
            FileAttribute<?>[] ownerOnly =
                    keyFile.getFileSystem().supportedFileAttributeViews().contains("posix")
                            ? new FileAttribute<?>[] {
                                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
                            }
                            : new FileAttribute<?>[0];
            try (FileChannel channel = FileChannel.open(
                    keyFile, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), ownerOnly)) {
                created = true;
                ByteBuffer buffer = ByteBuffer.wrap(line);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            return Main.OK;
        } catch (FileAlreadyExistsException e) {
            err.println("fernet: " + keyFile + " already exists; keygen --out never replaces a file (a key in use"
                    + " would be lost): remove it first or choose another name");
            return Main.REFUSED;
        } catch (IOException e) {
            if (created) {
                try {
                    Files.deleteIfExists(keyFile);
                } catch (IOException ignored) {
                    // reported below: the file may hold part of a key
                }
            }
            String reason = e instanceof FileSystemException fileSystem ? fileSystem.getReason() : e.getMessage();
            err.println("fernet: cannot create " + keyFile + (reason == null ? "" : ": " + reason));
            return Main.REFUSED;
        } finally {
            Arrays.fill(line, (byte) 0);
            err.flush();
        }
    }

    @Command(
            name = "encrypt",
            description = {
                "Reads standard input whole (at most 64 MiB) and prints one token for it, then a newline.",
                "The first key of --key-file or FERNET_KEY encrypts."
            })
    int encrypt(@Mixin KeyOptions keys) {
        return encryptWith(keys.load(env));
    }

    /** Runs {@code encrypt} with its keys loaded: what {@link Shortcut} calls without picocli. */
    int encryptWith(Fernet fernet) {
        byte[] plaintext = readStandardInput(MAX_INPUT_BYTES);
        if (plaintext == null) {
            return Main.REFUSED;
        }
        try {
            if (plaintext.length > MAX_INPUT_BYTES) {
                return tooLarge(MAX_INPUT_BYTES, "64 MiB");
            }
            byte[] token = fernet.encrypt(plaintext);
            out.write(token, 0, token.length);
            out.write('\n');
            return flushed();
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    @Command(
            name = "decrypt",
            description = {
                "Reads one token from standard input (surrounding whitespace ignored; any token encrypt "
                        + "makes, up to 64 MiB of plaintext) and writes exactly its plaintext.",
                "Any key of --key-file or FERNET_KEY may have made the token.",
                "An invalid or expired token exits with status 1 and writes nothing to standard output."
            })
    int decrypt(
            @Mixin KeyOptions keys,
            @Option(
                            names = "--ttl",
                            paramLabel = "SECONDS",
                            description = "Refuse tokens made more than SECONDS ago (or dated over 60 s ahead).")
                    String ttlSeconds) {
        Duration ttl = ttlSeconds == null ? null : parseTtl(ttlSeconds);
        return decryptWith(keys.load(env), ttl);
    }

    /**
     * Runs {@code decrypt} with its keys loaded and its TTL parsed, null for none: what {@link Shortcut} calls without
     * picocli.
     */
    int decryptWith(Fernet fernet, Duration ttl) {
        byte[] input = readStandardInput(MAX_TOKEN_BYTES + 2 * MAX_SURROUNDING_WHITESPACE);
        if (input == null) {
            return Main.REFUSED;
        }
        // the Cipher takes the token exactly; a trailing newline from `encrypt` or an editor is not part of it
        int start = 0;
        int end = input.length;
        while (start < end && isAsciiWhitespace(input[start])) {
            start++;
        }
        while (end > start && isAsciiWhitespace(input[end - 1])) {
            end--;
        }
        if (end - start > MAX_TOKEN_BYTES || input.length > MAX_TOKEN_BYTES + 2 * MAX_SURROUNDING_WHITESPACE) {
            return tooLarge(MAX_TOKEN_BYTES, "the token of 64 MiB of plaintext");
        }
        byte[] token = start == 0 && end == input.length ? input : Arrays.copyOfRange(input, start, end);
        input = null; // a token near the limit is 85 MiB: let the collector have the untrimmed copy while decrypting
        byte[] plaintext;
        try {
            plaintext = ttl == null ? fernet.decrypt(token) : fernet.decrypt(token, ttl);
        } catch (AEADBadTagException e) {
            // the provider's fixed phrases ("token expired", ...); never the token itself
            err.println("fernet: " + e.getMessage());
            return Main.REFUSED;
        }
        try {
            out.write(plaintext, 0, plaintext.length);
            return flushed();
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    @Command(
            name = "tunnel",
            description = {
                "Forwards connections between a plain side and an encrypted side, both directions at once,"
                        + " until SIGTERM or SIGINT, then lets open connections finish for up to 10 seconds.",
                "--encrypt takes plain connections on --listen and forwards them encrypted to --connect;"
                        + " --decrypt takes encrypted connections and forwards them plain, once the peer has proved its"
                        + " key.",
                "Only a clean end is passed on as one; any other end resets the other side.",
                "Logs one line per connection on standard error; never data.",
                "A key file is watched (FERNET_KEY_FILE_REFRESH seconds, default 10); SIGHUP re-reads it at once."
            })
    int tunnel(@Mixin TunnelCommand tunnel, @Mixin KeyOptions keys) throws IOException, InterruptedException {
        return tunnel.run(
                spec.subcommands().get("tunnel"), keys, env, spec.commandLine().getErr());
    }

    @Command(
            name = "psk",
            description = {
                "Prints, for each key (the primary first), the TLS 1.3 external PSK that the socket "
                        + "factories derive from it, as one line: IDENTITY HEX_SECRET.",
                "A comment line first tells how openssl s_server and s_client take them. "
                        + "The secret is key material: keep the output as private as the key file."
            })
    int psk(@Mixin KeyOptions keys) {
        FernetKeyRing ring = keys.ring(env);
        List<String> lines;
        try {
            lines = FernetSocketFactory.externalPsks(ring);
        } finally {
            ring.destroy();
        }
        // printing the secret is the point of this command, as the key is of keygen
        out.print(PSK_HEADER + "\n");
        for (String line : lines) {
            out.print(line + "\n");
        }
        return flushed();
    }

    private Duration parseTtl(String text) {
        String digits = text.trim();
        long seconds;
        try {
            seconds = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            if (digits.matches("[0-9]+")) {
                throw new ParameterException(
                        spec.subcommands().get("decrypt"),
                        "--ttl is too large: at most " + Long.MAX_VALUE + " seconds");
            }
            seconds = 0;
        }
        if (seconds <= 0) {
            // the value is not repeated: a misplaced key must not reach a terminal log
            throw new ParameterException(
                    spec.subcommands().get("decrypt"), "--ttl must be a positive whole number of seconds");
        }
        return Duration.ofSeconds(seconds);
    }

    private int tooLarge(int limit, String what) {
        err.println("fernet: input exceeds the limit of " + limit + " bytes (" + what + ")");
        return Main.REFUSED;
    }

    /**
     * Reads standard input as {@link #readAtMost} does, or returns null after saying why it cannot: it is a directory,
     * it was closed ({@code <&-}), or reading failed.
     */
    private byte[] readStandardInput(int limit) {
        String problem = in == System.in ? StandardInput.problem() : null;
        if (problem != null) {
            err.println("fernet: standard input " + problem);
            return null;
        }
        try {
            return readAtMost(in, limit);
        } catch (IOException e) {
            String reason = String.valueOf(e.getMessage());
            err.println("fernet: cannot read standard input: "
                    + (reason.isEmpty() ? reason : Character.toLowerCase(reason.charAt(0)) + reason.substring(1)));
            return null;
        }
    }

    /** PrintStream swallows write errors (a closed pipe, a full disk); a script must still see the failure. */
    private int flushed() {
        out.flush();
        if (out.checkError()) {
            err.println("fernet: cannot write to standard output");
            return Main.REFUSED;
        }
        return Main.OK;
    }

    static boolean isAsciiWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == 0x0b;
    }

    /**
     * Reads {@code in} to its end, or until it has given more than {@code limit} bytes: the result is then
     * {@code limit + 1} bytes long, so the caller can tell. Buffers outgrown are wiped, since they may hold plaintext
     * or keys.
     */
    static byte[] readAtMost(InputStream in, int limit) throws IOException {
        byte[] buffer = new byte[Math.min(8192, limit + 1)];
        int length = 0;
        while (true) {
            if (length == buffer.length) {
                if (length > limit) {
                    return buffer;
                }
                byte[] grown = Arrays.copyOf(buffer, (int) Math.min(limit + 1L, 2L * buffer.length));
                Arrays.fill(buffer, (byte) 0);
                buffer = grown;
            }
            int n = in.read(buffer, length, buffer.length - length);
            if (n < 0) {
                break;
            }
            length += n;
        }
        if (length == buffer.length) {
            return buffer;
        }
        byte[] exact = Arrays.copyOf(buffer, length);
        Arrays.fill(buffer, (byte) 0);
        return exact;
    }
}
