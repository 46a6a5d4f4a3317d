package dev.fernetjca.benchmarks;

import dev.fernetjca.net.FernetSocketFactory;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.Locale;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

/**
 * Splits a cold JVM's first encrypted connection into its phases, each timed on its own in the order a first
 * connection would pay them: JVM start to {@code main}, seeding a {@link SecureRandom}, creating the socket factory
 * (for ours: class loading and initialisation of the TLS stack, reading the key file and deriving the PSKs; for
 * JSSE: {@code SSLContext.getDefault()}, loading the key and trust stores), then the first connection (handshake, one
 * byte each way) and a second one. Run it against a {@link BenchServer} of the same kind in another JVM:
 *
 * <pre>java -Dfernet.keyFile=KEY -cp benchmarks.jar dev.fernetjca.benchmarks.ColdStart fernet-tls PORT</pre>
 *
 * <p>Runs as a process of its own; one line of output.
 */
public final class ColdStart {
    private ColdStart() {}

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        int port = Integer.parseInt(args[1]);
        long mainAt = System.currentTimeMillis();
        double jvmMillis = mainAt - ManagementFactory.getRuntimeMXBean().getStartTime();
        long start = System.nanoTime();
        new SecureRandom().nextBytes(new byte[32]);
        double randomMillis = millisSince(start);
        String split = "";
        if (args.length > 2 && args[2].equals("split")) {
            split = split();
        }
        start = System.nanoTime();
        SocketFactory factory =
                kind.startsWith("jsse") ? SSLContext.getDefault().getSocketFactory() : FernetSocketFactory.getDefault();
        double factoryMillis = millisSince(start);
        start = System.nanoTime();
        connectOnce(kind, port);
        double firstMillis = millisSince(start);
        start = System.nanoTime();
        connectOnce(kind, port);
        double secondMillis = millisSince(start);
        System.out.printf(
                Locale.ROOT,
                "%s jvm-to-main %.0f ms, SecureRandom %.1f ms, factory %.1f ms, "
                        + "first connection %.1f ms, second %.1f ms%s%n",
                kind,
                jvmMillis,
                randomMillis,
                factoryMillis,
                firstMillis,
                secondMillis,
                split);
    }

    /**
     * With {@code split}, pays before the factory what its creation would: Bouncy Castle's TLS classes, its JCA
     * provider (which the factory builds for ChaCha20-Poly1305) and its JCA-backed TLS crypto; the factory's own time
     * is then our settings, the key file and the PSK derivation.
     */
    private static String split() throws Exception {
        long start = System.nanoTime();
        Class.forName("org.bouncycastle.tls.TlsClientProtocol", true, ColdStart.class.getClassLoader());
        Class.forName("org.bouncycastle.tls.TlsUtils", true, ColdStart.class.getClassLoader());
        double tlsClasses = millisSince(start);
        start = System.nanoTime();
        new BouncyCastleProvider();
        double provider = millisSince(start);
        start = System.nanoTime();
        new JcaTlsCryptoProvider().create(new SecureRandom());
        double crypto = millisSince(start);
        return String.format(
                Locale.ROOT,
                "; before the factory: BC TLS classes %.1f ms, new BouncyCastleProvider() "
                        + "%.1f ms, JcaTlsCrypto %.1f ms",
                tlsClasses,
                provider,
                crypto);
    }

    private static void connectOnce(String kind, int port) throws Exception {
        Socket socket = Sockets.connect(kind, port);
        try {
            socket.getOutputStream().write('C');
            socket.getOutputStream().flush();
            if (socket.getInputStream().read() < 0) {
                throw new IllegalStateException("the server closed the connection early");
            }
        } finally {
            Sockets.close(kind, socket);
        }
    }

    private static double millisSince(long start) {
        return (System.nanoTime() - start) / 1e6;
    }
}
