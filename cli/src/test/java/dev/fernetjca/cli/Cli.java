package dev.fernetjca.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Runs {@code fernet} in-process, as {@code main} would, with captured streams. */
final class Cli {
    private Cli() {}

    record Result(int status, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    static Result run(Map<String, String> env, InputStream stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, stdin, new PrintStream(out, true), new PrintStream(err, true), env);
        return new Result(status, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    static Result run(Map<String, String> env, byte[] stdin, String... args) {
        return run(env, new ByteArrayInputStream(stdin), args);
    }

    static Result run(String... args) {
        return run(Map.of(), new byte[0], args);
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
