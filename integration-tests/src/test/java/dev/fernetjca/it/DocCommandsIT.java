package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.fernetjca.testing.ExternalTools;
import dev.fernetjca.testing.Processes;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the shell blocks of README.md and docs/ that are marked as runnable, the way a newcomer runs them: one bash
 * session per page, the page's runnable blocks in order, in a scratch directory laid out like a built checkout.
 *
 * <p>The convention, in the Markdown (the comment is invisible once rendered):
 *
 * <ul>
 *   <li>{@code <!-- runnable -->} on the line before a {@code ```sh} block runs it; a command that fails fails the
 *       page ({@code set -eu}: an undefined variable is a doc bug too).
 *   <li>Before a {@code ```text} block, the lines starting with {@code $ } are commands (a line ending in {@code \}
 *       continues) and the lines after each are its expected standard output: {@code <...>} stands for any text
 *       within a line, a line {@code ...} for any lines.
 *   <li>Options after a colon, space-separated: {@code needs=openssl,python3,curl} (a missing tool skips the page
 *       with the reason, or fails it under {@code CI=true}, as {@link ExternalTools} does); {@code ports=7000,7443}
 *       (those port numbers, wherever they appear in the page's runnable blocks, become free ports, so that tests
 *       running at once do not collide).
 * </ul>
 *
 * <p>The scratch directory holds links to the checkout's {@code bin}, {@code cli}, {@code factory}, {@code provider},
 * {@code docs} and {@code integration-tests}, and {@code fernet} (bin/fernet) on the {@code PATH}, as docs/cli.md's
 * alias gives it. {@code ./mvnw} there is a stand-in ({@code doc-commands/mvnw}): this test runs inside the build that
 * made the jars. Background processes a page starts ({@code &}) are stopped when the page ends.
 */
@Timeout(300)
class DocCommandsIT {
    private static final Path ROOT = Path.of(System.getProperty("fernet.repo.root", ".."))
            .toAbsolutePath()
            .normalize();
    private static final Pattern BLOCK = Pattern.compile(
            "^<!-- runnable(?:: ([^>]*))? -->[ \\t]*\\n```(sh|text)\\n(.*?)```", Pattern.DOTALL | Pattern.MULTILINE);
    /** A marker at the start of a line; one in the middle of a line is prose about markers. */
    private static final Pattern MARKER = Pattern.compile("^<!-- runnable", Pattern.MULTILINE);

    private static final Pattern PLACEHOLDER = Pattern.compile("<[^<>]+>");
    private static final List<String> CHECKOUT =
            List.of("bin", "cli", "factory", "provider", "docs", "integration-tests");
    /** Generous for a loaded machine; a page takes a few seconds on a quiet one. */
    private static final Duration PAGE_TIMEOUT = Duration.ofSeconds(150);

    @TempDir
    Path scratch;

    /** One runnable block: where it is, its options, and its code; for a text block, its commands and outputs. */
    record Block(String file, int line, String language, Map<String, List<String>> options, String code) {
        List<String> option(String name) {
            return options.getOrDefault(name, List.of());
        }

        @Override
        public String toString() {
            return file + ":" + line;
        }
    }

    /** The runnable blocks of one page, in order. */
    record Page(String file, List<Block> blocks) {
        @Override
        public String toString() {
            return file;
        }
    }

