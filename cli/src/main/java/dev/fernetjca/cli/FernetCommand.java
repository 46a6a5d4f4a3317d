package dev.fernetjca.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import dev.fernetjca.net.FernetServerSocketFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import javax.crypto.AEADBadTagException;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.provider.Fernet;
import dev.fernetjca.provider.FernetKeyRing;
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
@Command(name = "fernet",
        scope = ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = FernetCommand.Version.class,
        subcommands = Demo.class,
        description = "Makes and reads Fernet tokens, compatible with Python's cryptography.fernet.",
        footer = {"", "Keys come from --key-file FILE or the FERNET_KEY environment variable; never from an argument."})
final class FernetCommand implements Callable<Integer> {
    /** The most standard input {@code encrypt} and {@code decrypt} accept: 64 MiB, read whole into memory. */
    static final int MAX_INPUT_BYTES = 64 * 1024 * 1024;

    /** The first line of {@code psk}: how the lines after it are used, for whoever finds the output later. */
    static final String PSK_HEADER = "# IDENTITY HEX_SECRET; openssl s_server|s_client -tls1_3 "
            + "-psk_identity IDENTITY -psk HEX_SECRET (docs/guides/openssl.md)";

    private final InputStream in;
    private final PrintStream out;
    private final Map<String, String> env;

    @Spec
    CommandSpec spec;

    FernetCommand(InputStream in, PrintStream out, Map<String, String> env) {
        this.in = in;
        this.out = out;
        this.env = env;
    }

