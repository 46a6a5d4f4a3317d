package dev.fernetjca.provider;

import java.io.IOException;
import java.security.AlgorithmParameters;
import java.security.AlgorithmParametersSpi;
import java.security.NoSuchAlgorithmException;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.InvalidParameterSpecException;

/**
 * {@code AlgorithmParameters.getInstance("Fernet")}: carries a {@link FernetParameterSpec}, so that
 * {@code Cipher.getParameters()} reports the TTL and IV in use. A clock has no encoding, so neither do these.
 *
 * <p>Not thread-safe, like every AlgorithmParameters.
 */
final class FernetAlgorithmParametersSpi extends AlgorithmParametersSpi {
    private FernetParameterSpec spec;

    static AlgorithmParameters of(FernetParameterSpec spec) {
        try {
            AlgorithmParameters parameters = AlgorithmParameters.getInstance(FernetProvider.ALGORITHM, Holder.PROVIDER);
            parameters.init(spec);
            return parameters;
        } catch (NoSuchAlgorithmException | InvalidParameterSpecException e) {
            throw new IllegalStateException("FernetJCA cannot make its own parameters", e);
        }
    }

    @Override
    protected void engineInit(AlgorithmParameterSpec paramSpec) throws InvalidParameterSpecException {
        if (!(paramSpec instanceof FernetParameterSpec fernetSpec)) {
            throw new InvalidParameterSpecException("Fernet takes a FernetParameterSpec");
        }
        this.spec = fernetSpec;
    }

    @Override
    protected void engineInit(byte[] params) throws IOException {
        throw new IOException("Fernet parameters have no encoding");
    }

    @Override
    protected void engineInit(byte[] params, String format) throws IOException {
        throw new IOException("Fernet parameters have no encoding");
    }

    @Override
    protected <T extends AlgorithmParameterSpec> T engineGetParameterSpec(Class<T> paramSpec)
            throws InvalidParameterSpecException {
        if (!paramSpec.isAssignableFrom(FernetParameterSpec.class)) {
            throw new InvalidParameterSpecException("Fernet parameters are a FernetParameterSpec");
        }
        return paramSpec.cast(spec);
    }

    @Override
    protected byte[] engineGetEncoded() throws IOException {
        throw new IOException("Fernet parameters have no encoding");
    }

    @Override
    protected byte[] engineGetEncoded(String format) throws IOException {
        throw new IOException("Fernet parameters have no encoding");
    }

    @Override
    protected String engineToString() {
        return String.valueOf(spec);
    }

    private static final class Holder {
        static final FernetProvider PROVIDER = new FernetProvider();
    }
}
