/**
 * A JCA provider for <a href="https://github.com/fernet/spec/blob/master/Spec.md">Fernet tokens</a>, byte-for-byte
 * compatible with Python's {@code cryptography.fernet}.
 *
 * <p>Register {@link dev.fernetjca.provider.FernetProvider} (by code, by a {@code java.security} file, or through
 * {@link java.util.ServiceLoader}), then use {@code Cipher.getInstance("Fernet")}. {@link dev.fernetjca.provider.Fernet}
 * offers the same operations without JCA ceremony.
 *
 * <p>Arguments and return values are non-null unless a member says otherwise.
 */
package dev.fernetjca.provider;
