/**
 * What the tests of several modules share, kept once so that the copies cannot drift: finding external programs
 * ({@link dev.fernetjca.testing.ExternalTools}), running child processes without the developer's own keys
 * ({@link dev.fernetjca.testing.Processes}, {@link dev.fernetjca.testing.Child}), writing key files
 * ({@link dev.fernetjca.testing.KeyFiles}), a relay that records and injects faults
 * ({@link dev.fernetjca.testing.Relay}), and a server that echoes or answers each connection
 * ({@link dev.fernetjca.testing.EchoServer}).
 *
 * <p>Test code only: the other modules take this one in test scope, and it is never deployed. Arguments are non-null
 * unless a method says otherwise.
 */
package dev.fernetjca.testing;
