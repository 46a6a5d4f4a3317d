package dev.fernetjca.provider;

import java.security.Provider;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The {@code FernetJCA} provider: {@code Cipher.Fernet}, {@code KeyGenerator.Fernet}, {@code SecretKeyFactory.Fernet}
 * and {@code AlgorithmParameters.Fernet}.
 *
 * <p>Register it with {@link java.security.Security#addProvider}, with a line
 * {@code security.provider.N=dev.fernetjca.provider.FernetProvider} in a {@code java.security} file, or let
 * {@link java.util.ServiceLoader} find it on the class path or the module path.
 *
 * <p>Immutable; safe to share.
 */
public final class FernetProvider extends Provider {
    private static final long serialVersionUID = 1L;

    /** The provider's name, {@value}. */
    static final String NAME = "FernetJCA";

    /** The algorithm name of every service, {@value}. */
    static final String ALGORITHM = "Fernet";

    /** Creates the provider; services construct their SPIs directly, so the SPIs stay package-private. */
    public FernetProvider() {
        super(NAME, "1.0", "Fernet tokens (AES-128-CBC, HMAC-SHA256) for the JCA");
        add("Cipher", FernetCipherSpi.class, FernetCipherSpi::new);
        add("KeyGenerator", FernetKeyGeneratorSpi.class, FernetKeyGeneratorSpi::new);
        add("SecretKeyFactory", FernetSecretKeyFactorySpi.class, FernetSecretKeyFactorySpi::new);
        add("AlgorithmParameters", FernetAlgorithmParametersSpi.class, FernetAlgorithmParametersSpi::new);
    }

    private void add(String type, Class<?> impl, Supplier<?> constructor) {
        putService(new Service(this, type, ALGORITHM, impl.getName(), List.of(), Map.of()) {
            @Override
            public Object newInstance(Object unused) {
                return constructor.get();
            }
        });
    }
}
