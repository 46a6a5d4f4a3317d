package dev.fernetjca.provider;

import java.security.InvalidKeyException;
import java.security.Key;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import javax.crypto.AEADBadTagException;

/**
 * The token operations over a set of keys: encrypt under the primary key, and decrypt, date or rotate a token of any
 * key. The Cipher, {@link Fernet} and {@link FernetKeyRing} all delegate here, as SunJCE's ciphers delegate to their
 * cipher core, so that the search for the key that authenticates a token exists once.
 *
 * <p>Holds copies of the keys and the primitives keyed with them; {@link #wipe()} destroys both.
 *
 * <p>Not thread-safe: one per Cipher or per call.
 */
final class TokenEngine {
    private static final SecureRandom SHARED_RANDOM = new SecureRandom(); // thread-safe

    private Engines engines; // null once given back to the pool
    private final List<FernetSecretKey> keys; // copies: the primary first
    private final SecureRandom random;
    private final boolean borrowed; // engines from Engines.borrow(), to give back at wipe

    private TokenEngine(Engines engines, List<FernetSecretKey> keys, SecureRandom random, boolean borrowed) {
        this.engines = engines;
        this.keys = keys;
        this.random = random;
        this.borrowed = borrowed;
    }

    /**
     * Returns an engine over copies of {@code key} (a Fernet key or a ring of them) that uses {@code engines}, which
     * a Cipher keeps across its inits; {@link #wipe()} rekeys them.
     *
     * @throws InvalidKeyException if the key is not a Fernet key of 32 bytes, or a ring of them
     */
    static TokenEngine of(Key key, SecureRandom random, Engines engines) throws InvalidKeyException {
        return new TokenEngine(engines, FernetKeyRing.copies(key), random, false);
    }

    /**
     * Returns an engine for one call of our own classes, whose keys were checked when they were made, over pooled
     * primitives; {@link #wipe()} scrubs them and gives them back. Wipe it when the call is done.
     */
    static TokenEngine ofChecked(Key key) {
        Engines engines = Engines.borrow(); // first: if the backend is misconfigured, no key has been copied
        try {
            return new TokenEngine(engines, FernetKeyRing.copies(key), SHARED_RANDOM, true);
        } catch (InvalidKeyException e) { // a destroyed ring; the engines, never keyed, are dropped
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Returns the token of {@code length} bytes of plaintext, under the primary key, with the given date and IV. */
    byte[] encrypt(byte[] plaintext, int offset, int length, long timestamp, byte[] iv) {
        return Token.encrypt(engines, keys.get(0), timestamp, iv, plaintext, offset, length);
    }

    /**
     * Writes the token of {@code length} bytes of plaintext into {@code out} from {@code outOffset}, which must have
     * room for {@link Token#tokenLength} and must not overlap the plaintext, and returns its length.
     */
    int encrypt(byte[] plaintext, int offset, int length, long timestamp, byte[] iv, byte[] out, int outOffset) {
        return Token.encrypt(engines, keys.get(0), timestamp, iv, plaintext, offset, length, out, outOffset);
    }

    /**
     * Returns the plaintext of a token that a key authenticates and that {@code params} accepts at its age.
     *
     * @throws AEADBadTagException if the token is malformed, not authenticated, too old or from the future
     */
    byte[] decrypt(byte[] tokenBytes, int offset, int length, FernetParameterSpec params) throws AEADBadTagException {
        Token token = Token.parse(tokenBytes, offset, length);
        return token.decrypt(engines, authenticatingAtItsAge(token, params));
    }

    /**
     * Decrypts a token as {@link #decrypt(byte[], int, int, FernetParameterSpec)} does, into {@code out} from
     * {@code outOffset}, which must have room for the largest plaintext a token of {@code length} characters holds;
     * returns the plaintext's length. Nothing is written to {@code out} unless the token is authentic; it may be the
     * array that holds the token.
     */
    int decrypt(byte[] tokenBytes, int offset, int length, FernetParameterSpec params, byte[] out, int outOffset)
            throws AEADBadTagException {
        Token token = Token.parse(tokenBytes, offset, length);
        return token.decrypt(engines, authenticatingAtItsAge(token, params), out, outOffset);
    }

    /** Returns the authenticated timestamp of a token (unsigned epoch seconds), ignoring any TTL. */
    long timestamp(byte[] tokenBytes) throws AEADBadTagException {
        Token token = Token.parse(tokenBytes, 0, tokenBytes.length);
        authenticating(token);
        return token.timestamp();
    }

    /** Re-encrypts an authentic token under the primary key with a fresh IV, keeping its timestamp. */
    byte[] rotate(byte[] tokenBytes) throws AEADBadTagException {
        Token token = Token.parse(tokenBytes, 0, tokenBytes.length);
        byte[] plaintext = token.decrypt(engines, authenticating(token));
        try {
            return encrypt(plaintext, 0, plaintext.length, token.timestamp(), freshIv());
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    /** Returns a new random IV from this engine's {@code SecureRandom}. */
    byte[] freshIv() {
        byte[] iv = new byte[FernetParameterSpec.IV_BYTES];
        random.nextBytes(iv);
        return iv;
    }

    /** Returns the key that authenticates the token, if {@code params} accept the token's age. */
    private FernetSecretKey authenticatingAtItsAge(Token token, FernetParameterSpec params) throws AEADBadTagException {
        FernetSecretKey key = authenticating(token);
        // the timestamp means nothing until the tag matches
        String problem = params.ageProblem(token.timestamp());
        if (problem != null) {
            throw new AEADBadTagException(problem);
        }
        return key;
    }

    private FernetSecretKey authenticating(Token token) throws AEADBadTagException {
        for (FernetSecretKey key : keys) {
            if (token.authenticatedBy(engines, key)) {
                return key;
            }
        }
        throw new AEADBadTagException("token authentication failed");
    }

    /**
     * Destroys the key copies and rekeys the primitives with zeros, so that no object here still holds a key; then
     * gives borrowed primitives back to the pool, which this engine no longer reaches.
     */
    void wipe() {
        keys.forEach(FernetSecretKey::destroy);
        if (engines == null) {
            return; // already given back: another call may be using them now
        }
        engines.scrub();
        if (borrowed) {
            // reached only once scrubbed: primitives whose scrub threw may hold a key, and are dropped with this engine
            Engines.giveBack(engines);
            engines = null;
        }
    }
}
