/**
 * Socket factories whose sockets speak TLS 1.3 with an external pre-shared key derived from a Fernet key, so that code
 * which takes a {@link javax.net.SocketFactory}, a {@link javax.net.ServerSocketFactory} or an RMI socket factory by
 * class name gains encryption by configuration; {@link dev.fernetjca.net.FernetPskProvider} offers the same protocol as
 * an {@code SSLContext} for NIO servers, HTTP clients and Netty. The wire protocol is described in
 * {@code docs/protocol.md}.
 *
 * <p>Arguments and return values are non-null unless a member says otherwise.
 */
package dev.fernetjca.net;
