package dev.fernetjca.cli;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code fernet} executable: parses the command line, runs one command, and exits with its status.
 *
 * <p>Exit status: 0 success; 1 the input was refused (an invalid or expired token, input over the size limit) or
 * could not be read or written; 2 a usage error (unknown option, missing or unusable key). See {@code docs/cli.md}.
 *
 * <p>Stateless; each run builds its own command objects.
 */
public final class Main {
    static final int OK = 0;
    static final int REFUSED = 1;
    static final int USAGE = 2;

    // an argument picocli did not expect is repeated only when it looks like an option name: it may be a key
    // pasted in the wrong place, and a key (44 characters ending in '=') never looks like this
    private static final Pattern OPTION_NAME = Pattern.compile("--?[A-Za-z][A-Za-z0-9-]{0,30}");

    private Main() {
    }

    /** Runs the command line in {@code args} against the process's standard streams and environment, then exits. */
    public static void main(String[] args) {
        int status = run(args, System.in, System.out, System.err, System.getenv());
        System.out.flush();
        System.exit(status);
    }

    /**
     * Runs one command line and returns its exit status; the streams and environment are parameters so that tests
     * run commands in-process. Nothing is closed.
     */
    static int run(String[] args, InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
        PrintWriter outWriter = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter errWriter = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        try {
            CommandLine commandLine = new CommandLine(new FernetCommand(in, out, env));
            commandLine.setOut(outWriter);
            commandLine.setErr(errWriter);
            commandLine.setParameterExceptionHandler(Main::usageError);
            commandLine.setExecutionExceptionHandler((e, failed, parseResult) -> {
                // commands report expected failures themselves; this is a bug or an environment problem, and
                // exception messages of the provider never carry key bytes, tokens or plaintext
                failed.getErr().println("fernet: unexpected " + e.getClass().getName() + ": " + e.getMessage());
                return REFUSED;
            });
            return commandLine.execute(args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine failed = e.getCommandLine();
        PrintWriter err = failed.getErr();
        err.println("fernet: " + describe(e));
        err.println("see '" + failed.getCommandSpec().qualifiedName() + " --help'");
        return USAGE;
    }

    private static String describe(ParameterException e) {
        if (e instanceof UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
            String first = unmatched.getUnmatched().get(0);
            return OPTION_NAME.matcher(first).matches()
                    ? "unknown option '" + first + "'"
                    : "unexpected argument (not repeated here, in case it is a key)";
        }
        // picocli's phrases are capitalized ("Missing required parameter"); ours may start with FERNET_KEY
        String message = String.valueOf(e.getMessage());
        boolean capitalized = message.length() > 1
                && Character.isUpperCase(message.charAt(0)) && Character.isLowerCase(message.charAt(1));
        return capitalized ? message.substring(0, 1).toLowerCase(Locale.ROOT) + message.substring(1) : message;
    }
}