    static Stream<Page> pages() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<Page> pages = new ArrayList<>();
        for (Path file : files) {
            String text = Files.readString(file);
            String name = ROOT.relativize(file).toString();
            List<Block> blocks = new ArrayList<>();
            Matcher block = BLOCK.matcher(text);
            while (block.find()) {
                int line = (int) text.substring(0, block.start(3)).lines().count();
                blocks.add(new Block(name, line, block.group(2), options(block.group(1)), block.group(3)));
            }
            int markers = (int) MARKER.matcher(text).results().count();
            assertEquals(
                    markers, blocks.size(), name + ": a runnable marker not right before a ```sh or ```text block");
            if (!blocks.isEmpty()) {
                pages.add(new Page(name, blocks));
            }
        }
        assertFalse(pages.isEmpty(), "no <!-- runnable --> block under " + ROOT);
        return pages.stream();
    }

    private static Map<String, List<String>> options(String text) {
        Map<String, List<String>> options = new LinkedHashMap<>();
        if (text != null) {
            for (String option : text.trim().split("\\s+")) {
                String[] nameAndValues = option.split("=", 2);
                assertEquals(2, nameAndValues.length, "a runnable option is NAME=VALUE,...: " + option);
                assertTrue(
                        Set.of("needs", "ports").contains(nameAndValues[0]),
                        "unknown runnable option " + nameAndValues[0]);
                options.put(nameAndValues[0], List.of(nameAndValues[1].split(",")));
            }
        }
        return options;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pages")
    void runsAsWritten(Page page) throws Exception {
        Path bash = ExternalTools.require("bash");
        Path path = prepareScratch(page);
        Map<String, String> ports = new LinkedHashMap<>();
        for (Block block : page.blocks()) {
            for (String port : block.option("ports")) {
                String free;
                do {
                    free = String.valueOf(Processes.freePort());
                } while (ports.containsValue(free)); // the kernel may hand out a port it just freed again
                ports.putIfAbsent(port, free);
            }
        }

        List<Expectation> expectations = new ArrayList<>();
        String script = script(page, ports, expectations);
        Path scriptFile = Files.writeString(scratch.resolve(".doc-script.sh"), script);

        ProcessBuilder session = Processes.scrub(new ProcessBuilder(bash.toString(), scriptFile.toString()))
                .directory(scratch.toFile());
        session.environment().put("PATH", path + File.pathSeparator + System.getenv("PATH"));
        session.environment().put("JAVA_HOME", System.getProperty("java.home"));
        session.environment().put("DOC_REPO_ROOT", ROOT.toString());
        session.environment().put("DOC_FACTORY_RUNTIME", factoryRuntimeJars());
        long start = System.nanoTime();
        Processes.Result result = Processes.run(session, new byte[0], PAGE_TIMEOUT);
        String where = Files.readString(scratch.resolve(".doc-block")).trim();
        System.out.printf(
                "%s: %d runnable blocks in %d ms%n",
                page,
                page.blocks().size(),
                Duration.ofNanos(System.nanoTime() - start).toMillis());
        assertEquals(
                0,
                result.status(),
                "the block at " + where + " failed (status " + result.status() + ")\nstdout:\n" + result.stdout()
                        + "\nstderr:\n" + result.stderr());
        for (Expectation expectation : expectations) {
            String actual = Files.readString(expectation.output());
            assertTrue(
                    matches(expectation.expected(), actual),
                    expectation.block() + ": `" + expectation.command() + "` printed\n" + actual
                            + "\ninstead of what the page shows:\n" + String.join("\n", expectation.expected()));
        }
    }

    /**
     * Returns the page's runnable blocks as one bash script; adds to {@code expectations} each command of a text block,
     * whose output the script writes to a file of its own.
     */
    private String script(Page page, Map<String, String> ports, List<Expectation> expectations) {
        StringBuilder script = new StringBuilder();
        script.append("set -eu\nshopt -s expand_aliases\n");
        // a newcomer stops what they started; the test does it for them, also when a command fails
        script.append("trap 'status=$?; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; exit $status'"
                + " EXIT\n");
        for (Block block : page.blocks()) {
            script.append("echo ").append(quote(block.toString())).append(" > .doc-block\n");
            String code = withPorts(block.code(), ports);
            if (block.language().equals("sh")) {
                script.append(code).append('\n');
                continue;
            }
            for (Expectation expectation : commands(block, code)) {
                Path output = scratch.resolve(".doc-output-" + expectations.size());
                script.append("{\n")
                        .append(expectation.command())
                        .append("\n} > ")
                        .append(quote(output.toString()))
                        .append('\n');
                expectations.add(expectation.withOutput(output));
            }
        }
        return script.append("echo done > .doc-block\n").toString();
    }

    /** One command of a text block and the output the page shows for it. */
    record Expectation(Block block, String command, List<String> expected, Path output) {
        Expectation withOutput(Path file) {
            return new Expectation(block, command, expected, file);
        }
    }

    private static List<Expectation> commands(Block block, String code) {
        List<Expectation> found = new ArrayList<>();
        List<String> lines = code.lines().collect(Collectors.toList());
        int i = 0;
        assertTrue(!lines.isEmpty() && lines.get(0).startsWith("$ "), block + ": a runnable text block starts with $");
        while (i < lines.size()) {
            StringBuilder command = new StringBuilder(lines.get(i).substring(2));
            while (lines.get(i).endsWith("\\") && i + 1 < lines.size()) {
                command.append('\n').append(lines.get(++i));
            }
            i++;
            List<String> expected = new ArrayList<>();
            while (i < lines.size() && !lines.get(i).startsWith("$ ")) {
                expected.add(lines.get(i++));
            }
            found.add(new Expectation(block, command.toString(), expected, null));
        }
        return found;
    }

    /** Whether {@code actual} is {@code expected}, line by line, with placeholders and {@code ...} lines. */
    static boolean matches(List<String> expected, String actual) {
        StringBuilder regex = new StringBuilder();
        int shown = expected.size();
        while (shown > 0 && expected.get(shown - 1).isBlank()) {
            shown--;
        }
        for (String line : expected.subList(0, shown)) {
            if (line.strip().equals("...")) {
                regex.append("(?:.*\\n)*?");
                continue;
            }
            Matcher placeholder = PLACEHOLDER.matcher(line.stripTrailing());
            int from = 0;
            while (placeholder.find()) {
                regex.append(Pattern.quote(line.substring(from, placeholder.start())))
                        .append(".+?");
                from = placeholder.end();
            }
            regex.append(Pattern.quote(line.stripTrailing().substring(from))).append("[ \\t\\r]*\\n");
        }
        // blank lines at the end are not shown in a page
        String normalized = actual.isBlank() ? "" : actual.stripTrailing() + "\n";
        // UNIX_LINES: only \n ends a line, so that an elided line may end in \r\n
        return Pattern.compile(regex.toString(), Pattern.UNIX_LINES)
                .matcher(normalized)
                .matches();
    }

    @Test
    void theMatcherTakesPlaceholdersAndElisionsAndNothingElse() {
        List<String> shown = List.of("token: gAAAAAB<rest of the token>", "...", "done on <port>");
        assertTrue(matches(shown, "token: gAAAAABxyz\nline\nother line\ndone on 4433\n"));
        assertTrue(matches(shown, "token: gAAAAABxyz\ndone on 4433"));
        assertTrue(matches(shown, "token: gAAAAABxyz\ndone on 4433\n\n"), "blank lines at the end");
        assertFalse(matches(shown, "token: gAAAAAB\ndone on 4433\n"), "a placeholder stands for some text");
        assertFalse(matches(shown, "token: gAAAAABxyz\ndone on\n"));
        assertFalse(matches(shown, "token: gAAAAABxyz\ndone on 4433\nmore\n"), "output beyond what is shown");
        assertFalse(matches(List.of("a.b"), "axb\n"), "the shown text is literal");
        assertTrue(matches(List.of("HTTP/1.0 200 OK"), "HTTP/1.0 200 OK\r\n"), "a line's own end, \\r\\n");
        assertTrue(matches(List.of("a", "...", "b"), "a\r\nx: y\r\n\r\nb\n"), "elided lines ending in \\r\\n");
    }

    @Test
    void readmeTestCommandIsWhatCiRuns() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher block = Pattern.compile("Run the tests\\..*?```sh\\n(.*?)\\n```", Pattern.DOTALL)
                .matcher(readme);
        assertTrue(block.find(), "README.md has no test command after \"Run the tests.\"");
        String command = block.group(1).trim();
        List<String> ciLines = Files.readAllLines(ROOT.resolve(".ci/run"));
        int marker = ciLines.indexOf("# The test command, exactly as README.md gives it.");
        assertTrue(marker >= 0, ".ci/run lost its comment naming README's test command");
        assertEquals(command, ciLines.get(marker + 1).trim(), ".ci/run does not run README.md's test command");
    }

    /** Removes the links into the checkout, so that JUnit's clean-up finds none (it warns about each). */
    @AfterEach
    void unlinkCheckout() throws IOException {
        for (String name : CHECKOUT) {
            Files.deleteIfExists(scratch.resolve(name));
        }
        Files.deleteIfExists(scratch.resolve(".path/fernet"));
        Files.deleteIfExists(scratch.resolve(".path/python3"));
    }

    /** Lays out the scratch checkout; returns the directory to put first on the PATH. */
    private Path prepareScratch(Page page) throws IOException, InterruptedException {
        for (String name : CHECKOUT) {
            Files.createSymbolicLink(scratch.resolve(name), ROOT.resolve(name));
        }
        Path mvnw = scratch.resolve("mvnw");
        try (InputStream standIn = DocCommandsIT.class.getResourceAsStream("/doc-commands/mvnw")) {
            Files.copy(standIn, mvnw);
        }
        Files.setPosixFilePermissions(mvnw, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path path = Files.createDirectory(scratch.resolve(".path"));
        Files.createSymbolicLink(path.resolve("fernet"), ROOT.resolve("bin/fernet"));
        Set<String> needs = new LinkedHashSet<>();
        page.blocks().forEach(block -> needs.addAll(block.option("needs")));
        for (String tool : needs) {
            switch (tool) {
                case "openssl" -> ExternalTools.openssl();
                case "python3" -> {
                    // the first Python with cryptography, as python3: the one every page's python3 then runs
                    ExternalTools.Python python =
                            ExternalTools.requirePython(ExternalTools.pythons().get(0));
                    Files.createSymbolicLink(path.resolve("python3"), python.executable());
                }
                default -> ExternalTools.require(tool);
            }
        }
        return path;
    }

    /** The jars the factory needs at run time, as the agent jar's manifest names them, from this test's class path. */
    private static String factoryRuntimeJars() throws IOException {
        Path agentJar = Path.of(System.getProperty("fernet.factory.jar"));
        List<String> wanted;
        try (JarFile jar = new JarFile(agentJar.toFile())) {
            wanted = List.of(jar.getManifest()
                    .getMainAttributes()
                    .getValue("Class-Path")
                    .trim()
                    .split(" +"));
        }
        List<String> found = new ArrayList<>();
        List<Path> classPath = Arrays.stream(
                        System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of)
                .toList();
        for (String name : wanted) {
            found.add(classPath.stream()
                    .filter(p -> p.getFileName().toString().equals(name))
                    .findFirst()
                    .orElseGet(() -> fail(name + " is not on the test class path"))
                    .toString());
        }
        return String.join(File.pathSeparator, found);
    }

    private static String withPorts(String code, Map<String, String> ports) {
        String result = code;
        for (Map.Entry<String, String> port : ports.entrySet()) {
            result = result.replaceAll("\\b" + port.getKey() + "\\b", port.getValue());
        }
        return result;
    }

    private static String quote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }
}
