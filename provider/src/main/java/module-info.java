/**
 * Fernet tokens (AES-128-CBC with HMAC-SHA256) as a JCA provider.
 */
module dev.fernetjca.provider {
    requires static org.bouncycastle.provider;

    exports dev.fernetjca.provider;

    provides java.security.Provider with
            dev.fernetjca.provider.FernetProvider;
}
