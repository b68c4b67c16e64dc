package io.tracerboy.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL, for causing database outages for real: {@link #refuse()} resets
 * every new connection at once, {@link #dropAll()} resets every open connection (mid-statement, mid-COPY, mid-COMMIT),
 * {@link #restore()} lets new connections through again, {@link #loseReplyTo(String)} lets one
 * statement reach the server, then drops its reply and every connection and refuses new ones (a COMMIT whose outcome
 * the client cannot know), and {@link #stall()} stops moving bytes until {@link #resume()} (a server stopped with
 * {@code SIGSTOP}).
 */
public final class TcpProxy implements AutoCloseable {
    private final String targetHost;
    private final int targetPort;
    private final int port;
    private final List<Socket> open = new ArrayList<>();
    private ServerSocket server;
    private volatile boolean refusing;
    private volatile boolean closed;
    private volatile byte[] replyLostMarker;
    private volatile CountDownLatch replyLost = new CountDownLatch(1);
    private final Object stall = new Object();
    private boolean stalled; // guarded by stall

    /** Proxies to the host and port of {@code jdbcUrl}. */
    public TcpProxy(String jdbcUrl) throws IOException {
        this(uri(jdbcUrl).getHost(), postgresPort(uri(jdbcUrl)));
    }

    private static URI uri(String jdbcUrl) {
        return URI.create(jdbcUrl.substring("jdbc:".length()));
    }

    private static int postgresPort(URI uri) {
        return uri.getPort() < 0 ? 5432 : uri.getPort();
    }

    /** Proxies to {@code targetHost:targetPort} (an HTTP server too: the proxy only moves bytes). */
    public TcpProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        ServerSocket first = listen(0);
        this.port = first.getLocalPort();
        start(first);
    }

    /** The same JDBC URL, pointed at the proxy. */
    public String proxiedUrl(String jdbcUrl) {
        String authority = uri(jdbcUrl).getRawAuthority();
        return jdbcUrl.replaceFirst(java.util.regex.Pattern.quote(authority), "127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    /**
     * New connections are reset at once until {@link #restore()}. The port stays bound: closing it would let another
     * socket (an ephemeral port of any client on the machine) take it, and the restore would then fail with "Address
     * already in use" (seen in EventIdsIT).
     */
    public synchronized void refuse() {
        refusing = true;
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

    /**
     * Arms a one-shot cut: the next client message containing {@code statementText} (e.g. "COMMIT"; use
     * {@code prepareThreshold=0} so the text is sent every time) reaches the server, and once the server's reply comes
     * back it is dropped, every open connection reset and new connections refused.
     */
    public synchronized void loseReplyTo(String statementText) {
        replyLost = new CountDownLatch(1);
        replyLostMarker = statementText.getBytes(StandardCharsets.US_ASCII);
    }

    /** Disarms a cut that has not happened yet. */
    public synchronized void disarm() {
        replyLostMarker = null;
    }

    /** Waits until the armed cut has happened. */
    public boolean awaitReplyLost(long timeoutMs) throws InterruptedException {
        return replyLost.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Stops moving bytes either way until {@link #resume()}, as a server stopped with {@code SIGSTOP} would: open
     * connections stay open and silent, new ones are accepted (the kernel's backlog) and get no answer either.
     */
    public void stall() {
        synchronized (stall) {
            stalled = true;
        }
    }

    /** Moves bytes again, those held during the stall first. */
    public void resume() {
        synchronized (stall) {
            stalled = false;
            stall.notifyAll();
        }
    }

    private void awaitNotStalled() throws InterruptedException {
        synchronized (stall) {
            while (stalled) {
                stall.wait();
            }
        }
    }

    /** Accepts connections again, on the same port. */
    public synchronized void restore() {
        refusing = false;
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
                Socket client;
                try {
                    client = listening.accept();
                } catch (IOException e) {
                    return; // listening socket closed
                }
                try {
                    if (refusing) {
                        client.setSoLinger(true, 0);
                        client.close();
                        continue;
                    }
                    Socket upstream;
                    try {
                        upstream = new Socket(targetHost, targetPort);
                    } catch (IOException serverDown) {
                        // As the server itself would be: this connection fails, the next may not (it may be back).
                        client.setSoLinger(true, 0);
                        client.close();
                        continue;
                    }
                    synchronized (this) {
                        open.add(client);
                        open.add(upstream);
                    }
                    AtomicBoolean swallowReplies = new AtomicBoolean();
                    pumpToServer(client, upstream, swallowReplies);
                    pumpToClient(upstream, client, swallowReplies);
                } catch (IOException e) {
                    // this one connection failed; keep accepting
                }
            }
        }, "tcp-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void pumpToServer(Socket client, Socket upstream, AtomicBoolean swallowReplies) {
        pump(client, upstream, (buffer, n) -> {
            byte[] marker = replyLostMarker;
            if (marker != null && contains(buffer, n, marker)) {
                replyLostMarker = null;
                swallowReplies.set(true);
            }
            return true;
        });
    }

    private void pumpToClient(Socket upstream, Socket client, AtomicBoolean swallowReplies) {
        pump(upstream, client, (buffer, n) -> {
            if (!swallowReplies.get()) {
                return true;
            }
            refuse();
            dropAll(); // every pooled connection too: no other one may carry the retry
            replyLost.countDown();
            return false;
        });
    }

    /** Decides, for each chunk read, whether it is forwarded (true) or the pump stops (false). */
    private interface Forwarding {
        boolean forward(byte[] buffer, int n);
    }

    private void pump(Socket from, Socket to, Forwarding forwarding) {
        Thread pump = new Thread(() -> {
            byte[] buffer = new byte[16_384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    awaitNotStalled();
                    if (!forwarding.forward(buffer, n)) {
                        return;
                    }
                    out.write(buffer, 0, n);
                }
            } catch (IOException | InterruptedException ignored) {
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

    private static boolean contains(byte[] buffer, int n, byte[] marker) {
        outer:
        for (int i = 0; i + marker.length <= n; i++) {
            for (int j = 0; j < marker.length; j++) {
                if (buffer[i + j] != marker[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        resume();
        refuse();
        synchronized (this) {
            server.close();
        }
        dropAll();
    }
}
