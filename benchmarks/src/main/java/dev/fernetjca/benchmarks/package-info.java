/**
 * Benchmarks: JMH benchmarks of the Fernet Cipher, side by side with a raw JDK baseline and fernet-java8; and
 * {@link dev.fernetjca.benchmarks.Compare}, the side-by-side comparison of the sockets, the tunnel, the RMI factories,
 * the CLI and the {@code SSLEngine} (in a Netty server) against JSSE, stunnel, spiped, Python and OpenSSL, each server
 * and client in a process of its own.
 *
 * <p>Run them from {@code benchmarks/target/benchmarks.jar}; docs/benchmarks.md has the commands and the results.
 * Arguments and results are non-null unless documented otherwise.
 */
package dev.fernetjca.benchmarks;
