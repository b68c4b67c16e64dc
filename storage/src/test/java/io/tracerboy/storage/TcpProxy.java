package io.tracerboy.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL, for causing database outages for real: {@link #refuse()} closes the
 * listening socket (new connections are refused), {@link #dropAll()} resets every open connection (mid-statement,
 * mid-COPY, mid-COMMIT), {@link #restore()} listens again on the same port.
 */
public final class TcpProxy implements AutoCloseable {
    private final String targetHost;
    private final int targetPort;
    private final int port;
    private final List<Socket> open = new ArrayList<>();
    private ServerSocket server;
    private volatile boolean closed;

    /** Proxies to the host and port of {@code jdbcUrl}. */
    public TcpProxy(String jdbcUrl) throws IOException {
        URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
        this.targetHost = uri.getHost();
        this.targetPort = uri.getPort() < 0 ? 5432 : uri.getPort();
        ServerSocket first = listen(0);
        this.port = first.getLocalPort();
        start(first);
    }

    /** The same JDBC URL, pointed at the proxy. */
    public String proxiedUrl(String jdbcUrl) {
        URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
        String authority = uri.getRawAuthority();
        return jdbcUrl.replaceFirst(java.util.regex.Pattern.quote(authority), "127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    /** New connections are refused until {@link #restore()}. */
    public synchronized void refuse() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Resets every open connection. */
    public synchronized void dropAll() {
        for (Socket socket : open) {
            try {
                socket.setSoLinger(true, 0); // RST, not FIN: the peer sees "connection reset"
                socket.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        open.clear();
    }

    /** Accepts connections again, on the same port. */
    public synchronized void restore() throws IOException {
        if (server == null) {
            start(listen(port));
        }
    }

    private static ServerSocket listen(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return socket;
    }

    private synchronized void start(ServerSocket listening) {
        server = listening;
        Thread acceptor = new Thread(() -> {
            while (!closed && !listening.isClosed()) {
                try {
                    Socket client = listening.accept();
                    Socket upstream = new Socket(targetHost, targetPort);
                    synchronized (this) {
                        open.add(client);
                        open.add(upstream);
                    }
                    pump(client, upstream);
                    pump(upstream, client);
                } catch (IOException e) {
                    return; // listening socket closed
                }
            }
        }, "tcp-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private static void pump(Socket from, Socket to) {
        Thread pump = new Thread(() -> {
            byte[] buffer = new byte[16_384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                }
            } catch (IOException ignored) {
                // one side closed or was reset
            } finally {
                try {
                    to.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }, "tcp-proxy-pump");
        pump.setDaemon(true);
        pump.start();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        refuse();
        dropAll();
    }
}
