package dev.fernetjca.benchmarks;

import com.macasaet.fernet.Token;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decrypts one token of a {@code size}-byte plaintext per operation, with each of the three implementations, each
 * reading a token it made itself. Authentication, decryption and base64 decoding are all measured; fernet-java8 also
 * checks the token's age, our Cipher does not (no TTL is given, as by default).
 *
 * <p>Each benchmark thread has its own state, like every Cipher user.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DecryptBenchmark {
    @Param({"64", "1024", "16384", "1048576"})
    int size;

    private Cipher fernetJca;
    private byte[] fernetJcaToken;
    private RawJdkFernet rawJdk;
    private byte[] rawJdkToken;
    private com.macasaet.fernet.Key fernetJava8Key;
    private String fernetJava8Token;

    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException {
        String keyBase64 = Fixture.newKeyBase64();
        byte[] plaintext = Fixture.plaintext(size);
        Fixture.checkInteroperability(keyBase64, plaintext);
        fernetJca = Fixture.fernetJcaCipher(Cipher.DECRYPT_MODE, keyBase64);
        fernetJcaToken = Fixture.fernetJcaCipher(Cipher.ENCRYPT_MODE, keyBase64).doFinal(plaintext);
        rawJdk = new RawJdkFernet(keyBase64);
        rawJdkToken = rawJdk.encrypt(plaintext);
        fernetJava8Key = new com.macasaet.fernet.Key(keyBase64);
        fernetJava8Token = Token.generate(fernetJava8Key, plaintext).serialise();
    }

    /** This project's Cipher, initialized once per trial: one {@code doFinal} per token. */
    @Benchmark
    public byte[] fernetJca() throws GeneralSecurityException {
        return fernetJca.doFinal(fernetJcaToken);
    }

    /** The primitives alone: base64, HMAC-SHA256 check, AES-CBC. */
    @Benchmark
    public byte[] rawJdk() throws GeneralSecurityException {
        return rawJdk.decrypt(rawJdkToken);
    }

    /** fernet-java8 as documented: parse the string form, then validate (TTL a century) and decrypt. */
    @Benchmark
    public byte[] fernetJava8() {
        return Token.fromString(fernetJava8Token).validateAndDecrypt(fernetJava8Key, Fixture.FERNET_JAVA8_VALIDATOR);
    }
}
