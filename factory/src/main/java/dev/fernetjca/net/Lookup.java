package dev.fernetjca.net;

import java.security.Security;
import java.util.Map;
import java.util.function.Function;

/**
 * Where every setting of the factories is looked up: a system property, else the security property of the same name
 * ({@link Security#getProperty}), else an environment variable. Values that are empty or all whitespace count as not
 * set. One lookup serves the keys ({@link KeySource}) and the other settings ({@link Settings}), so that both agree on
 * what is configured; tests and the {@code fernet} command inject their own environment.
 *
 * <p>Immutable; safe to share (the functions it is given must be thread-safe, as the JDK's are).
 */
final class Lookup {
    /** This process's system properties, security properties and environment. */
    static final Lookup PROCESS = new Lookup(System::getProperty, Security::getProperty, System::getenv);

    private final Function<String, String> systemProperties;
    private final Function<String, String> securityProperties;
    private final Function<String, String> environment;

    /** Each function returns a setting's value by name, or null when it is not set. */
    Lookup(
            Function<String, String> systemProperties,
            Function<String, String> securityProperties,
            Function<String, String> environment) {
        this.systemProperties = systemProperties;
        this.securityProperties = securityProperties;
        this.environment = environment;
    }

    /** This process's system and security properties, with environment variables from {@code environment}. */
    static Lookup withEnvironment(Map<String, String> environment) {
        Map<String, String> copy = Map.copyOf(environment);
        return new Lookup(System::getProperty, Security::getProperty, copy::get);
    }

    /** Returns the first non-blank value of {@code property} or {@code variable}, untrimmed, or null. */
    Found find(String property, String variable) {
        String value = systemProperties.apply(property);
        if (isSet(value)) {
            return new Found(value, "system property " + property);
        }
        value = securityProperties.apply(property);
        if (isSet(value)) {
            return new Found(value, "security property " + property);
        }
        value = environment.apply(variable);
        if (isSet(value)) {
            return new Found(value, "environment variable " + variable);
        }
        return null;
    }

    /** Returns the value {@link #find} finds, trimmed, or null. */
    String value(String property, String variable) {
        Found found = find(property, variable);
        return found == null ? null : found.value.trim();
    }

    /** Names where {@link #find} finds the setting ({@code system property P}...), or null; never the value. */
    String origin(String property, String variable) {
        Found found = find(property, variable);
        return found == null ? null : found.origin;
    }

    private static boolean isSet(String value) {
        return value != null && !value.isBlank();
    }

    /** A setting's value and where it came from; not a record, since the value may be a key or a password. */
    static final class Found {
        final String value;
        final String origin;

        Found(String value, String origin) {
            this.value = value;
            this.origin = origin;
        }

        @Override
        public String toString() {
            return origin;
        }
    }
}
