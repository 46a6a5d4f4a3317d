package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compiles every Java block of README.md and docs/ against the project's jars, so that a snippet a newcomer copies
 * compiles as written. A block that is a whole compilation unit (it declares a type) compiles as it is; any other is
 * the body of a method in a class that imports what the docs use throughout and holds, as fields, the variables the
 * prose around the snippets defines ({@code key}, {@code port}, {@code password}, ...). An ellipsis standing for the
 * reader's own code ({@code ...}) is left out. A block preceded by {@code <!-- snippet: not compiled, REASON -->}
 * is skipped, and the reason is printed.
 */
class DocSnippetsIT {
    private static final Path ROOT = Path.of(System.getProperty("fernet.repo.root", ".."))
            .toAbsolutePath()
            .normalize();
    private static final Pattern BLOCK =
            Pattern.compile("(?:<!-- snippet: ([^>]*) -->\\s*\\n)?```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern IMPORT = Pattern.compile("^import [^;]+;\\s*$", Pattern.MULTILINE);
    private static final Pattern DECLARES_TYPE =
            Pattern.compile("^(public )?(final )?(class|interface|record|enum) ", Pattern.MULTILINE);

    private static final String IMPORTS = String.join(
            "\n",
            "import static java.nio.charset.StandardCharsets.US_ASCII;",
            "import static java.nio.charset.StandardCharsets.UTF_8;",
            "import dev.fernetjca.net.*;",
            "import dev.fernetjca.provider.*;",
            "import java.io.*;",
            "import java.net.*;",
            "import java.nio.file.*;",
            "import java.rmi.*;",
            "import java.rmi.registry.*;",
            "import java.rmi.server.*;",
            "import java.security.*;",
            "import java.time.*;",
            "import java.util.*;",
            "import javax.crypto.*;",
            "import javax.crypto.spec.*;",
            "import javax.naming.*;",
            "import javax.naming.directory.*;",
            "import javax.net.*;",
            "");

    /** What the prose around the snippets names and the snippets use without declaring. */
    private static final String CONTEXT = String.join(
            "\n",
            "    interface Greeter extends Remote { String greet(String name) throws RemoteException; }",
            "    SecretKey key;",
            "    String keyString;",
            "    char[] password;",
            "    String host;",
            "    int port;",
            "    Socket socket;",
            "    InputStream in;",
            "    OutputStream out;",
            "    Remote greeter;",
            "    Remote stub;",
            "    RMIClientSocketFactory csf;",
            "    RMIServerSocketFactory ssf;",
            "");

    record Snippet(String file, int line, String skipReason, String code) {
        @Override
        public String toString() {
            return file + ":" + line;
        }
    }

    static Stream<Snippet> snippets() throws IOException {
        List<Path> pages = new ArrayList<>();
        pages.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<Snippet> found = new ArrayList<>();
        for (Path page : pages) {
            String text = Files.readString(page);
            Matcher block = BLOCK.matcher(text);
            while (block.find()) {
                int line = (int) text.substring(0, block.start(2)).lines().count();
                found.add(new Snippet(ROOT.relativize(page).toString(), line, block.group(1), block.group(2)));
            }
        }
        assertFalse(found.isEmpty(), "no ```java block found under " + ROOT);
        return found.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("snippets")
    void compilesAsWritten(Snippet snippet) {
        if (snippet.skipReason() != null) {
            assertFalse(snippet.skipReason().isBlank(), "a skipped snippet says why");
            System.out.println(snippet + " not compiled: " + snippet.skipReason());
            return;
        }
        String source;
        String className;
        if (DECLARES_TYPE.matcher(snippet.code()).find()) {
            source = snippet.code();
            Matcher name =
                    Pattern.compile("(class|interface|record|enum) (\\w+)").matcher(source);
            assertTrue(name.find(), "no type name in " + snippet);
            className = name.group(2);
        } else {
            className = "Snippet";
            Matcher imports = IMPORT.matcher(snippet.code());
            StringBuilder ownImports = new StringBuilder();
            while (imports.find()) {
                ownImports.append(imports.group()).append('\n');
            }
            String body = IMPORT.matcher(snippet.code())
                    .replaceAll("")
                    .replace("{ ... }", "{ }")
                    .replaceAll("(?m)^\\s*\\.\\.\\.\\s*$", "");
            source = IMPORTS + ownImports + "\nclass Snippet {\n" + CONTEXT + "    void run() throws Exception {\n"
                    + body + "\n    }\n}\n";
        }
        String errors = compile(className, source);
        assertEquals("", errors, snippet + " does not compile:\n" + source);
    }

    /** Compiles one source file in memory against this test's class path; returns the errors, or "" if none. */
    private static String compile(String className, String source) {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertNotNull(compiler, "tests need a JDK, not a JRE");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        JavaFileObject file =
                new SimpleJavaFileObject(URI.create("string:///" + className + ".java"), JavaFileObject.Kind.SOURCE) {
                    @Override
                    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                        return source;
                    }
                };
        try (StandardJavaFileManager files = compiler.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
            Path output = Files.createTempDirectory("snippet");
            List<String> options =
                    List.of("-proc:none", "-d", output.toString(), "-classpath", System.getProperty("java.class.path"));
            StringWriter messages = new StringWriter();
            boolean ok = compiler.getTask(messages, files, diagnostics, options, null, List.of(file))
                    .call();
            StringBuilder errors = new StringBuilder();
            diagnostics.getDiagnostics().stream()
                    .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                    .forEach(d -> errors.append("line ")
                            .append(d.getLineNumber())
                            .append(": ")
                            .append(d.getMessage(Locale.ROOT))
                            .append('\n'));
            return ok ? "" : errors.length() > 0 ? errors.toString() : messages.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
