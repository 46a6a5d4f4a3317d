package dev.fernetjca.net;

import edu.umd.cs.findbugs.annotations.SuppressFBWarnings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;
import java.util.Set;

/**
 * The plain {@link Socket} delegation of {@link FernetSocket}, as the JDK's {@code BaseSSLSocketImpl} is for its TLS
 * socket: options, addresses and state are the wrapped socket's, so that the subclass holds only what encryption
 * changes (streams, connect, close, shutdown, timeouts). Urgent data and channels are refused: they would bypass
 * the encryption.
 *
 * <p>As thread-safe as the wrapped socket.
 */
abstract class DelegatingSocket extends Socket {
    /** The plain socket whose bytes are encrypted. */
    final Socket raw;

    @SuppressFBWarnings(
            value = "UNENCRYPTED_SOCKET",
            justification =
                    "this Socket is only a wrapper; every byte goes through the raw socket, encrypted by the subclass")
    DelegatingSocket(Socket raw) {
        this.raw = raw;
    }

    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        raw.bind(bindpoint);
    }

    /** Refuses: TCP urgent data would bypass TLS. */
    @Override
    public void sendUrgentData(int data) throws IOException {
        throw new SocketException("urgent data cannot be sent over TLS");
    }

    /** Returns null: a channel would bypass TLS. */
    @Override
    public SocketChannel getChannel() {
        return null;
    }

    @Override
    public InetAddress getInetAddress() {
        return raw.getInetAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        return raw.getLocalAddress();
    }

    @Override
    public int getPort() {
        return raw.getPort();
    }

    @Override
    public int getLocalPort() {
        return raw.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return raw.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return raw.getLocalSocketAddress();
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        raw.setTcpNoDelay(on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return raw.getTcpNoDelay();
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        raw.setSoLinger(on, linger);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return raw.getSoLinger();
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        raw.setOOBInline(on);
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        return raw.getOOBInline();
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        raw.setSendBufferSize(size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return raw.getSendBufferSize();
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        raw.setReceiveBufferSize(size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return raw.getReceiveBufferSize();
    }

    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        raw.setKeepAlive(on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return raw.getKeepAlive();
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        raw.setTrafficClass(tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return raw.getTrafficClass();
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        raw.setReuseAddress(on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return raw.getReuseAddress();
    }

    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        raw.setPerformancePreferences(connectionTime, latency, bandwidth);
    }

    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
        raw.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return raw.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return raw.supportedOptions();
    }

    @Override
    public boolean isConnected() {
        return raw.isConnected();
    }

    @Override
    public boolean isBound() {
        return raw.isBound();
    }

    @Override
    public boolean isClosed() {
        return raw.isClosed();
    }

    @Override
    public boolean isOutputShutdown() {
        return raw.isOutputShutdown();
    }
}
