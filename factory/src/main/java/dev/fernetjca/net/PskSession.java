package dev.fernetjca.net;

import java.security.Principal;
import java.security.cert.Certificate;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionBindingEvent;
import javax.net.ssl.SSLSessionBindingListener;
import javax.net.ssl.SSLSessionContext;
import org.bouncycastle.tls.CipherSuite;

/**
 * The {@link SSLSession} of one {@link PskEngine} connection: TLS 1.3, the negotiated suite, and the PSK identity of the
 * Fernet key both ends proved they hold, as the peer's (and our) principal. There are no certificates: asking for the
 * peer's throws {@link SSLPeerUnverifiedException}, as JSSE does for an unauthenticated peer, although the peer is
 * authenticated, by the key. Sessions are never resumed, so none is cached and the id is empty.
 *
 * <p>Thread-safe: the handshake fills it once, then it only reports.
 */
final class PskSession implements SSLSession {
    static final String PROTOCOL = "TLSv1.3";
    static final String NO_SUITE = "SSL_NULL_WITH_NULL_NULL"; // what JSSE reports before a handshake

    private final String peerHost;
    private final int peerPort;
    private final long creationTime = System.currentTimeMillis();
    private final Map<String, Object> values = new ConcurrentHashMap<>();
    private volatile String cipherSuite = NO_SUITE;
    private volatile Principal identity; // null until the handshake is done
    private volatile long lastAccessedTime = creationTime;
    private volatile boolean valid = true;

    PskSession(String peerHost, int peerPort) {
        this.peerHost = peerHost;
        this.peerPort = peerPort;
    }

    /** Records what the handshake agreed: the suite and the identity of the key both ends hold. */
    void established(int suite, String pskIdentity) {
        cipherSuite = suiteName(suite);
        identity = new PskIdentity(pskIdentity);
        lastAccessedTime = System.currentTimeMillis();
    }

    /** Returns the JSSE name of one of our suites. */
    static String suiteName(int suite) {
        return switch (suite) {
            case CipherSuite.TLS_AES_128_GCM_SHA256 -> "TLS_AES_128_GCM_SHA256";
            case CipherSuite.TLS_CHACHA20_POLY1305_SHA256 -> "TLS_CHACHA20_POLY1305_SHA256";
            default -> throw new IllegalArgumentException("not a suite of ours: " + suite);
        };
    }

    /** Returns the Bouncy Castle number of one of our suites by its JSSE name, or -1. */
    static int suiteNumber(String name) {
        return switch (name) {
            case "TLS_AES_128_GCM_SHA256" -> CipherSuite.TLS_AES_128_GCM_SHA256;
            case "TLS_CHACHA20_POLY1305_SHA256" -> CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
            default -> -1;
        };
    }

    @Override
    public byte[] getId() {
        return new byte[0];
    }

    /** Returns null: sessions are not resumed, so none is kept in a context. */
    @Override
    public SSLSessionContext getSessionContext() {
        return null;
    }

    @Override
    public long getCreationTime() {
        return creationTime;
    }

    @Override
    public long getLastAccessedTime() {
        return lastAccessedTime;
    }

    @Override
    public void invalidate() {
        valid = false;
    }

    @Override
    public boolean isValid() {
        return valid && identity != null;
    }

    @Override
    public void putValue(String name, Object value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        Object old = values.put(name, value);
        if (old instanceof SSLSessionBindingListener listener) {
            listener.valueUnbound(new SSLSessionBindingEvent(this, name));
        }
        if (value instanceof SSLSessionBindingListener listener) {
            listener.valueBound(new SSLSessionBindingEvent(this, name));
        }
    }

    @Override
    public Object getValue(String name) {
        return values.get(Objects.requireNonNull(name, "name"));
    }

    @Override
    public void removeValue(String name) {
        Object old = values.remove(Objects.requireNonNull(name, "name"));
        if (old instanceof SSLSessionBindingListener listener) {
            listener.valueUnbound(new SSLSessionBindingEvent(this, name));
        }
    }

    @Override
    public String[] getValueNames() {
        return values.keySet().toArray(new String[0]);
    }

    /** Throws: the peer proved it holds the key, and has no certificate. */
    @Override
    public Certificate[] getPeerCertificates() throws SSLPeerUnverifiedException {
        throw new SSLPeerUnverifiedException("no peer certificates: the peer is authenticated by a pre-shared key");
    }

    @Override
    public Certificate[] getLocalCertificates() {
        return null;
    }

    /** Returns the PSK identity of the key the peer proved it holds. */
    @Override
    public Principal getPeerPrincipal() throws SSLPeerUnverifiedException {
        Principal peer = identity;
        if (peer == null) {
            throw new SSLPeerUnverifiedException("peer not authenticated: the handshake is not done");
        }
        return peer;
    }

    /** Returns the PSK identity of the key this end used, the same as the peer's; null before the handshake. */
    @Override
    public Principal getLocalPrincipal() {
        return identity;
    }

    @Override
    public String getCipherSuite() {
        return cipherSuite;
    }

    @Override
    public String getProtocol() {
        return identity == null ? "NONE" : PROTOCOL;
    }

    /** Returns the host the engine was created for; null if none was given. */
    @Override
    public String getPeerHost() {
        return peerHost;
    }

    /** Returns the port the engine was created for; -1 if none was given. */
    @Override
    public int getPeerPort() {
        return peerPort;
    }

    /** Returns the largest record a peer may send: header, 2^14 bytes of content, and the 256 bytes TLS allows more. */
    @Override
    public int getPacketBufferSize() {
        return RecordProtection.HEADER + RecordProtection.MAX_CIPHERTEXT;
    }

    /** Returns the most application data one record carries, 2^14 bytes. */
    @Override
    public int getApplicationBufferSize() {
        return RecordProtection.MAX_PLAINTEXT;
    }

    @Override
    public String toString() {
        return "PskSession[" + getProtocol() + ", " + cipherSuite + (identity == null ? "" : ", " + identity.getName())
                + "]";
    }

    /** A PSK identity as a principal: public, it crosses the wire in every ClientHello (docs/protocol.md). */
    record PskIdentity(String name) implements Principal {
        @Override
        public String getName() {
            return name;
        }
    }
}
