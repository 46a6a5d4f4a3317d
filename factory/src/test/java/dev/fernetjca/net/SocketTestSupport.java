package dev.fernetjca.net;

import dev.fernetjca.provider.FernetProvider;
import java.net.InetAddress;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/** Keys and factories for the socket tests; the echo server is {@code dev.fernetjca.testing.EchoServer}. */
final class SocketTestSupport {
    static final FernetProvider PROVIDER = new FernetProvider();
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private SocketTestSupport() {}

    static SecretKey newKey() {
        try {
            return KeyGenerator.getInstance("Fernet", PROVIDER).generateKey();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static FernetSocketFactory clientFactory(SecretKey key, Duration handshakeTimeout) {
        return new FernetSocketFactory(Settings.of(key, handshakeTimeout));
    }

    static FernetServerSocketFactory serverFactory(SecretKey key, Duration handshakeTimeout) {
        return new FernetServerSocketFactory(Settings.of(key, handshakeTimeout));
    }
}
