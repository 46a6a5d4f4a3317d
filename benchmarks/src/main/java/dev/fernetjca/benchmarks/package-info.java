/**
 * JMH benchmarks of the Fernet Cipher, side by side with a raw JDK baseline and fernet-java8.
 *
 * <p>Run them from {@code benchmarks/target/benchmarks.jar}; docs/benchmarks.md has the commands and the results.
 * Arguments and results are non-null unless documented otherwise.
 */
package dev.fernetjca.benchmarks;
