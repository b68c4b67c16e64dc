package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Clients that send too much, too slowly, or garbage cannot stall others. */
class HostileClientIT {
    @RegisterExtension
    static final ServerAndDatabase app = new ServerAndDatabase(Map.of("REQUEST_TIMEOUT_MS", "300",
            "IDLE_TIMEOUT_MS", "300", "MAX_HEADER_BYTES", "4096", "MAX_BODY_BYTES", "1024", "IO_THREADS", "1"));

    private static Socket connect() throws Exception {
        Socket socket = new Socket("127.0.0.1", app.server().port());
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static String readAll(Socket socket) throws Exception {
        InputStream in = socket.getInputStream();
        StringBuilder reply = new StringBuilder();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                reply.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (java.net.SocketException reset) {
            // closed by the server with a reset: as good as a FIN here
        }
        return reply.toString();
    }

    @Test
    void slowClientsAreCutOffAndDoNotDelayOthers() throws Exception {
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Socket socket = connect();
            OutputStream out = socket.getOutputStream();
            out.write("POST /analytics?user=slow&event=cl".getBytes(StandardCharsets.US_ASCII)); // and never finish
            out.flush();
            slow.add(socket);
        }
        // With one IO thread held by nobody, others are served at once.
        assertThat(send(app.server(), "POST", "/analytics?user=prompt&event=click").statusCode()).isEqualTo(204);
        for (Socket socket : slow) {
            // The server closes each half-sent request after REQUEST_TIMEOUT_MS (read returns end of stream) without
            // answering: a request line never finished has no status to give.
            assertThat(readAll(socket)).isEmpty();
            socket.close();
        }
        assertThat(app.database().queryLong("SELECT count(*) FROM events WHERE user_id = 'slow'")).isZero();
    }

    @Test
    void anIdleKeepAliveConnectionIsClosed() throws Exception {
        try (Socket socket = connect()) {
            socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(
                    StandardCharsets.US_ASCII));
            String reply = readAll(socket); // returns once the server closes the idle connection
            assertThat(reply).startsWith("HTTP/1.1 200 ").contains("alive");
        }
    }

    @Test
    void oversizedHeadersAreRefusedAndTheServerKeepsServing() throws Exception {
        try (Socket socket = connect()) {
            String huge = "X-Padding: " + "a".repeat(8_000) + "\r\n";
            socket.getOutputStream().write(("POST /analytics?user=big&event=click HTTP/1.1\r\nHost: x\r\n" + huge
                    + "\r\n").getBytes(StandardCharsets.US_ASCII));
            // Undertow's request parser refuses it before any handler runs: an empty 400, connection closed.
            assertThat(readAll(socket)).startsWith("HTTP/1.1 400 ").contains("Connection: close");
        }
        assertThat(send(app.server(), "POST", "/analytics?user=after-big&event=click").statusCode()).isEqualTo(204);
        assertThat(app.database().queryLong("SELECT count(*) FROM events WHERE user_id = 'big'")).isZero();
    }

    @Test
    void anOversizedBodyIsRefused() throws Exception {
        try (Socket socket = connect()) {
            String body = "b".repeat(4_000);
            socket.getOutputStream().write(("POST /analytics?user=body&event=click HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                    .getBytes(StandardCharsets.US_ASCII));
            String reply = readAll(socket);
            assertThat(reply).startsWith("HTTP/1.1 413 ").endsWith("request body: expected at most 1024 bytes (the "
                    + "event goes in the query string), found 4000 bytes\n");
        }
        assertThat(app.database().queryLong("SELECT count(*) FROM events WHERE user_id = 'body'")).isZero();
    }

    @Test
    void aChunkedBodyOverTheLimitIs413AndPublishesNothing() throws Exception {
        long acceptedBefore = app.server().stats().accepted();
        try (Socket socket = connect()) {
            String chunk = "c".repeat(800);
            String chunked = ("320\r\n" + chunk + "\r\n").repeat(3) + "0\r\n\r\n"; // 3 × 800 bytes > 1024
            socket.getOutputStream().write(("POST /analytics?user=chunked&event=click HTTP/1.1\r\nHost: x\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n" + chunked).getBytes(StandardCharsets.US_ASCII));
            String reply = readAll(socket);
            assertThat(reply).startsWith("HTTP/1.1 413 ").endsWith("request body: expected at most 1024 bytes (the "
                    + "event goes in the query string), found 2400 bytes\n");
        }
        assertThat(app.server().stats().accepted()).isEqualTo(acceptedBefore);
        assertThat(send(app.server(), "POST", "/analytics?user=after-chunked&event=click").statusCode()).isEqualTo(204);
        assertThat(app.database().queryLong("SELECT count(*) FROM events WHERE user_id = 'chunked'")).isZero();
    }

    @Test
    void aSmallChunkedBodyIsReadAndTheEventCountedOnce() throws Exception {
        long acceptedBefore = app.server().stats().accepted();
        try (Socket socket = connect()) {
            socket.getOutputStream().write(("POST /analytics?user=small-chunked&event=click HTTP/1.1\r\nHost: x\r\n"
                    + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(readAll(socket)).startsWith("HTTP/1.1 204 ");
        }
        assertThat(app.server().stats().accepted()).isEqualTo(acceptedBefore + 1);
    }

    @Test
    void expectContinueGets100ThenTheFinalStatusAndCountsOnce() throws Exception {
        long acceptedBefore = app.server().stats().accepted();
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /analytics?user=continue&event=click HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    + "Content-Length: 5\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] interim = new byte[25];
            int n = socket.getInputStream().readNBytes(interim, 0, interim.length);
            assertThat(new String(interim, 0, n, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
            assertThat(app.server().stats().accepted()).as("nothing published before the body")
                    .isEqualTo(acceptedBefore);
            out.write("hello".getBytes(StandardCharsets.US_ASCII));
            assertThat(readAll(socket)).startsWith("HTTP/1.1 204 ");
        }
        assertThat(app.server().stats().accepted()).isEqualTo(acceptedBefore + 1);
    }

    @Test
    void expectContinueWithABodyNeverSentIsCutOffAfterTheRequestTimeoutAndNotCounted() throws Exception {
        long acceptedBefore = app.server().stats().accepted();
        try (Socket socket = connect()) {
            socket.getOutputStream().write(("POST /analytics?user=never&event=click HTTP/1.1\r\nHost: x\r\n"
                    + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String reply = readAll(socket); // returns once the server closes after REQUEST_TIMEOUT_MS
            assertThat(reply).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        }
        assertThat(app.server().stats().accepted()).isEqualTo(acceptedBefore);
        assertThat(app.database().queryLong("SELECT count(*) FROM events WHERE user_id = 'never'")).isZero();
    }

    @Test
    void garbageIsAnsweredWith400AndTheConnectionClosed() throws Exception {
        try (Socket socket = connect()) {
            socket.getOutputStream().write("\u0001\u0002 NONSENSE\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(readAll(socket)).startsWith("HTTP/1.1 400 ");
        }
        assertThat(send(app.server(), "GET", "/healthz").statusCode()).isEqualTo(200);
    }
}
