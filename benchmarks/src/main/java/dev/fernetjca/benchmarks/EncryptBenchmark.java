package dev.fernetjca.benchmarks;

import com.macasaet.fernet.Token;
import dev.fernetjca.provider.Fernet;
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
 * Encrypts one plaintext of {@code size} bytes into a token per operation, with each of the three implementations.
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
public class EncryptBenchmark {
    @Param({"64", "1024", "16384", "1048576"})
    int size;

    private byte[] plaintext;
    private Cipher fernetJca;
    private Fernet fernetConvenience;
    private RawJdkFernet rawJdk;
    private com.macasaet.fernet.Key fernetJava8Key;

    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException {
        String keyBase64 = Fixture.newKeyBase64();
        plaintext = Fixture.plaintext(size);
        Fixture.checkInteroperability(keyBase64, plaintext);
        fernetJca = Fixture.fernetJcaCipher(Cipher.ENCRYPT_MODE, keyBase64);
        fernetConvenience = Fernet.of(keyBase64);
        rawJdk = new RawJdkFernet(keyBase64);
        fernetJava8Key = new com.macasaet.fernet.Key(keyBase64);
    }

    /** This project's Cipher, initialized once per trial: one {@code doFinal} per token. */
    @Benchmark
    public byte[] fernetJca() throws GeneralSecurityException {
        return fernetJca.doFinal(plaintext);
    }

    /** The {@code Fernet} convenience class: fresh key copies per call, wiped before it returns. */
    @Benchmark
    public byte[] fernetConvenience() {
        return fernetConvenience.encrypt(plaintext);
    }

    /** The primitives alone: AES-CBC, HMAC-SHA256, base64. */
    @Benchmark
    public byte[] rawJdk() throws GeneralSecurityException {
        return rawJdk.encrypt(plaintext);
    }

    /** fernet-java8 as documented: a token, then its string form (generate makes its own SecureRandom). */
    @Benchmark
    public String fernetJava8() {
        return Token.generate(fernetJava8Key, plaintext).serialise();
    }
}
