package dev.fernetjca.provider;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.ProviderException;
import java.security.Security;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The primitives under a token: AES-128-CBC with PKCS#7 padding and HMAC-SHA256, from the platform's providers by
 * default, or from Bouncy Castle when the system or security property {@code fernet.backend} is {@code BC}.
 *
 * <p>Not thread-safe: each Cipher holds its own, and each one-call user borrows one from a small pool (see
 * {@link #borrow()}); the static methods are thread-safe.
 */
final class Engines {
    static final String BACKEND_PROPERTY = "fernet.backend";

    private static final int BLOCK_BYTES = 16;

    /** Idle engines kept per backend: a few per core covers the threads that can run at once. */
    static final int IDLE_LIMIT = 4 * Runtime.getRuntime().availableProcessors();

    private static final Idle IDLE_JDK = new Idle();
    private static final Idle IDLE_BC = new Idle();

    final Cipher aes; // AES/CBC/PKCS5Padding: encryption
    final Cipher aesNoPadding; // AES/CBC/NoPadding: decryption straight into the exact plaintext array
    final Mac hmac;
    private final boolean bouncyCastle; // the backend these came from, so the pool never mixes them

    private Engines(Cipher aes, Cipher aesNoPadding, Mac hmac, boolean bouncyCastle) {
        this.aes = aes;
        this.aesNoPadding = aesNoPadding;
        this.hmac = hmac;
        this.bouncyCastle = bouncyCastle;
    }

    /**
     * Returns engines of the current backend that hold no key: idle ones if any, else new ones. Making new ones costs
     * three {@code getInstance} calls, several times what a short token does, so {@link Fernet} and
     * {@link FernetKeyRing#rotate}, which make a {@link TokenEngine} per call, take them from here and hand them back
     * with {@link #giveBack} once scrubbed.
     */
    static Engines borrow() {
        boolean bouncyCastle = bouncyCastleRequested();
        Engines idle = (bouncyCastle ? IDLE_BC : IDLE_JDK).poll();
        return idle != null ? idle : create(bouncyCastle);
    }

    /**
     * Keeps {@code engines} for a later {@link #borrow()}, unless enough are idle. The caller must have {@link
     * #scrub() scrubbed} them and must not touch them again: one that failed to scrub may still hold a key, and is
     * left to the garbage collector instead.
     */
    static void giveBack(Engines engines) {
        (engines.bouncyCastle ? IDLE_BC : IDLE_JDK).offer(engines);
    }

    /** Returns the idle engines of both backends, for tests that check what the pool holds. */
    static List<Engines> idle() {
        List<Engines> all = new ArrayList<>(IDLE_JDK.engines);
        all.addAll(IDLE_BC.engines);
        return all;
    }

    /** Returns new engines of the current backend, for a Cipher to keep across its inits. */
    static Engines create() {
        return create(bouncyCastleRequested());
    }

    @SuppressFBWarnings(
            value = {"CIPHER_INTEGRITY", "PADDING_ORACLE"},
            justification = "Fernet is AES-128-CBC under encrypt-then-MAC: Token checks the HMAC-SHA256 tag "
                    + "in constant time before any decryption or padding check, so CBC's malleability "
                    + "and padding oracle are out of reach")
    private static Engines create(boolean bouncyCastle) {
        try {
            if (!bouncyCastle) {
                return new Engines(
                        Cipher.getInstance("AES/CBC/PKCS5Padding"),
                        Cipher.getInstance("AES/CBC/NoPadding"),
                        Mac.getInstance("HmacSHA256"),
                        false);
            }
            Provider bc = BouncyCastle.PROVIDER;
            return new Engines(
                    Cipher.getInstance("AES/CBC/PKCS5Padding", bc),
                    Cipher.getInstance("AES/CBC/NoPadding", bc),
                    Mac.getInstance("HmacSHA256", bc),
                    true);
        } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
            throw new ProviderException("AES/CBC/PKCS5Padding or HmacSHA256 is not available", e);
        }
    }

    /**
     * Rekeys every primitive with a key of zeros. A JCE Cipher or Mac keeps its last key's schedule or padded key
     * until its next {@code init}; this is that init, so that a key is not left behind once its user is done.
     */
    @SuppressFBWarnings(
            value = "STATIC_IV",
            justification = "the zero IV only rekeys the ciphers to drop the last key; nothing is encrypted under it")
    void scrub() {
        byte[] zeros = new byte[BLOCK_BYTES];
        try {
            SecretKeySpec zeroAes = new SecretKeySpec(zeros, "AES");
            IvParameterSpec zeroIv = new IvParameterSpec(zeros);
            aes.init(Cipher.ENCRYPT_MODE, zeroAes, zeroIv);
            aesNoPadding.init(Cipher.DECRYPT_MODE, zeroAes, zeroIv);
            hmac.init(new SecretKeySpec(zeros, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw unexpected(e);
        }
    }

    /** Returns the backend's name, for messages and tests: {@code "BC"} or {@code "JDK"}. */
    static String backendName() {
        return bouncyCastleRequested() ? "BC" : "JDK";
    }

    private static boolean bouncyCastleRequested() {
        String value = System.getProperty(BACKEND_PROPERTY);
        if (value == null) {
            value = Security.getProperty(BACKEND_PROPERTY);
        }
        if (value == null || value.isBlank()) {
            return false;
        }
        switch (value.trim().toUpperCase(Locale.ROOT)) {
            case "BC":
                return true;
            case "JDK":
            case "DEFAULT":
                return false;
            default:
                throw new ProviderException(
                        BACKEND_PROPERTY + " must be BC or JDK"); // never the value: it may be a key
        }
    }

    /** Loaded only when asked for, so Bouncy Castle stays optional. */
    private static final class BouncyCastle {
        static final Provider PROVIDER = load();

        private static Provider load() {
            Provider installed = Security.getProvider("BC");
            if (installed != null) {
                return installed;
            }
            try {
                return new BouncyCastleProvider();
            } catch (NoClassDefFoundError e) {
                throw new ProviderException(
                        BACKEND_PROPERTY + "=BC but Bouncy Castle (bcprov-jdk18on) is not on the class path", e);
            }
        }
    }

    /**
     * Scrubbed engines of one backend awaiting reuse, newest first (the likeliest still in cache). Lock-free; the
     * count is raised before an offer and lowered after a poll, so it never falls below the number held.
     */
    private static final class Idle {
        final ConcurrentLinkedDeque<Engines> engines = new ConcurrentLinkedDeque<>();
        private final AtomicInteger count = new AtomicInteger();

        Engines poll() {
            Engines idle = engines.pollFirst();
            if (idle != null) {
                count.decrementAndGet();
            }
            return idle;
        }

        void offer(Engines scrubbed) {
            if (count.incrementAndGet() <= IDLE_LIMIT) {
                engines.offerFirst(scrubbed);
            } else {
                count.decrementAndGet();
            }
        }
    }

    /** Wraps a failure of a primitive that cannot fail with valid lengths and keys. */
    static ProviderException unexpected(GeneralSecurityException e) {
        return new ProviderException("the " + backendName() + " backend failed unexpectedly", e);
    }
}
