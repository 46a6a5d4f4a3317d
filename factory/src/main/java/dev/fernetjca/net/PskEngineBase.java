package dev.fernetjca.net;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The configuration surface of {@link PskEngine}, which JSSE consumers set before the handshake: client or server
 * mode, suites, protocols, and {@link SSLParameters}. Only TLS 1.3 and our two suites exist. Client authentication
 * needs no setting: both ends always prove they hold the key, so {@code needClientAuth} is reported as set but changes
 * nothing. An endpoint identification algorithm (the JDK's {@code HttpClient} asks for {@code HTTPS}) is kept and
 * reported but checks nothing: without certificates there is no name to compare, and whoever holds the key is the
 * peer (docs/guides/sslcontext.md).
 *
 * <p>Guarded by the subclass's lock: every method here is synchronized on the engine.
 */
abstract class PskEngineBase extends SSLEngine {
    static final String[] SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"};
    static final String[] PROTOCOLS = {PskSession.PROTOCOL};

    private Boolean clientMode; // null until set: JSSE refuses a handshake before it is
    private String[] enabledSuites = SUITES.clone();
    private boolean needClientAuth;
    private boolean wantClientAuth;
    private boolean sessionCreation = true;
    private String endpointIdentification;
    private String[] applicationProtocols = new String[0];

    PskEngineBase(String peerHost, int peerPort) {
        super(peerHost, peerPort);
    }

    /** Tells whether a handshake has begun: the mode is fixed from then on. */
    abstract boolean handshakeStarted();

    @Override
    public synchronized void setUseClientMode(boolean mode) {
        if (handshakeStarted()) {
            throw new IllegalArgumentException("cannot change the mode once the handshake has begun");
        }
        clientMode = mode;
    }

    @Override
    public synchronized boolean getUseClientMode() {
        return clientMode != null && clientMode;
    }

    /** Throws unless {@link #setUseClientMode} was called, as JSSE does. */
    synchronized void modeChosen() {
        if (clientMode == null) {
            throw new IllegalStateException("client or server mode has not been set");
        }
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return SUITES.clone();
    }

    @Override
    public synchronized String[] getEnabledCipherSuites() {
        return enabledSuites.clone();
    }

    /**
     * Enables a non-empty subset of {@link #SUITES}, in order of preference.
     *
     * @throws IllegalArgumentException for any other suite, or none
     */
    @Override
    public synchronized void setEnabledCipherSuites(String[] suites) {
        List<String> enabled = new ArrayList<>();
        for (String suite : suites) {
            if (PskSession.suiteNumber(Objects.requireNonNull(suite, "suite")) < 0) {
                throw new IllegalArgumentException("unsupported cipher suite " + suite + ": FernetPSK engines speak "
                        + String.join(" and ", SUITES));
            }
            if (!enabled.contains(suite)) {
                enabled.add(suite);
            }
        }
        if (enabled.isEmpty()) {
            throw new IllegalArgumentException("at least one cipher suite must be enabled");
        }
        enabledSuites = enabled.toArray(new String[0]);
    }

    synchronized int[] enabledSuiteNumbers() {
        return Arrays.stream(enabledSuites).mapToInt(PskSession::suiteNumber).toArray();
    }

    @Override
    public String[] getSupportedProtocols() {
        return PROTOCOLS.clone();
    }

    @Override
    public String[] getEnabledProtocols() {
        return PROTOCOLS.clone();
    }

    /**
     * Accepts any list that includes TLSv1.3, the only protocol there is.
     *
     * @throws IllegalArgumentException if {@code protocols} lacks TLSv1.3
     */
    @Override
    public void setEnabledProtocols(String[] protocols) {
        if (!Arrays.asList(protocols).contains(PskSession.PROTOCOL)) {
            throw new IllegalArgumentException("FernetPSK engines speak TLSv1.3 only, which is not enabled");
        }
    }

    @Override
    public synchronized void setNeedClientAuth(boolean need) {
        needClientAuth = need;
        wantClientAuth = false;
    }

    @Override
    public synchronized boolean getNeedClientAuth() {
        return needClientAuth;
    }

    @Override
    public synchronized void setWantClientAuth(boolean want) {
        wantClientAuth = want;
        needClientAuth = false;
    }

    @Override
    public synchronized boolean getWantClientAuth() {
        return wantClientAuth;
    }

    @Override
    public synchronized void setEnableSessionCreation(boolean enabled) {
        sessionCreation = enabled;
    }

    @Override
    public synchronized boolean getEnableSessionCreation() {
        return sessionCreation;
    }

    /** Returns null: the handshake has no task worth a thread of its own. */
    @Override
    public Runnable getDelegatedTask() {
        return null;
    }

    @Override
    public synchronized SSLParameters getSSLParameters() {
        SSLParameters parameters = super.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm(endpointIdentification);
        parameters.setApplicationProtocols(applicationProtocols.clone());
        return parameters;
    }

    /** Takes the suites, protocols and client authentication; keeps what else is reported back but changes nothing. */
    @Override
    public synchronized void setSSLParameters(SSLParameters parameters) {
        super.setSSLParameters(parameters);
        endpointIdentification = parameters.getEndpointIdentificationAlgorithm();
        applicationProtocols = parameters.getApplicationProtocols().clone();
    }

    static void checkArguments(ByteBuffer[] buffers, int offset, int length, ByteBuffer other) {
        Objects.requireNonNull(other, "buffer");
        Objects.checkFromIndexSize(offset, length, buffers.length);
        for (int i = offset; i < offset + length; i++) {
            Objects.requireNonNull(buffers[i], "buffer");
        }
    }

    static boolean hasRemaining(ByteBuffer[] buffers, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (buffers[i].hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    static long room(ByteBuffer[] buffers, int offset, int length) {
        long room = 0;
        for (int i = offset; i < offset + length; i++) {
            room += buffers[i].remaining();
        }
        return room;
    }
}
