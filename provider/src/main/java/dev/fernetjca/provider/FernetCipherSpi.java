package dev.fernetjca.provider;

import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.InvalidParameterSpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.CipherSpi;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code Cipher.getInstance("Fernet")}: one token per {@code doFinal}. Encryption turns plaintext into a token
 * (US-ASCII bytes); decryption turns a token into plaintext only once its HMAC has been checked.
 *
 * <p>{@code update} buffers and returns nothing: no plaintext may leave before the whole token is authenticated.
 *
 * <p>Not thread-safe, like every Cipher.
 */
final class FernetCipherSpi extends CipherSpi {
    private final Engines engines = Engines.create(); // kept across inits; rekeyed with zeros by each wipe
    private byte[] buffered = new byte[0]; // input given to update, wiped once used
    private int bufferedBytes;

    private int mode; // 0 until initialized
    private TokenEngine engine; // copies of the keys and the primitives keyed with them
    private FernetParameterSpec params;
    private SecureRandom random;
    private byte[] lastIv; // the IV of the last token made, for getIV

    @Override
    protected void engineSetMode(String mode) throws NoSuchAlgorithmException {
        throw new NoSuchAlgorithmException("Fernet has no modes; use \"Fernet\" alone");
    }

    @Override
    protected void engineSetPadding(String padding) throws NoSuchPaddingException {
        throw new NoSuchPaddingException("Fernet has no padding choice; use \"Fernet\" alone");
    }

    /** Returns 0: callers see whole tokens, not blocks. */
    @Override
    protected int engineGetBlockSize() {
        return 0;
    }

