package dev.fernetjca.it;

import static dev.fernetjca.testing.KeyFiles.flag;
import static dev.fernetjca.testing.Relay.contains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import dev.fernetjca.it.FernetCli.TunnelProcess;
import dev.fernetjca.it.ldap.JndiClient;
import dev.fernetjca.testing.KeyFiles;
import dev.fernetjca.testing.Processes;
import dev.fernetjca.testing.Processes.Result;
import dev.fernetjca.testing.Relay;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An LDAP directory (UnboundID's in-memory server, plain LDAP on 127.0.0.1) behind {@code fernet tunnel --decrypt},
 * and JNDI reaching it with {@code java.naming.ldap.factory.socket=dev.fernetjca.net.FernetSocketFactory}, as
 * docs/guides/jndi-ldap.md sets it up.
 *
 * <p>The JNDI client runs in a child JVM ({@link JndiClient}) whose only fernet-jca configuration is
 * {@code -Dfernet.keyFile}: JNDI finds the factory through its static {@code getDefault()}, which reads the JVM's
 * configuration, and a child JVM keeps this one's system properties untouched.
 */
@Timeout(180)
class LdapIT {
    private static final String BASE = "dc=example,dc=com";
    private static final String BIND_DN = "uid=app,ou=services," + BASE;
    private static final String BIND_PASSWORD = "correct-horse-battery";

    private static InMemoryDirectoryServer directory;

    @TempDir
    Path dir;

    @BeforeAll
    static void startDirectory() throws Exception {
        InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig(BASE);
        config.setListenerConfigs(
                InMemoryListenerConfig.createLDAPConfig("plain", InetAddress.getLoopbackAddress(), 0, null));
        directory = new InMemoryDirectoryServer(config);
        directory.add("dn: " + BASE, "objectClass: top", "objectClass: domain", "dc: example");
        directory.add("dn: ou=people," + BASE, "objectClass: top", "objectClass: organizationalUnit", "ou: people");
        directory.add("dn: ou=services," + BASE, "objectClass: top", "objectClass: organizationalUnit", "ou: services");
        directory.add(
                "dn: " + BIND_DN,
                "objectClass: top",
                "objectClass: account",
                "objectClass: simpleSecurityObject",
                "uid: app",
                "userPassword: " + BIND_PASSWORD);
        for (String[] person :
                List.of(new String[] {"ada", "Ada Lovelace"}, new String[] {"alan", "Alan Turing"}, new String[] {
                    "grace", "Grace Hopper"
                })) {
            directory.add(
                    "dn: uid=" + person[0] + ",ou=people," + BASE,
                    "objectClass: top",
                    "objectClass: inetOrgPerson",
                    "uid: " + person[0],
                    "cn: " + person[1],
                    "sn: " + person[1].substring(person[1].indexOf(' ') + 1),
                    "mail: " + person[0] + "@example.com");
        }
        directory.startListening();
    }

    @AfterAll
    static void stopDirectory() {
        if (directory != null) {
            directory.shutDown(true);
        }
    }

    /** The provider URL of docs/guides/jndi-ldap.md. */
    private static String url(int port) {
        return "ldap://127.0.0.1:" + port + "/" + BASE;
    }

    private Result search(Path keyFile, int port, String password) throws Exception {
        return Processes.run(
                Processes.java(
                        System.getProperty("java.class.path"),
                        List.of(flag(keyFile)),
                        JndiClient.class,
                        url(port),
                        BIND_DN,
                        password,
                        "(objectClass=inetOrgPerson)"),
                new byte[0],
                Processes.CHILD_TIMEOUT);
    }

    private static List<String> failures(String stderr) {
        List<String> lines =
                stderr.lines().filter(line -> line.startsWith("failure: ")).collect(Collectors.toList());
        assertFalse(lines.isEmpty(), stderr);
        return lines;
    }

    @Test
    void bindAndSearchGoThroughTheTunnelAndNothingOfLdapCrossesTheWire() throws Exception {
        Path keyFile = KeyFiles.newKeyFile(dir, "fernet.key");
        try (TunnelProcess tunnel = TunnelProcess.decryptingTo(directory.getListenPort(), keyFile);
                Relay relay = Relay.to(tunnel.port())) {
            Result result = search(keyFile, relay.port(), BIND_PASSWORD);
            assertEquals(0, result.status(), result.stderr());
            assertEquals(
                    "uid=ada,ou=people,dc=example,dc=com | cn=Ada Lovelace | mail=ada@example.com\n"
                            + "uid=alan,ou=people,dc=example,dc=com | cn=Alan Turing | mail=alan@example.com\n"
                            + "uid=grace,ou=people,dc=example,dc=com | cn=Grace Hopper | mail=grace@example.com\n",
                    result.stdout());
            assertTrue(tunnel.connectionLine(1).endsWith("closed cleanly"), tunnel.connectionLine(1));

            assertEquals(1, relay.connections());
            byte[] request = relay.connection(0).upstream();
            byte[] response = relay.connection(0).downstream();
            assertEquals(0x16, request[0], "the client's first record is not a TLS handshake record");
            assertEquals(0x16, response[0], "the server's first record is not a TLS handshake record");
            for (String clear : List.of(
                    BIND_PASSWORD,
                    "uid=app",
                    "services",
                    "example",
                    "objectClass",
                    "inetOrgPerson",
                    "people",
                    "Lovelace",
                    "Turing",
                    "Hopper",
                    "mail")) {
                assertFalse(contains(request, clear), "the client sent " + clear + " in clear");
                assertFalse(contains(response, clear), "the server sent " + clear + " in clear");
            }
        }
    }

    @Test
    void clientWithAnotherKeyIsRefusedAndTheTunnelKeepsServing() throws Exception {
        Path serverKey = KeyFiles.newKeyFile(dir, "server.key");
        Path otherKey = KeyFiles.newKeyFile(dir, "other.key");
        try (TunnelProcess tunnel = TunnelProcess.decryptingTo(directory.getListenPort(), serverKey)) {
            Result stranger = search(otherKey, tunnel.port(), BIND_PASSWORD);
            assertEquals(1, stranger.status(), stranger.stdout());
            assertEquals("", stranger.stdout());
            List<String> chain = failures(stranger.stderr());
            assertTrue(chain.get(0).startsWith("failure: javax.naming.CommunicationException: "), stranger.stderr());
            assertTrue(
                    chain.stream()
                            .anyMatch(cause -> cause.startsWith("failure: javax.net.ssl.SSLHandshakeException: ")
                                    && cause.contains("does not hold a matching Fernet key")),
                    stranger.stderr());
            assertFalse(
                    stranger.stderr().contains(Files.readString(otherKey).trim()),
                    "the client's key is in its error output");
            assertTrue(tunnel.connectionLine(1).contains(" failed: "), tunnel.connectionLine(1));

            // the right key and a wrong password: the directory itself answers, through the tunnel
            Result wrongPassword = search(serverKey, tunnel.port(), "not-the-password");
            assertEquals(1, wrongPassword.status(), wrongPassword.stdout());
            assertTrue(
                    failures(wrongPassword.stderr())
                            .get(0)
                            .startsWith("failure: javax.naming.AuthenticationException: [LDAP: error code 49"),
                    wrongPassword.stderr());

            Result friend = search(serverKey, tunnel.port(), BIND_PASSWORD);
            assertEquals(0, friend.status(), friend.stderr());
            assertEquals(3, friend.stdout().lines().count(), friend.stdout());
            assertTrue(tunnel.connectionLine(3).endsWith("closed cleanly"), tunnel.connectionLine(3));
            assertTrue(tunnel.isAlive(), "the tunnel died");
        }
    }
}
