package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The half of issue 11's "one format" that the formatter does not check: code names a type by its simple name and
 * imports it, so a fully qualified name in code (outside imports, strings and comments) is a finding. Spotless checks
 * the rest of the format in {@code verify}.
 */
class QualifiedNamesIT {
    private static final Path ROOT = Path.of(System.getProperty("fernet.repo.root", ".."))
            .toAbsolutePath()
            .normalize();

    /** A package of ours, the JDK's or Bouncy Castle's, then a capitalised type name. */
    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w.\"])(?:java|javax|dev\\.fernetjca|org\\.bouncycastle)(?:\\.[a-z][a-z0-9]*)+\\.[A-Z]\\w*");

    @Test
    void codeNamesTypesByTheirImportedSimpleNames() throws IOException {
        List<Path> sources;
        try (Stream<Path> files = Files.walk(ROOT)) {
            sources = files.filter(path -> path.toString().endsWith(".java"))
                    .filter(path -> path.toString().contains("/src/"))
                    .filter(path -> !path.toString().contains("/target/"))
                    .filter(path -> !path.getFileName().toString().equals("module-info.java"))
                    .toList();
        }
        assertTrue(sources.size() > 100, "sources found under " + ROOT + ": " + sources.size());
        List<String> findings = new ArrayList<>();
        for (Path source : sources) {
            findings.addAll(qualifiedNames(source));
        }
        assertEquals(List.of(), findings, "import these types instead");
    }

    @Test
    void theCheckFindsAQualifiedNameAndIgnoresImportsStringsAndComments() throws IOException {
        Path source = Files.createTempFile("Sample", ".java");
        try {
            Files.writeString(
                    source,
                    String.join(
                            "\n",
                            "package x;",
                            "import java.util.List;",
                            "// java.util.Map in a comment",
                            "class Sample {",
                            "    String s = \"java.util.Set\";",
                            "    java.util.Map<String, String> m;",
                            "}"));
            List<String> findings = qualifiedNames(source);
            assertEquals(1, findings.size(), findings.toString());
            assertTrue(findings.get(0).endsWith(":6: java.util.Map"), findings.get(0));
        } finally {
            Files.delete(source);
        }
    }

    private static List<String> qualifiedNames(Path source) {
        List<String> lines;
        try {
            lines = Files.readAllLines(source, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> findings = new ArrayList<>();
        boolean inComment = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (inComment) {
                inComment = !line.contains("*/");
                continue;
            }
            if (line.startsWith("/*")) {
                inComment = !line.contains("*/");
                continue;
            }
            if (line.startsWith("import ") || line.startsWith("package ") || line.startsWith("//")) {
                continue;
            }
            String code = line.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"").replaceAll("//.*", "");
            Matcher matcher = QUALIFIED.matcher(code);
            while (matcher.find()) {
                findings.add(ROOT.relativize(source.toAbsolutePath()) + ":" + (i + 1) + ": " + matcher.group());
            }
        }
        return findings;
    }
}
