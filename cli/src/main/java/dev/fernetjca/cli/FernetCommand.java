package dev.fernetjca.cli;

import dev.fernetjca.net.FernetServerSocketFactory;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.net.FernetSocketOptions;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Reader;
import java.net.InetSocketAddress;
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
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import javax.crypto.AEADBadTagException;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The root {@code fernet} command and its token commands, {@code keygen}, {@code encrypt} and {@code decrypt}, which
 * move bytes between standard input and output, and {@code psk}. {@link Demo} is a subcommand of its own.
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
        versionProvider = FernetCommand.Version.class,
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
    int tunnel(
            @Option(
                            names = "--listen",
                            required = true,
                            paramLabel = "HOST:PORT",
                            description = "where to accept connections (port 0: any free port, printed at start)")
                    String listen,
            @Option(
                            names = "--connect",
                            required = true,
                            paramLabel = "HOST:PORT",
                            description = "where to forward each connection; the host must resolve at start")
                    String connect,
            @ArgGroup(exclusive = true, multiplicity = "1") TunnelDirection direction,
            @Option(
                            names = "--mode",
                            defaultValue = "tls",
                            paramLabel = "tls|fernet-tokens",
                            description = "wire format of the encrypted side (default: ${DEFAULT-VALUE})")
                    String mode,
            @Option(
                            names = "--ttl",
                            paramLabel = "SECONDS",
                            description = "fernet-tokens mode: refuse tokens older than this")
                    String ttl,
            @Option(
                            names = "--max-connections",
                            paramLabel = "N",
                            description = "established connections open at once; more are refused (default: "
                                    + Tunnel.Limits.DEFAULT_MAX_CONNECTIONS + ")")
                    String maxConnections,
            @Option(
                            names = "--max-pending",
                            paramLabel = "N",
                            description =
                                    "--decrypt: peers yet to prove their key, at once; more are refused (default: "
                                            + Tunnel.Limits.DEFAULT_MAX_PENDING + ")")
                    String maxPending,
            @Option(
                            names = "--max-pending-per-address",
                            paramLabel = "N",
                            description = "--decrypt: of those, from one source address (default: "
                                    + Tunnel.Limits.DEFAULT_MAX_PENDING_PER_ADDRESS + ")")
                    String maxPendingPerAddress,
            @Option(
                            names = "--handshake-timeout",
                            paramLabel = "SECONDS",
                            description = "how long a peer has to prove its key: the TLS handshake, or in fernet-tokens"
                                    + " mode its first token (default: FERNET_HANDSHAKE_TIMEOUT, else "
                                    + "5)")
                    String handshakeTimeout,
            @Option(
                            names = "--connect-timeout",
                            paramLabel = "SECONDS",
                            description = "how long connecting to --connect may take (default: 10)")
                    String connectTimeout,
            @Option(
                            names = "--idle-timeout",
                            paramLabel = "SECONDS",
                            description = "end connections with no traffic either way for this long, as a failure"
                                    + " (default: never)")
                    String idleTimeout,
            @Option(
                            names = "--metrics",
                            paramLabel = "HOST:PORT",
                            description = "serve /metrics (Prometheus text format) and /healthz over plain HTTP here;"
                                    + " bind it to 127.0.0.1 or a private address")
                    String metrics,
            @Mixin KeyOptions keys)
            throws IOException, InterruptedException {
        CommandLine tunnelLine = spec.subcommands().get("tunnel");
        // no message repeats a value given: a key may have been pasted in the wrong place
        if (!mode.equals("tls") && !mode.equals("fernet-tokens")) {
            throw new ParameterException(tunnelLine, "--mode must be tls or fernet-tokens");
        }
        if (ttl != null && !mode.equals("fernet-tokens")) {
            throw new ParameterException(tunnelLine, "--ttl applies to fernet-tokens mode only");
        }
        long ttlSeconds = tunnelNumber(tunnelLine, "--ttl", ttl, 0, 1, 100L * 365 * 86_400);
        Tunnel.Limits limits = Tunnel.Limits.defaults()
                .withMaxConnections((int) tunnelNumber(
                        tunnelLine,
                        "--max-connections",
                        maxConnections,
                        Tunnel.Limits.DEFAULT_MAX_CONNECTIONS,
                        1,
                        1_000_000))
                .withPending(
                        (int) tunnelNumber(
                                tunnelLine,
                                "--max-pending",
                                maxPending,
                                Tunnel.Limits.DEFAULT_MAX_PENDING,
                                1,
                                1_000_000),
                        (int) tunnelNumber(
                                tunnelLine,
                                "--max-pending-per-address",
                                maxPendingPerAddress,
                                Tunnel.Limits.DEFAULT_MAX_PENDING_PER_ADDRESS,
                                1,
                                1_000_000))
                .withTimeouts(
                        tunnelHandshakeTimeout(tunnelLine, handshakeTimeout),
                        Duration.ofSeconds(tunnelNumber(
                                tunnelLine,
                                "--connect-timeout",
                                connectTimeout,
                                Tunnel.Limits.DEFAULT_CONNECT_TIMEOUT.toSeconds(),
                                1,
                                MAX_TUNNEL_SECONDS)),
                        idleTimeout == null
                                ? null
                                : Duration.ofSeconds(tunnelNumber(
                                        tunnelLine, "--idle-timeout", idleTimeout, 0, 1, MAX_TUNNEL_SECONDS)));
        InetSocketAddress listenAddress;
        InetSocketAddress target;
        try {
            listenAddress = Tunnel.parse(listen);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(tunnelLine, "--listen " + e.getMessage());
        }
        try {
            target = Tunnel.parse(connect);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(tunnelLine, "--connect " + e.getMessage());
        }
        InetSocketAddress metricsAddress = null;
        try {
            metricsAddress = metrics == null ? null : Tunnel.parse(metrics);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(tunnelLine, "--metrics " + e.getMessage());
        }
        FernetSocketOptions options = (mode.equals("tls")
                        ? FernetSocketOptions.tls()
                        : FernetSocketOptions.fernetTokens(ttl == null ? null : Duration.ofSeconds(ttlSeconds)))
                .withHandshakeTimeout(limits.handshakeTimeout());
        // the keys as the factories' configuration gives them, so that a key file is watched and SIGHUP re-reads it
        ServerSocketFactory acceptSide;
        SocketFactory connectSide;
        Runnable reloadKeys;
        try {
            if (direction.decrypt) {
                FernetServerSocketFactory fernetSide =
                        FernetServerSocketFactory.configured(keys.environment(env), options);
                acceptSide = fernetSide;
                connectSide = SocketFactory.getDefault();
                reloadKeys = () -> reloaded(fernetSide.reloadKeys());
            } else {
                FernetSocketFactory fernetSide = FernetSocketFactory.configured(keys.environment(env), options);
                acceptSide = ServerSocketFactory.getDefault();
                connectSide = fernetSide;
                reloadKeys = () -> reloaded(fernetSide.reloadKeys());
            }
        } catch (IllegalStateException e) {
            throw keys.usage(e);
        }
        Tunnel.Gate gate = !direction.decrypt
                ? Tunnel.Gate.NONE
                : mode.equals("tls") ? Tunnel.Gate.HANDSHAKE : Tunnel.Gate.FIRST_TOKEN;
        PrintWriter log = spec.commandLine().getErr();
        Tunnel tunnel;
        try {
            tunnel = Tunnel.start(listenAddress, acceptSide, gate, target, connectSide, limits, log);
        } catch (IOException e) {
            log.println("fernet tunnel: cannot listen on " + listen + ": " + e.getMessage());
            return Main.REFUSED;
        }
        MetricsServer metricsServer = null;
        if (metricsAddress != null) {
            try {
                metricsServer = MetricsServer.start(metricsAddress, tunnel::isListening);
            } catch (IOException e) {
                tunnel.close();
                log.println("fernet tunnel: cannot serve metrics on " + metrics + ": " + e.getMessage());
                return Main.REFUSED;
            }
        }
        MetricsServer metricsToStop = metricsServer;
        if (!Hangup.handle(reloadKeys)) {
            log.println("fernet tunnel: this JVM has no SIGHUP handling; a key file is still checked every "
                    + "fernet.keyFile.refresh seconds");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                int cut = tunnel.shutdown(DRAIN);
                                if (metricsToStop != null) {
                                    metricsToStop.close();
                                }
                                log.println("fernet tunnel: stopped"
                                        + (cut == 0
                                                ? ""
                                                : ", " + cut + " connections cut after " + DRAIN.toSeconds() + " s"));
                                log.flush();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "fernet-tunnel-drain"));
        log.println("fernet tunnel: listening on " + listenAddress.getHostString() + ":" + tunnel.port() + ", "
                + (direction.decrypt ? "decrypting " + mode : "encrypting " + mode) + " to " + connect
                + (metricsServer == null
                        ? ""
                        : ", metrics on http://" + metricsAddress.getHostString() + ":" + metricsServer.port()
                                + "/metrics"));
        if (direction.decrypt && mode.equals("fernet-tokens") && ttl == null) {
            // a token proves only that its sender saw one: without a TTL, a recorded token opens the target for ever
            log.println("fernet tunnel: warning: fernet-tokens mode without --ttl: anyone who recorded one token can"
                    + " replay it to reach " + connect + " at any later time; set --ttl SECONDS");
        }
        log.flush();
        stopped.await();
        return Main.OK;
    }

    /** Says on standard error what a SIGHUP did; the library has logged why a key file could not be used. */
    private void reloaded(boolean newKeys) {
        PrintWriter log = spec.commandLine().getErr();
        log.println(
                newKeys
                        ? "fernet tunnel: SIGHUP: keys reloaded for new connections"
                        : "fernet tunnel: SIGHUP: no new keys (no key file configured, or it cannot be used); the keys in force"
                                + " stay");
        log.flush();
    }

    /** The longest time a tunnel option takes: a day, in seconds. */
    static final long MAX_TUNNEL_SECONDS = 86_400;

    /**
     * Parses a tunnel option's whole number, {@code fallback} when absent. The message names the option and what it
     * takes, never the text given.
     */
    private static long tunnelNumber(CommandLine line, String option, String text, long fallback, long min, long max) {
        if (text == null) {
            return fallback;
        }
        String digits = text.trim();
        if (digits.matches("[0-9]{1,30}")) {
            // a number too long for a long is too large as well
            if (digits.length() > 18 || Long.parseLong(digits) > max) {
                throw new ParameterException(line, option + " is too large: at most " + max);
            }
            if (Long.parseLong(digits) >= min) {
                return Long.parseLong(digits);
            }
        }
        throw new ParameterException(line, option + " takes a whole number from " + min + " to " + max);
    }

    private Duration tunnelHandshakeTimeout(CommandLine line, String option) {
        if (option != null) {
            return Duration.ofSeconds(tunnelNumber(line, "--handshake-timeout", option, 0, 1, MAX_TUNNEL_SECONDS));
        }
        String millis = System.getProperty("fernet.handshakeTimeout", env.get("FERNET_HANDSHAKE_TIMEOUT"));
        if (millis == null || millis.isBlank()) {
            return Tunnel.Limits.DEFAULT_HANDSHAKE_TIMEOUT;
        }
        try {
            long value = Long.parseLong(millis.trim());
            if (value > 0) {
                return Duration.ofMillis(value);
            }
        } catch (NumberFormatException e) {
            // reported below, with what is accepted
        }
        throw new ParameterException(line, "FERNET_HANDSHAKE_TIMEOUT takes a positive whole number of milliseconds");
    }

    /** How long a stopping tunnel lets open connections finish. */
    static final Duration DRAIN = Duration.ofSeconds(10);

    /** Exactly one of {@code --encrypt} and {@code --decrypt}. */
    static final class TunnelDirection {
        @Option(names = "--encrypt", required = true, description = "plain in, encrypted out")
        boolean encrypt;

        @Option(names = "--decrypt", required = true, description = "encrypted in, plain out")
        boolean decrypt;
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

    /** Reads the version Maven wrote into {@code version.properties} at build time. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            InputStream stream = Version.class.getResourceAsStream("version.properties");
            if (stream != null) {
                try (Reader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
                    properties.load(reader);
                }
            }
            return new String[] {
                "fernet (fernet-jca) " + properties.getProperty("version", "unknown"),
                "Java " + Runtime.version() + ", " + System.getProperty("java.vm.name", "unknown VM")
            };
        }
    }
}
