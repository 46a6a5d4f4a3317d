package dev.fernetjca.cli;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts a tunnel's connections against its {@link Tunnel.Limits}: slots of established connections, and pending
 * slots of peers yet to prove their key, bounded in all and per source address, so that peers still proving it never
 * take the slots of established connections.
 *
 * <p>Thread-safe: each take and release is one atomic step, so a release racing with a take neither loses nor doubles
 * a count.
 */
final class TunnelSlots {
    private final Tunnel.Limits limits;
    private final AtomicInteger established = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final Map<InetAddress, Integer> pendingByAddress = new ConcurrentHashMap<>();

    TunnelSlots(Tunnel.Limits limits) {
        this.limits = limits;
    }

    /** Takes a slot of an established connection; returns why not, or null. */
    String reserveConnection() {
        while (true) {
            int open = established.get();
            if (open >= limits.maxConnections()) {
                return limits.maxConnections() + " connections already open";
            }
            if (established.compareAndSet(open, open + 1)) {
                return null;
            }
        }
    }

    void releaseConnection() {
        established.decrementAndGet();
    }

    /** Takes a pending slot for a peer yet to prove its key; returns why not, or null. */
    String reservePending(InetAddress source) {
        if (pending.incrementAndGet() > limits.maxPending()) {
            pending.decrementAndGet();
            return limits.maxPending() + " handshakes already pending";
        }
        boolean[] full = new boolean[1];
        // one atomic step per address: a release racing with this take can neither lose nor double a count
        pendingByAddress.compute(source, (address, count) -> {
            int taken = count == null ? 0 : count;
            full[0] = taken >= limits.maxPendingPerAddress();
            return full[0] ? count : Integer.valueOf(taken + 1);
        });
        if (full[0]) {
            pending.decrementAndGet();
            return limits.maxPendingPerAddress() + " handshakes already pending from this address";
        }
        return null;
    }

    void releasePending(InetAddress source) {
        pending.decrementAndGet();
        pendingByAddress.computeIfPresent(source, (address, count) -> count <= 1 ? null : count - 1);
    }

    int pending() {
        return pending.get();
    }

    /**
     * Returns the key under which a peer's address is counted and its log lines limited: the address itself, or for
     * IPv6 its /64, since one host or one customer commonly holds a whole /64 and could otherwise use a fresh address
     * for each connection.
     */
    static InetAddress sourceKey(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] prefix = Arrays.copyOf(address.getAddress(), 16);
        Arrays.fill(prefix, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(prefix);
        } catch (UnknownHostException e) {
            throw new AssertionError("16 bytes are always an IPv6 address", e);
        }
    }
}
