package dev.fernetjca.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Runs an action on {@code SIGHUP}, the signal that asks a daemon to re-read its configuration ({@code kill -HUP},
 * {@code systemctl reload}), through {@code sun.misc.Signal} of the {@code jdk.unsupported} module: the JDK has no
 * supported API for it. Reached by reflection, so that a JVM without the module (or one started with {@code -Xrs},
 * which leaves signals to the host) only loses the signal.
 *
 * <p>Stateless; the action runs on the JVM's signal dispatcher thread.
 */
final class Hangup {
    private Hangup() {}

    /** Makes {@code SIGHUP} run {@code action}; returns false where this JVM cannot. */
    static boolean handle(Runnable action) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            InvocationHandler onSignal = (proxy, method, arguments) -> dispatch(proxy, method, arguments, action);
            Object proxy = Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler}, onSignal);
            Object hangup = signal.getConstructor(String.class).newInstance("HUP");
            signal.getMethod("handle", signal, handler).invoke(null, hangup, proxy);
            return true;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            // no jdk.unsupported, or HUP taken (-Xrs) or unknown on this platform
            return false;
        }
    }

    private static Object dispatch(Object proxy, Method method, Object[] arguments, Runnable action) {
        switch (method.getName()) {
            case "handle":
                action.run();
                return null;
            case "equals":
                return proxy == arguments[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            default:
                return "Hangup";
        }
    }
}
