package dev.fernetjca.cli;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
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
    private static final Pattern COMMAND_NAME = Pattern.compile("[a-z][a-z0-9-]{0,30}");
    private static final Pattern KEY_LIKE = Pattern.compile("[A-Za-z0-9_+=-]{40,}");

    private Main() {}

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
            FernetCommand command = new FernetCommand(in, out, errWriter, env);
            Integer status = Shortcut.run(args, command, env, errWriter);
            return status != null ? status : parseAndRun(args, command, outWriter, errWriter);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /** Runs {@code args} through picocli: every command line, including those {@link Shortcut} leaves. */
    static int parseAndRun(String[] args, FernetCommand command, PrintWriter outWriter, PrintWriter errWriter) {
        CommandLine commandLine = new CommandLine(command);
        commandLine.setOut(outWriter);
        commandLine.setErr(errWriter);
        commandLine.setParameterExceptionHandler(Main::usageError);
        commandLine.setExecutionExceptionHandler((e, failed, parseResult) -> failed(e, failed.getErr()));
        return commandLine.execute(args);
    }

    /** Reports an exception a command did not handle, and returns its exit status. */
    static int failed(Throwable e, PrintWriter err) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof OutOfMemoryError) {
                // input near the 64 MiB limit needs a few hundred MiB of heap (docs/cli.md, Limits)
                err.println("fernet: not enough memory for this input; give Java a larger heap,"
                        + " such as FERNET_JAVA_OPTS=-Xmx512m bin/fernet or java -Xmx512m -jar fernet.jar");
                return REFUSED;
            }
        }
        // commands report expected failures themselves; this is a bug or an environment problem, and
        // exception messages of the provider never carry key bytes, tokens or plaintext
        err.println(withoutKeys("fernet: unexpected " + e.getClass().getName() + ": " + e.getMessage()));
        return REFUSED;
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine failed = e.getCommandLine();
        PrintWriter err = failed.getErr();
        err.println(withoutKeys("fernet: " + describe(e)));
        err.println("see '" + failed.getCommandSpec().qualifiedName() + " --help'");
        return USAGE;
    }

    /**
     * Says that {@code given} is no command of {@code failed}, and names the nearest ones, or all: the word itself is
     * repeated only when it looks like one (lower case, short), since it may be a key typed in the wrong place.
     */
    private static String unknownCommand(String given, List<String> suggestions, CommandLine failed) {
        // picocli orders its suggestions nearest first
        List<String> commands = suggestions.stream()
                .filter(failed.getSubcommands()::containsKey)
                .limit(1)
                .toList();
        String what = COMMAND_NAME.matcher(given).matches()
                ? "unknown command '" + given + "'"
                : "unknown command (not repeated here, in case it is a key)";
        return commands.isEmpty()
                ? what + "; the commands are " + FernetCommand.commands(failed.getCommandSpec())
                : what + "; did you mean '" + commands.get(0) + "'?";
    }

    /**
     * Describes a value picocli could not convert without repeating it: the option, what it takes, and for a number
     * that is only too large, the largest accepted.
     */
    private static String invalidValue(ArgSpec arg, String value) {
        String name = arg instanceof OptionSpec option ? option.longestName() : arg.paramLabel();
        Class<?> type = arg.type();
        Long largest = type == int.class || type == Integer.class
                ? Long.valueOf(Integer.MAX_VALUE)
                : type == long.class || type == Long.class ? Long.valueOf(Long.MAX_VALUE) : null;
        if (largest != null && value.strip().matches("[0-9]+")) {
            return name + " is too large: at most " + largest;
        }
        String expected = largest != null
                ? "a whole number"
                : type.isEnum()
                        ? "one of " + String.join(", ", arg.completionCandidates())
                        : "a " + type.getSimpleName().toLowerCase(Locale.ROOT);
        return "invalid value for " + name + ": it takes " + arg.paramLabel() + ", " + expected
                + " (the value given is not repeated here)";
    }

    /**
     * Returns {@code message} with every run of base64 long enough to be a key (40 characters or more, in both
     * cases) replaced: whatever the path to a message, a key typed in the wrong place does not reach the terminal.
     */
    static String withoutKeys(String message) {
        Matcher run = KEY_LIKE.matcher(message);
        StringBuilder result = new StringBuilder(message.length());
        while (run.find()) {
            String text = run.group();
            boolean keyLike = text.chars().anyMatch(Character::isUpperCase)
                    && text.chars().anyMatch(Character::isLowerCase);
            run.appendReplacement(result, keyLike ? "(not shown)" : Matcher.quoteReplacement(text));
        }
        run.appendTail(result);
        return result.toString();
    }

    private static String describe(ParameterException e) {
        CommandLine failed = e.getCommandLine();
        if (e instanceof UnmatchedArgumentException unmatched
                && !unmatched.getUnmatched().isEmpty()) {
            String first = unmatched.getUnmatched().get(0);
            if (OPTION_NAME.matcher(first).matches()) {
                return "unknown option '" + first + "'";
            }
            if (!failed.getSubcommands().isEmpty()
                    && !first.startsWith("-")
                    && failed.getParseResult() != null
                    && failed.getParseResult().subcommand() == null) {
                return unknownCommand(first, unmatched.getSuggestions(), failed);
            }
            return "unexpected argument (not repeated here, in case it is a key)";
        }
        if (e.getArgSpec() != null && e.getValue() != null && e.getCause() != null) {
            return invalidValue(e.getArgSpec(), e.getValue());
        }
        // picocli's phrases are capitalized ("Missing required parameter"); ours may start with FERNET_KEY
        String message = String.valueOf(e.getMessage());
        boolean capitalized = message.length() > 1
                && Character.isUpperCase(message.charAt(0))
                && Character.isLowerCase(message.charAt(1));
        return capitalized ? message.substring(0, 1).toLowerCase(Locale.ROOT) + message.substring(1) : message;
    }
}