    /** Without a command there is nothing to do: a usage error, so that scripts notice. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "no command given; use keygen, encrypt, decrypt, psk or demo");
    }

    @Command(name = "keygen",
            description = "Prints a new random key: 44 characters of url-safe base64, "
                    + "as Python's Fernet.generate_key().")
    int keygen() {
        // the one place the command prints a secret: that is what it is for
        out.print(Fernet.generateKey());
        out.print('\n');
        return flushed();
    }

    @Command(name = "encrypt",
            description = {"Reads standard input whole (at most 64 MiB) and prints one token for it, then a newline.",
                    "The first key of --key-file or FERNET_KEY encrypts."})
    int encrypt(@Mixin KeyOptions keys) throws IOException {
        Fernet fernet = keys.load(env);
        byte[] plaintext = readAtMost(in, MAX_INPUT_BYTES);
        try {
            if (plaintext.length > MAX_INPUT_BYTES) {
                return tooLarge();
            }
            byte[] token = fernet.encrypt(plaintext);
            out.write(token, 0, token.length);
            out.write('\n');
            return flushed();
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    @Command(name = "decrypt",
            description = {"Reads one token from standard input (surrounding whitespace ignored, at most 64 MiB) and "
                    + "writes exactly its plaintext.",
                    "Any key of --key-file or FERNET_KEY may have made the token.",
                    "An invalid or expired token exits with status 1 and writes nothing to standard output."})
    int decrypt(@Mixin KeyOptions keys,
                @Option(names = "--ttl", paramLabel = "SECONDS",
                        description = "Refuse tokens made more than SECONDS ago (or dated over 60 s ahead).")
                String ttlSeconds) throws IOException {
        Duration ttl = ttlSeconds == null ? null : parseTtl(ttlSeconds);
        Fernet fernet = keys.load(env);
        byte[] input = readAtMost(in, MAX_INPUT_BYTES);
        if (input.length > MAX_INPUT_BYTES) {
            return tooLarge();
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
        byte[] token = start == 0 && end == input.length ? input : Arrays.copyOfRange(input, start, end);
        byte[] plaintext;
        try {
            plaintext = ttl == null ? fernet.decrypt(token) : fernet.decrypt(token, ttl);
        } catch (AEADBadTagException e) {
            // the provider's fixed phrases ("token expired", ...); never the token itself
            spec.commandLine().getErr().println("fernet: " + e.getMessage());
            return Main.REFUSED;
        }
        try {
            out.write(plaintext, 0, plaintext.length);
            return flushed();
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    @Command(name = "tunnel",
            description = {"Forwards connections between a plain side and an encrypted side, both directions at once,"
                    + " until SIGTERM or SIGINT, then lets open connections finish for up to 10 seconds.",
                    "--encrypt takes plain connections on --listen and forwards them encrypted to --connect;"
                    + " --decrypt takes encrypted connections and forwards them plain.",
                    "Logs one line per connection on standard error; never data."})
    int tunnel(@Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
                       description = "where to accept connections (port 0: any free port, printed at start)")
               String listen,
               @Option(names = "--connect", required = true, paramLabel = "HOST:PORT",
                       description = "where to forward each connection") String connect,
               @ArgGroup(exclusive = true, multiplicity = "1") TunnelDirection direction,
               @Option(names = "--mode", defaultValue = "tls", paramLabel = "tls|fernet-tokens",
                       description = "wire format of the encrypted side (default: ${DEFAULT-VALUE})") String mode,
               @Option(names = "--ttl", paramLabel = "SECONDS",
                       description = "fernet-tokens mode: refuse tokens older than this") Long ttlSeconds,
               @Option(names = "--max-connections", defaultValue = "64", paramLabel = "N",
                       description = "connections open at once; more are refused (default: ${DEFAULT-VALUE})")
               int maxConnections,
               @Mixin KeyOptions keys) throws IOException, InterruptedException {
        CommandLine tunnelLine = spec.subcommands().get("tunnel");
        if (!mode.equals("tls") && !mode.equals("fernet-tokens")) {
            throw new ParameterException(tunnelLine, "--mode must be tls or fernet-tokens, got " + mode);
        }
        if (ttlSeconds != null && (ttlSeconds <= 0 || !mode.equals("fernet-tokens"))) {
            throw new ParameterException(tunnelLine, "--ttl takes a positive number of seconds, in fernet-tokens mode");
        }
        if (maxConnections < 1) {
            throw new ParameterException(tunnelLine, "--max-connections must be at least 1");
        }
        InetSocketAddress listenAddress;
        InetSocketAddress target;
        try {
            listenAddress = Tunnel.parse(listen);
            target = Tunnel.parse(connect);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(tunnelLine, e.getMessage());
        }
        // the factories read the wire mode and TTL from the configuration, as in any application
        System.setProperty("fernet.mode", mode);
        if (ttlSeconds != null) {
            System.setProperty("fernet.ttl", Long.toString(ttlSeconds));
        }
        FernetKeyRing ring = keys.ring(env);
        ServerSocketFactory acceptSide;
        SocketFactory connectSide;
        try {
            acceptSide = direction.decrypt ? FernetServerSocketFactory.withConfiguredMode(ring)
                    : ServerSocketFactory.getDefault();
            connectSide = direction.decrypt ? SocketFactory.getDefault() : FernetSocketFactory.withConfiguredMode(ring);
        } finally {
            ring.destroy();
        }
        PrintWriter log = spec.commandLine().getErr();
        Tunnel tunnel;
        try {
            tunnel = Tunnel.start(listenAddress, acceptSide, target, connectSide, maxConnections, log);
        } catch (IOException e) {
            log.println("fernet tunnel: cannot listen on " + listen + ": " + e.getMessage());
            return Main.REFUSED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                int cut = tunnel.shutdown(DRAIN);
                log.println("fernet tunnel: stopped" + (cut == 0 ? "" : ", " + cut + " connections cut after "
                        + DRAIN.toSeconds() + " s"));
                log.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                stopped.countDown();
            }
        }, "fernet-tunnel-drain"));
        log.println("fernet tunnel: listening on " + listenAddress.getHostString() + ":" + tunnel.port() + ", "
                + (direction.decrypt ? "decrypting " + mode : "encrypting " + mode) + " to " + connect);
        log.flush();
        stopped.await();
        return Main.OK;
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

    @Command(name = "psk",
            description = {"Prints, for each key (the primary first), the TLS 1.3 external PSK that the socket "
                    + "factories derive from it, as one line: IDENTITY HEX_SECRET.",
                    "A comment line first tells how openssl s_server and s_client take them. "
                    + "The secret is key material: keep the output as private as the key file."})
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
        long seconds;
        try {
            seconds = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            seconds = 0;
        }
        if (seconds <= 0) {
            // the value is not repeated: a misplaced key must not reach a terminal log
            throw new ParameterException(spec.subcommands().get("decrypt"),
                    "--ttl must be a positive whole number of seconds");
        }
        return Duration.ofSeconds(seconds);
    }

    private int tooLarge() {
        spec.commandLine().getErr()
                .println("fernet: input exceeds the limit of " + MAX_INPUT_BYTES + " bytes (64 MiB)");
        return Main.REFUSED;
    }

    /** PrintStream swallows write errors (a closed pipe, a full disk); a script must still see the failure. */
    private int flushed() {
        out.flush();
        if (out.checkError()) {
            spec.commandLine().getErr().println("fernet: cannot write to standard output");
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
            try (InputStream stream = Version.class.getResourceAsStream("version.properties")) {
                if (stream != null) {
                    properties.load(new java.io.InputStreamReader(stream, StandardCharsets.UTF_8));
                }
            }
            return new String[] {
                "fernet (fernet-jca) " + properties.getProperty("version", "unknown"),
                "Java " + Runtime.version() + ", " + System.getProperty("java.vm.name", "unknown VM")
            };
        }
    }
}
