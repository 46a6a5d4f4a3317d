package dev.fernetjca.benchmarks;

import dev.fernetjca.provider.FernetProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.KeyGenerator;

/**
 * The keys of one comparison, made fresh in a private temporary directory: a Fernet key file, a self-signed EC
 * P-256 certificate in a PKCS12 key store (and a trust store holding its certificate), a stunnel PSK file and an
 * spiped key file, and the settings that hand them to each contender. They protect nothing but benchmark bytes.
 *
 * <p>The files are written once, by {@link #make}; safe to share after that.
 */
record Keys(Path directory, byte[] raw) {
    private static final String PASSWORD = "benchmark";

    static Keys make(Path directory) throws Exception {
        Keys keys = new Keys(directory, new byte[32]);
        new SecureRandom().nextBytes(keys.raw);
        String fernetKey = Base64.getUrlEncoder()
                .encodeToString(KeyGenerator.getInstance("Fernet", new FernetProvider())
                        .generateKey()
                        .getEncoded());
        writePrivate(keys.fernetKeyFile(), fernetKey + "\n");
        writePrivate(directory.resolve("stunnel.psk"), "bench:" + HexFormat.of().formatHex(keys.raw) + "\n");
        Files.write(keys.spipedKeyFile(), keys.raw);
        Path keyStore = directory.resolve("server.p12");
        keytool(
                "-genkeypair",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-sigalg",
                "SHA256withECDSA",
                "-alias",
                "server",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=dns:localhost,ip:127.0.0.1",
                "-validity",
                "2",
                "-keystore",
                keyStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD,
                "-keypass",
                PASSWORD);
        Path certificate = directory.resolve("server.cer");
        keytool(
                "-exportcert",
                "-alias",
                "server",
                "-keystore",
                keyStore.toString(),
                "-storepass",
                PASSWORD,
                "-file",
                certificate.toString());
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "server",
                "-file",
                certificate.toString(),
                "-keystore",
                directory.resolve("trust.p12").toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD);
        return keys;
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (process.waitFor() != 0) {
            throw new IOException("keytool " + args[0] + " failed");
        }
    }

    private static void writePrivate(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    Path fernetKeyFile() {
        return directory.resolve("fernet.key");
    }

    Path spipedKeyFile() {
        return directory.resolve("spiped.key");
    }

    String opensslKeyHex() {
        return HexFormat.of().formatHex(raw, 0, 16);
    }

    String opensslIvHex() {
        return HexFormat.of().formatHex(raw, 16, 32);
    }

    List<String> jsseProperties() {
        return List.of(
                "-Djavax.net.ssl.keyStore=" + directory.resolve("server.p12"),
                "-Djavax.net.ssl.keyStorePassword=" + PASSWORD,
                "-Djavax.net.ssl.keyStoreType=PKCS12",
                "-Djavax.net.ssl.trustStore=" + directory.resolve("trust.p12"),
                "-Djavax.net.ssl.trustStorePassword=" + PASSWORD,
                "-Djavax.net.ssl.trustStoreType=PKCS12");
    }

    /** An stunnel configuration: TLS 1.3 with the PSK, AES-128-GCM, in the foreground. */
    Path stunnelConfig(Path work, String name, boolean client, int accept, int connect) throws IOException {
        Path config = work.resolve("stunnel-" + name + ".conf");
        Files.writeString(
                config,
                String.join(
                        "\n",
                        "foreground = yes",
                        "pid =",
                        "debug = 5", // stunnel's default level, as deployed: a few lines per connection
                        "[" + name + "]",
                        "client = " + (client ? "yes" : "no"),
                        "accept = 127.0.0.1:" + accept,
                        "connect = 127.0.0.1:" + connect,
                        "sslVersionMin = TLSv1.3",
                        "ciphersuites = " + Sockets.AES_128_GCM,
                        "PSKsecrets = " + directory.resolve("stunnel.psk"),
                        ""));
        return config;
    }
}
