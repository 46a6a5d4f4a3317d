/**
 * Fernet tokens (AES-128-CBC with HMAC-SHA256) as a JCA provider.
 */
@SuppressWarnings("requires-automatic") // spotbugs-annotations has only an Automatic-Module-Name
module dev.fernetjca.provider {
    requires static org.bouncycastle.provider;
    requires static com.github.spotbugs.annotations; // @SuppressFBWarnings, read from the class files by SpotBugs

    exports dev.fernetjca.provider;

    provides java.security.Provider with
            dev.fernetjca.provider.FernetProvider;
}