    @Override
    protected int engineGetOutputSize(int inputLen) {
        long total = (long) bufferedBytes + Math.max(0, inputLen);
        if (isEncrypting()) {
            return total > Token.MAX_PLAINTEXT_BYTES ? Integer.MAX_VALUE : Token.tokenLength((int) total);
        }
        // decoded base64 is at most 3/4 of the text; header, tag and at least one byte of padding are not plaintext
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, total / 4 * 3 - Token.HEADER_BYTES - Token.TAG_BYTES - 1));
    }

    /** Returns the fixed IV when one was given, else the IV of the last token made; null when decrypting. */
    @Override
    protected byte[] engineGetIV() {
        if (!isEncrypting()) {
            return null;
        }
        if (params.hasFixedIv()) {
            return params.getIv().orElseThrow();
        }
        return lastIv == null ? null : lastIv.clone();
    }

    @Override
    protected AlgorithmParameters engineGetParameters() {
        if (params == null) {
            return null;
        }
        return FernetAlgorithmParametersSpi.of(params);
    }

    @Override
    protected void engineInit(int opmode, Key key, SecureRandom random) throws InvalidKeyException {
        try {
            engineInit(opmode, key, (AlgorithmParameterSpec) null, random);
        } catch (InvalidAlgorithmParameterException e) {
            throw new InvalidKeyException(e.getMessage(), e);
        }
    }

    @Override
    protected void engineInit(int opmode, Key key, AlgorithmParameters parameters, SecureRandom random)
            throws InvalidKeyException, InvalidAlgorithmParameterException {
        AlgorithmParameterSpec spec = null;
        if (parameters != null) {
            try {
                spec = parameters.getParameterSpec(FernetParameterSpec.class);
            } catch (InvalidParameterSpecException e) {
                throw new InvalidAlgorithmParameterException("Fernet needs AlgorithmParameters of Fernet", e);
            }
        }
        engineInit(opmode, key, spec, random);
    }

    @Override
    protected void engineInit(int opmode, Key key, AlgorithmParameterSpec spec, SecureRandom random)
            throws InvalidKeyException, InvalidAlgorithmParameterException {
        if (opmode < Cipher.ENCRYPT_MODE || opmode > Cipher.UNWRAP_MODE) {
            throw new InvalidParameterException("unknown cipher mode " + opmode);
        }
        FernetParameterSpec newParams;
        if (spec == null) {
            newParams = FernetParameterSpec.defaults();
        } else if (spec instanceof FernetParameterSpec fernetSpec) {
            newParams = fernetSpec;
        } else {
            throw new InvalidAlgorithmParameterException(
                    "Fernet takes a FernetParameterSpec, got " + spec.getClass().getName());
        }
        boolean encrypting = opmode == Cipher.ENCRYPT_MODE || opmode == Cipher.WRAP_MODE;
        if (!encrypting && newParams.hasFixedIv()) {
            throw new InvalidAlgorithmParameterException("a fixed iv applies only to encryption");
        }
        SecureRandom newRandom = random != null ? random : new SecureRandom();
        TokenEngine newEngine = TokenEngine.of(key, newRandom, engines);
        wipe();
        this.mode = opmode;
        this.engine = newEngine;
        this.params = newParams;
        this.random = newRandom;
    }

    @Override
    protected byte[] engineUpdate(byte[] input, int inputOffset, int inputLen) {
        checkInitialized();
        append(input, inputOffset, inputLen);
        return new byte[0];
    }

    @Override
    protected int engineUpdate(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset) {
        engineUpdate(input, inputOffset, inputLen);
        return 0;
    }

    @Override
    protected byte[] engineDoFinal(byte[] input, int inputOffset, int inputLen)
            throws IllegalBlockSizeException, BadPaddingException {
        return finish(
                input,
                inputOffset,
                inputLen,
                (data, offset, length) ->
                        isEncrypting() ? encrypt(data, offset, length) : decrypt(data, offset, length));
    }

    /**
     * Checks the room first against {@link #engineGetOutputSize}, exact for encryption and an upper bound for
     * decryption, so that a {@code ShortBufferException} leaves the input and any buffered input untouched for a retry.
     * Then writes the token or the plaintext straight into {@code output}: plaintext only once the token is
     * authenticated and its padding checked.
     */
    @Override
    protected int engineDoFinal(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset)
            throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
        int room = output.length - outputOffset;
        int needed = engineGetOutputSize(inputLen);
        if (needed > room) {
            throw new ShortBufferException("output needs up to " + needed + " bytes, has " + room);
        }
        return finish(
                input,
                inputOffset,
                inputLen,
                (data, offset, length) -> isEncrypting()
                        ? encrypt(data, offset, length, output, outputOffset)
                        : engine.decrypt(data, offset, length, params, output, outputOffset));
    }

    /** The last step of a {@code doFinal}, given all its input. */
    private interface Step<T> {
        T apply(byte[] data, int offset, int length) throws IllegalBlockSizeException, BadPaddingException;
    }

    /** Runs {@code step} over the buffered input followed by this input, then empties the buffer. */
    private <T> T finish(byte[] input, int inputOffset, int inputLen, Step<T> step)
            throws IllegalBlockSizeException, BadPaddingException {
        checkInitialized();
        byte[] data = input == null ? new byte[0] : input;
        int offset = input == null ? 0 : inputOffset;
        int length = input == null ? 0 : inputLen;
        if (bufferedBytes > 0) {
            append(data, offset, length);
            data = buffered;
            offset = 0;
            length = bufferedBytes;
        }
        try {
            return step.apply(data, offset, length);
        } finally {
            resetBuffer();
        }
    }

    @Override
    protected byte[] engineWrap(Key key) throws IllegalBlockSizeException, InvalidKeyException {
        checkInitialized();
        if (mode != Cipher.WRAP_MODE) {
            throw new IllegalStateException("cipher is not initialized to wrap");
        }
        byte[] encoded = key.getEncoded();
        if (encoded == null) {
            throw new InvalidKeyException("key " + key.getAlgorithm() + " has no encoding to wrap");
        }
        try {
            return encrypt(encoded, 0, encoded.length);
        } finally {
            Arrays.fill(encoded, (byte) 0);
        }
    }

    @Override
    protected Key engineUnwrap(byte[] wrappedKey, String wrappedKeyAlgorithm, int wrappedKeyType)
            throws InvalidKeyException, NoSuchAlgorithmException {
        checkInitialized();
        if (mode != Cipher.UNWRAP_MODE) {
            throw new IllegalStateException("cipher is not initialized to unwrap");
        }
        byte[] encoded;
        try {
            encoded = decrypt(wrappedKey, 0, wrappedKey.length);
        } catch (AEADBadTagException e) {
            throw new InvalidKeyException("wrapped key is not a valid token: " + e.getMessage(), e);
        }
        try {
            switch (wrappedKeyType) {
                case Cipher.SECRET_KEY:
                    return FernetProvider.ALGORITHM.equalsIgnoreCase(wrappedKeyAlgorithm)
                            ? FernetSecretKey.copyOf(encoded)
                            : new SecretKeySpec(encoded, wrappedKeyAlgorithm);
                case Cipher.PRIVATE_KEY:
                    return KeyFactory.getInstance(wrappedKeyAlgorithm)
                            .generatePrivate(new PKCS8EncodedKeySpec(encoded));
                case Cipher.PUBLIC_KEY:
                    return KeyFactory.getInstance(wrappedKeyAlgorithm).generatePublic(new X509EncodedKeySpec(encoded));
                default:
                    throw new InvalidKeyException("unknown key type " + wrappedKeyType);
            }
        } catch (InvalidKeySpecException | IllegalArgumentException e) {
            throw new InvalidKeyException("unwrapped bytes are not a " + wrappedKeyAlgorithm + " key", e);
        } finally {
            Arrays.fill(encoded, (byte) 0);
        }
    }

    @Override
    protected int engineGetKeySize(Key key) throws InvalidKeyException {
        FernetKeyRing.copies(key).forEach(FernetSecretKey::destroy);
        return FernetSecretKey.KEY_BYTES * 8;
    }

    private byte[] encrypt(byte[] plaintext, int offset, int length) throws IllegalBlockSizeException {
        checkPlaintextLength(length);
        byte[] iv = nextIv();
        return engine.encrypt(plaintext, offset, length, timestamp(), iv);
    }

    /** Writes the token into {@code output}; through a copy when {@code output} overlaps the plaintext. */
    private int encrypt(byte[] plaintext, int offset, int length, byte[] output, int outputOffset)
            throws IllegalBlockSizeException {
        checkPlaintextLength(length);
        int tokenBytes = Token.tokenLength(length);
        if (plaintext == output && offset < outputOffset + tokenBytes && outputOffset < offset + length) {
            byte[] token = encrypt(plaintext, offset, length);
            System.arraycopy(token, 0, output, outputOffset, token.length);
            return token.length;
        }
        byte[] iv = nextIv();
        return engine.encrypt(plaintext, offset, length, timestamp(), iv, output, outputOffset);
    }

    private static void checkPlaintextLength(int length) throws IllegalBlockSizeException {
        if (length > Token.MAX_PLAINTEXT_BYTES) {
            throw new IllegalBlockSizeException(
                    "plaintext of " + length + " bytes exceeds one token's limit of " + Token.MAX_PLAINTEXT_BYTES);
        }
    }

    private byte[] nextIv() {
        byte[] iv = new byte[FernetParameterSpec.IV_BYTES];
        params.nextIv(iv, random);
        lastIv = iv;
        return iv;
    }

    private long timestamp() {
        return params.getClock().instant().getEpochSecond();
    }

    private byte[] decrypt(byte[] tokenBytes, int offset, int length) throws AEADBadTagException {
        return engine.decrypt(tokenBytes, offset, length, params);
    }

    private boolean isEncrypting() {
        return mode == Cipher.ENCRYPT_MODE || mode == Cipher.WRAP_MODE;
    }

    private void checkInitialized() {
        if (mode == 0) {
            throw new IllegalStateException("cipher not initialized");
        }
    }

    private void append(byte[] input, int offset, int length) {
        if (length <= 0) {
            return;
        }
        if (length > Token.MAX_TOKEN_BYTES - bufferedBytes) {
            resetBuffer();
            throw new IllegalStateException("more input than one token can hold; the buffered input is discarded");
        }
        if (bufferedBytes + length > buffered.length) {
            int capacity = (int)
                    Math.min(Token.MAX_TOKEN_BYTES, Math.max((long) bufferedBytes + length, 2L * buffered.length));
            byte[] grown = Arrays.copyOf(buffered, capacity);
            Arrays.fill(buffered, (byte) 0);
            buffered = grown;
        }
        System.arraycopy(input, offset, buffered, bufferedBytes, length);
        bufferedBytes += length;
    }

    private void resetBuffer() {
        Arrays.fill(buffered, 0, bufferedBytes, (byte) 0);
        bufferedBytes = 0;
    }

    /** Wipes the key copies, the primitives keyed with them and buffered input, before a new init. */
    private void wipe() {
        if (engine != null) {
            engine.wipe();
        }
        resetBuffer();
        lastIv = null;
        engine = null;
        mode = 0;
    }
}
