package dev.fernetjca.it;

import static dev.fernetjca.it.SslContextIT.newKey;
import static dev.fernetjca.it.SslContextIT.random;
import static dev.fernetjca.it.SslContextIT.sha256;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.net.FernetPskProvider;
import dev.fernetjca.net.FernetSocketFactory;
import dev.fernetjca.testing.Child;
import dev.fernetjca.testing.ExternalTools;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Netty 4.2 over our {@code SSLEngine}: the server through Netty's {@link JdkSslContext}, the client with an
 * {@link SslHandler} around an engine of our context, as docs/guides/sslcontext.md shows. Eight connections echo 8 MiB
 * each, checked by SHA-256 both ways.
 */
@Timeout(60)
class NettyIT {
    private static final int CONNECTIONS = 8;
    private static final int BYTES = 8 << 20;
    private static final int CHUNK = 64 << 10;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());

    @AfterEach
    void stopLoops() throws InterruptedException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }

    @Test
    void eightConnectionsEchoEightMebibytesEach() throws Exception {
        SecretKey key = newKey();
        SSLContext context = FernetPskProvider.sslContext(key);
        Channel server = echoServer(context);
        try {
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            List<CompletableFuture<byte[]>> echoes = new ArrayList<>();
            List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                byte[] data = random(BYTES, i);
                sent.add(sha256(data));
                echoes.add(client(context, port, data));
            }
            for (int i = 0; i < CONNECTIONS; i++) {
                assertArrayEquals(sent.get(i), echoes.get(i).get(45, TimeUnit.SECONDS), "connection " + i);
            }
        } finally {
            server.close().sync();
        }
    }

    @Test
    void aClientWithAnotherKeyIsRefused() throws Exception {
        Channel server = echoServer(FernetPskProvider.sslContext(newKey()));
        try {
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            CompletableFuture<byte[]> echo = client(FernetPskProvider.sslContext(newKey()), port, new byte[] {1});
            ExecutionException e = assertThrows(ExecutionException.class, () -> echo.get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof SSLHandshakeException, String.valueOf(e.getCause()));
            assertTrue(
                    e.getCause().getMessage().contains("does not hold a matching Fernet key"),
                    e.getCause().getMessage());
        } finally {
            server.close().sync();
        }
    }

    @Test
    void opensslClientTalksToANettyServer() throws Exception {
        String openssl = ExternalTools.openssl().toString();
        SecretKey key = newKey();
        String[] psk = FernetSocketFactory.externalPsks(key).get(0).split(" ");
        Channel server = echoServer(FernetPskProvider.sslContext(key));
        try (Child client = Child.start(
                openssl,
                "s_client",
                "-tls1_3",
                "-psk_identity",
                psk[0],
                "-psk",
                psk[1],
                "-groups",
                "X25519",
                "-connect",
                "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort())) {
            client.stdin().write("hello netty\n".getBytes(UTF_8));
            client.stdin().flush();
            client.awaitLine("hello netty"::equals, Duration.ofSeconds(20));
            client.closeInput(); // s_client sends close_notify at the end of its input
            assertEquals(0, client.waitFor(Duration.ofSeconds(20)), client.output());
        } finally {
            server.close().sync();
        }
    }

    /** An echo server: Netty's JdkSslContext around our SSLContext, as a server with no client certificates. */
    private Channel echoServer(SSLContext context) throws InterruptedException {
        SslContext netty = new JdkSslContext(context, false, ClientAuth.NONE);
        return new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline()
                                .addLast(netty.newHandler(channel.alloc()), new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object message) {
                                        ctx.write(message);
                                    }

                                    @Override
                                    public void channelReadComplete(ChannelHandlerContext ctx) {
                                        ctx.flush();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close();
                                    }
                                });
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
    }

    /** Connects, sends {@code data} once the handshake is done, and completes with the SHA-256 of the echo. */
    private CompletableFuture<byte[]> client(SSLContext context, int port, byte[] data) throws Exception {
        CompletableFuture<byte[]> echo = new CompletableFuture<>();
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        SSLEngine engine = context.createSSLEngine("localhost", port);
                        engine.setUseClientMode(true);
                        SslHandler tls = new SslHandler(engine);
                        tls.handshakeFuture().addListener(done -> {
                            if (!done.isSuccess()) {
                                echo.completeExceptionally(done.cause());
                                return;
                            }
                            for (int offset = 0; offset < data.length; offset += CHUNK) {
                                int length = Math.min(CHUNK, data.length - offset);
                                channel.write(Unpooled.wrappedBuffer(data, offset, length));
                            }
                            channel.flush();
                        });
                        channel.pipeline().addLast(tls, new ChannelInboundHandlerAdapter() {
                            private long received;

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object message) {
                                ByteBuf bytes = (ByteBuf) message;
                                try {
                                    received += bytes.readableBytes();
                                    digest.update(bytes.nioBuffer());
                                } finally {
                                    bytes.release();
                                }
                                if (received == data.length) {
                                    echo.complete(digest.digest());
                                    ctx.close();
                                }
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                echo.completeExceptionally(cause);
                                ctx.close();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                echo.completeExceptionally(new IllegalStateException("closed after " + received));
                            }
                        });
                    }
                })
                .connect(InetAddress.getLoopbackAddress(), port);
        return echo;
    }

    /**
     * Netty's JdkSslContext keeps, of the engine's suites, those on its own default list: AES-128-GCM only. Our engine
     * honours that subset; naming both suites enables ChaCha20-Poly1305 too.
     */
    @Test
    void jdkSslContextEnablesTheSuitesItIsGiven() {
        SSLContext context = FernetPskProvider.sslContext(newKeyUnchecked());
        assertEquals(
                List.of("TLS_AES_128_GCM_SHA256"), new JdkSslContext(context, true, ClientAuth.NONE).cipherSuites());
        List<String> both = List.of("TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256");
        SslContext named = new JdkSslContext(
                context, true, both, IdentityCipherSuiteFilter.INSTANCE, null, ClientAuth.NONE, null, false);
        assertEquals(both, named.cipherSuites());
    }

    private static SecretKey newKeyUnchecked() {
        try {
            return newKey();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
