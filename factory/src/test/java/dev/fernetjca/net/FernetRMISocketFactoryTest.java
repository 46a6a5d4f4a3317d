package dev.fernetjca.net;

import static dev.fernetjca.net.SocketTestSupport.LOOPBACK;
import static dev.fernetjca.net.SocketTestSupport.newKey;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fernetjca.testing.EchoServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.Security;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The RMI factories: the client factory travels in stubs, so its serialized form must hold nothing of the keys of the
 * JVM that wrote it, and RMI's connection and port sharing rely on their equality.
 */
@Timeout(60)
class FernetRMISocketFactoryTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(10);

    private SecretKey key;
    private String keyString;
    private String savedKeyProperty;

    @BeforeEach
    void configureKey() {
        // the system property is consulted only when no key file is configured: a developer's FERNET_KEY_FILE would win
        assumeTrue(
                System.getProperty(KeySource.KEY_FILE) == null
                        && Security.getProperty(KeySource.KEY_FILE) == null
                        && System.getenv(KeySource.KEY_FILE_VARIABLE) == null,
                "a key file is configured for this JVM");
        key = newKey();
        byte[] raw = key.getEncoded();
        keyString = Base64.getUrlEncoder().encodeToString(raw);
        savedKeyProperty = System.getProperty(KeySource.KEY);
        System.setProperty(KeySource.KEY, keyString);
    }

    @AfterEach
    void restoreKeyProperty() {
        if (savedKeyProperty == null) {
            System.clearProperty(KeySource.KEY);
        } else {
            System.setProperty(KeySource.KEY, savedKeyProperty);
        }
    }

    @Test
    void serializedClientFactoryHoldsNoKeyMaterial() throws Exception {
        FernetRMIClientSocketFactory factory = new FernetRMIClientSocketFactory();
        // use it first, so that the factory has read the configured keys before it is written
        try (EchoServer echo = new EchoServer(SocketTestSupport.serverFactory(key, HANDSHAKE)::createServerSocket)) {
            assertEchoes(factory, echo.port());
        }
        byte[] serialized = serialize(factory);

        byte[] raw = key.getEncoded();
        assertFalse(contains(serialized, raw), "serialized form holds the key bytes");
        assertFalse(contains(serialized, Arrays.copyOfRange(raw, 0, 16)), "holds the signing key");
        assertFalse(contains(serialized, Arrays.copyOfRange(raw, 16, 32)), "holds the encryption key");
        assertFalse(contains(serialized, keyString.getBytes(US_ASCII)), "serialized form holds the key string");
        for (String line : FernetSocketFactory.externalPsks(key)) {
            String[] identityAndSecret = line.split(" ");
            byte[] secret = HexFormat.of().parseHex(identityAndSecret[1]);
            assertFalse(contains(serialized, secret), "serialized form holds the PSK");
            assertFalse(contains(serialized, identityAndSecret[0].getBytes(US_ASCII)), "holds the PSK identity");
            assertFalse(contains(serialized, identityAndSecret[1].getBytes(US_ASCII)), "holds the PSK in hex");
        }
        String text = new String(serialized, US_ASCII);
        assertFalse(text.contains("FernetSocketFactory;"), "serialized form names the transient socket factory");
        assertFalse(text.contains("Settings"), "serialized form holds the settings");
        assertFalse(factory.toString().contains(keyString), factory.toString());
    }

    @Test
    void deserializedClientFactoryUsesTheKeysOfTheJvmThatReadsIt() throws Exception {
        byte[] serialized = serialize(new FernetRMIClientSocketFactory());
        FernetRMIClientSocketFactory copy = (FernetRMIClientSocketFactory) deserialize(serialized);
        try (EchoServer echo = new EchoServer(SocketTestSupport.serverFactory(key, HANDSHAKE)::createServerSocket)) {
            assertEchoes(copy, echo.port());
        }

        // another JVM, another key: the copy read later does not carry the first key
        SecretKey otherKey = newKey();
        System.setProperty(KeySource.KEY, Base64.getUrlEncoder().encodeToString(otherKey.getEncoded()));
        FernetRMIClientSocketFactory elsewhere = (FernetRMIClientSocketFactory) deserialize(serialized);
        try (EchoServer echo =
                new EchoServer(SocketTestSupport.serverFactory(otherKey, HANDSHAKE)::createServerSocket)) {
            assertEchoes(elsewhere, echo.port());
        }
    }

    @Test
    void clientFactoryWithoutKeysFailsOnUseWithAnIOException() throws Exception {
        assumeTrue(
                Security.getProperty(KeySource.KEY) == null
                        && Security.getProperty(KeySource.KEY_STORE) == null
                        && System.getenv(KeySource.KEY_VARIABLE) == null
                        && System.getenv(KeySource.KEY_STORE_VARIABLE) == null
                        && System.getProperty(KeySource.KEY_STORE) == null,
                "keys are configured outside this test");
        System.clearProperty(KeySource.KEY);
        FernetRMIClientSocketFactory factory = new FernetRMIClientSocketFactory(); // no keys needed to create it
        try (ServerSocket server = new ServerSocket(0, 50, LOOPBACK)) {
            IOException e = assertThrows(
                    IOException.class, () -> factory.createSocket(LOOPBACK.getHostAddress(), server.getLocalPort()));
            assertTrue(e.getMessage().startsWith("no Fernet keys configured"), e.getMessage());
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertThrows(IllegalStateException.class, FernetRMIServerSocketFactory::new);
        }
    }

    @Test
    void serverFactoryServesTheConfiguredKeys() throws Exception {
        FernetRMIServerSocketFactory factory = new FernetRMIServerSocketFactory();
        try (ServerSocket server = factory.createServerSocket(0)) {
            assertTrue(server.isBound());
            Thread echo = new Thread(() -> {
                try (Socket accepted = server.accept()) {
                    byte[] line = accepted.getInputStream().readNBytes(5);
                    accepted.getOutputStream().write(line);
                    accepted.shutdownOutput();
                } catch (IOException e) {
                    // the client's assertion reports it
                }
            });
            echo.start();
            try (Socket socket =
                    SocketTestSupport.clientFactory(key, HANDSHAKE).createSocket(LOOPBACK, server.getLocalPort())) {
                socket.getOutputStream().write("hello".getBytes(UTF_8));
                assertArrayEquals(
                        "hello".getBytes(UTF_8), socket.getInputStream().readAllBytes());
            }
            echo.join(10_000);
        }
        assertFalse(factory.toString().contains(keyString), factory.toString());
    }

    @Test
    void allInstancesOfAFactoryClassAreEqual() throws Exception {
        FernetRMIClientSocketFactory client = new FernetRMIClientSocketFactory();
        FernetRMIClientSocketFactory copy = (FernetRMIClientSocketFactory) deserialize(serialize(client));
        List<Object> clients = List.of(client, new FernetRMIClientSocketFactory(), copy);
        for (Object a : clients) {
            for (Object b : clients) {
                assertEquals(a, b);
                assertEquals(a.hashCode(), b.hashCode());
            }
        }
        FernetRMIServerSocketFactory server = new FernetRMIServerSocketFactory();
        assertEquals(server, new FernetRMIServerSocketFactory());
        assertEquals(server.hashCode(), new FernetRMIServerSocketFactory().hashCode());

        assertNotEquals(client, server);
        assertNotEquals(server, client);
        assertNotEquals(client, null);
        assertNotEquals(server, null);
        assertNotEquals(client, new Object());
    }

    @Test
    void hashCodesDoNotDependOnTheKey() {
        int client = new FernetRMIClientSocketFactory().hashCode();
        int server = new FernetRMIServerSocketFactory().hashCode();
        System.setProperty(KeySource.KEY, Base64.getUrlEncoder().encodeToString(newKey().getEncoded()));
        assertEquals(client, new FernetRMIClientSocketFactory().hashCode());
        assertEquals(server, new FernetRMIServerSocketFactory().hashCode());
    }

    @Test
    void clientFactorySerializesNoFields() throws Exception {
        // a stream that claims fields for the class cannot set any: ObjectInputStream skips fields the class lacks
        byte[] serialized = serialize(new FernetRMIClientSocketFactory());
        FernetRMIClientSocketFactory copy = (FernetRMIClientSocketFactory) deserialize(serialized);
        assertEquals(new FernetRMIClientSocketFactory(), copy);
        assertEquals(
                0,
                ObjectStreamClass.lookup(FernetRMIClientSocketFactory.class).getFields().length,
                "the serialized form has fields");
    }

    private static void assertEchoes(FernetRMIClientSocketFactory factory, int port) throws IOException {
        try (Socket socket = factory.createSocket(LOOPBACK.getHostAddress(), port)) {
            socket.getOutputStream().write("ping".getBytes(UTF_8));
            socket.shutdownOutput();
            assertArrayEquals("ping".getBytes(UTF_8), socket.getInputStream().readAllBytes());
        }
    }

    private static byte[] serialize(Object object) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(object);
        }
        return bytes.toByteArray();
    }

    private static Object deserialize(byte[] serialized) throws IOException, ClassNotFoundException {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(serialized))) {
            return in.readObject();
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
