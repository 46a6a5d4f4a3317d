package dev.fernetjca.benchmarks;

import dev.fernetjca.net.FernetPskProvider;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslHandler;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * The server JVM of the {@code engines} group of {@link Compare}: a Netty 4.2 server (NIO event loops) with an
 * {@link SslHandler} around an {@link SSLEngine} of {@code engine-fernet}'s {@code SSLContext.getInstance("FernetPSK")}
 * (keys from {@code -Dfernet.keyFile}) or of {@code engine-jsse}'s default JSSE context (TLS 1.3,
 * {@code TLS_AES_128_GCM_SHA256}, the certificate from the {@code javax.net.ssl.keyStore} properties). It prints
 * {@code port N} and speaks the part of {@link BenchServer}'s protocol that {@link BenchClient}'s {@code stream},
 * {@code connect} and {@code rtt} measures use: {@code S} (read a counted stream, acknowledge before and after),
 * {@code C} (answer one byte and close) and {@code E} (echo). The end of standard input ends the process.
 *
 * <p>Runs as a process of its own; not for use as a library.
 */
public final class EngineServer {
    private EngineServer() {}

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        SSLContext context = context(kind);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.config().setTcpNoDelay(true);
                        channel.pipeline().addLast(new SslHandler(engine(kind, context)), new Protocol());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
        System.out.println("port " + ((InetSocketAddress) server.localAddress()).getPort());
        System.out.flush();
        InputStream control = System.in;
        while (control.read() >= 0) {
            // no control lines: the end of standard input is the signal to stop
        }
        server.close().sync();
        group.shutdownGracefully().sync();
        System.exit(0);
    }

    private static SSLContext context(String kind) throws GeneralSecurityException {
        return switch (kind) {
            case "engine-fernet" -> {
                // as a user of a configured deployment would: keys from fernet.keyFile, no key in code
                SSLContext fernet = SSLContext.getInstance("FernetPSK", new FernetPskProvider());
                fernet.init(null, null, null);
                yield fernet;
            }
            case "engine-jsse" -> SSLContext.getDefault();
            default -> throw new IllegalArgumentException("unknown engine: " + kind);
        };
    }

    private static SSLEngine engine(String kind, SSLContext context) {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        if (kind.equals("engine-jsse")) {
            engine.setEnabledProtocols(new String[] {Sockets.TLS13});
            engine.setEnabledCipherSuites(new String[] {Sockets.AES_128_GCM});
        }
        return engine;
    }

    /**
     * {@code S}, {@code C} and {@code E} of {@link BenchServer}, decoded as the bytes arrive. Not thread-safe: one per
     * channel, called on its event loop.
     */
    private static final class Protocol extends ChannelInboundHandlerAdapter {
        private static final int LENGTH_BYTES = Long.BYTES;
        private int command = -1;
        private int lengthBytesRead;
        private long left;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            ByteBuf in = (ByteBuf) message;
            if (command < 0 && in.isReadable()) {
                command = in.readUnsignedByte();
                if (command == 'C') {
                    in.release();
                    ctx.writeAndFlush(answer(ctx)).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
            }
            if (command == 'E' && in.isReadable()) {
                ctx.write(in); // released by the write
                return;
            }
            try {
                if (command == 'S') {
                    count(ctx, in);
                }
                // anything after the counted stream, or after an unknown command, is read and dropped
            } finally {
                in.release();
            }
        }

        private void count(ChannelHandlerContext ctx, ByteBuf in) {
            while (lengthBytesRead < LENGTH_BYTES && in.isReadable()) {
                left = left << 8 | (in.readByte() & 0xff);
                if (++lengthBytesRead == LENGTH_BYTES) {
                    ctx.writeAndFlush(answer(ctx));
                    if (left == 0) {
                        ctx.writeAndFlush(answer(ctx));
                    }
                }
            }
            if (lengthBytesRead == LENGTH_BYTES && left > 0) {
                int skipped = (int) Math.min(left, in.readableBytes());
                in.skipBytes(skipped);
                left -= skipped;
                if (left == 0) {
                    ctx.writeAndFlush(answer(ctx));
                }
            }
        }

        private static ByteBuf answer(ChannelHandlerContext ctx) {
            return ctx.alloc().buffer(1).writeByte('k');
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // the client went away or failed; its own figures say whether that was expected
            ctx.close();
        }
    }
}
