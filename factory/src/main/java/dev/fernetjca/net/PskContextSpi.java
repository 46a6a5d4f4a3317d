package dev.fernetjca.net;

import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.Enumeration;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The {@code SSLContext.FernetPSK} service: engines and socket factories that speak TLS 1.3 with the PSK of a Fernet
 * key (docs/protocol.md). {@code init(null, null, null)} takes the configured keys, as
 * {@link FernetSocketFactory#getDefault()} does, and watches a configured key file: new engines get new keys, engines
 * made before keep theirs. A context from {@link FernetPskProvider#sslContext} holds its key from the start.
 *
 * <p>Thread-safe; safe to share once initialized.
 */
final class PskContextSpi extends SSLContextSpi {
    private final boolean keysFromCode; // FernetPskProvider.sslContext: init may not replace them
    private volatile KeyWatch keys; // null until initialized
    private final SSLSessionContext serverSessions = new NoSessions();
    private final SSLSessionContext clientSessions = new NoSessions();

    PskContextSpi() {
        this.keysFromCode = false;
    }

    PskContextSpi(KeyWatch keys) {
        this.keysFromCode = true;
        this.keys = keys;
        Metrics.registerSoon(); // the figures exist, at zero, before the first engine: off this thread, as sockets do
    }

    /**
     * Takes the configured keys, in TLS mode whatever {@code fernet.mode} says (an engine speaks nothing else).
     *
     * @param keyManagers must be null or empty: the keys come from the configuration
     * @param trustManagers must be null or empty: the key authenticates the peer; there are no certificates to trust
     * @param random ignored: Bouncy Castle's JCA crypto draws from its own {@code SecureRandom}
     * @throws KeyManagementException if managers are given, the context holds a key given in code, or no keys are
     *     configured (the message names every setting consulted); a second call reads the configuration again
     */
    @Override
    protected void engineInit(KeyManager[] keyManagers, TrustManager[] trustManagers, SecureRandom random)
            throws KeyManagementException {
        if (keyManagers != null && keyManagers.length > 0 || trustManagers != null && trustManagers.length > 0) {
            throw new KeyManagementException("FernetPSK takes no key or trust managers: init(null, null, null) uses"
                    + " the configured keys (docs/configuration.md), FernetPskProvider.sslContext a key in code");
        }
        if (keysFromCode) {
            throw new KeyManagementException("this context holds a key given in code; it takes no other");
        }
        try {
            keys = KeyWatch.configured(Lookup.PROCESS, FernetSocketOptions.tls());
            Metrics.registerSoon(); // the figures exist, at zero, before the first engine: off this thread
        } catch (IllegalStateException | IllegalArgumentException e) {
            KeyManagementException failure = new KeyManagementException(e.getMessage());
            failure.initCause(e);
            throw failure;
        }
    }

    private KeyWatch keys() {
        KeyWatch current = keys;
        if (current == null) {
            throw new IllegalStateException("SSLContext is not initialized: call init(null, null, null)");
        }
        return current;
    }

    /** Returns a factory of {@code FernetSocket}s: plain {@code Socket}s that speak our TLS, not {@code SSLSocket}s. */
    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
        return new PskSocketFactory(keys());
    }

    /** Returns a factory of server sockets whose accepted sockets speak our TLS; not {@code SSLServerSocket}s. */
    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
        return new PskServerSocketFactory(keys());
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
        return new PskEngine(keys().settings(), null, -1);
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
        return new PskEngine(keys().settings(), host, port);
    }

    /** Returns the same context on every call, as JSSE does, so that its settings stay set. */
    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
        return serverSessions;
    }

    /** Returns the same context on every call, as JSSE does, so that its settings stay set. */
    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
        return clientSessions;
    }

    /** TLS 1.3 and both suites; SSLContextSpi would otherwise ask a socket, which is not an SSLSocket here. */
    @Override
    protected SSLParameters engineGetDefaultSSLParameters() {
        return new SSLParameters(PskEngineBase.SUITES.clone(), PskEngineBase.PROTOCOLS.clone());
    }

    @Override
    protected SSLParameters engineGetSupportedSSLParameters() {
        return engineGetDefaultSSLParameters();
    }

    /** The session context of a TLS stack that resumes nothing: always empty. */
    private static final class NoSessions implements SSLSessionContext {
        private volatile int timeoutSeconds = 86_400;
        private volatile int size;

        @Override
        public SSLSession getSession(byte[] sessionId) {
            return null;
        }

        @Override
        public Enumeration<byte[]> getIds() {
            return Collections.emptyEnumeration();
        }

        @Override
        public void setSessionTimeout(int seconds) {
            if (seconds < 0) {
                throw new IllegalArgumentException("timeout must not be negative, got " + seconds);
            }
            timeoutSeconds = seconds;
        }

        @Override
        public int getSessionTimeout() {
            return timeoutSeconds;
        }

        @Override
        public void setSessionCacheSize(int size) {
            if (size < 0) {
                throw new IllegalArgumentException("size must not be negative, got " + size);
            }
            this.size = size;
        }

        @Override
        public int getSessionCacheSize() {
            return size;
        }
    }
}
