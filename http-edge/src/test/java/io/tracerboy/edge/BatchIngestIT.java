package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.awaitRowsWritten;
import static io.tracerboy.edge.TestServers.batch;
import static io.tracerboy.edge.TestServers.http;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.tracerboy.ingest.BatchParser;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.EventWindow;
import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import io.undertow.Undertow;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** {@code POST /analytics/batch} and event ids, on a real server and PostgreSQL. */
class BatchIngestIT {
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 60 * Hours.HOUR_MS;
    @RegisterExtension
    static final ServerAndDatabase app = new ServerAndDatabase(Map.of("FLUSH_INTERVAL_MS", "5", "MAX_BATCH_BYTES",
            "65536", "MAX_BATCH_EVENTS", "50", "MAX_LINE_BYTES", "1024"));
    /** Default body limits but MAX_BODY_BYTES at its largest. */
    private static TracerboyServer roomy;

    @BeforeAll
    static void startRoomy() throws Exception {
        roomy = app.another(Map.of("FLUSH_INTERVAL_MS", "5", "MAX_BODY_BYTES", "1048576"));
    }

    private static String line(long timestampMs, String user, String event, String id) {
        return "{\"timestamp\":" + timestampMs + ",\"user\":\"" + user + "\",\"event\":\"" + event + "\""
                + (id == null ? "" : ",\"id\":\"" + id + "\"") + "}";
    }


    private static HttpResponse<String> ndjson(TracerboyServer target, String body) throws Exception {
        return batch(target, "application/x-ndjson", body.getBytes(StandardCharsets.UTF_8));
    }

    private static long stored(String userPrefix) throws Exception {
        return app.database().queryLong("SELECT count(*) FROM events WHERE user_id LIKE '" + userPrefix + "%'");
    }

    private static String counts(long hourMs) throws Exception {
        return send(app.server(), "GET", "/analytics?timestamp=" + hourMs).body();
    }

    @Test
    void acceptsAnNdjsonBatchAndCountsEveryEventInItsHour() throws Exception {
        long hour = HOUR_START_MS - 2 * Hours.HOUR_MS;
        long before = app.server().stats().rowsWritten();
        HttpResponse<String> answer = ndjson(app.server(), line(hour, "nd-a", "click", null) + "\r\n\n"
                + line(hour + 1, "nd-a", "impression", null) + "\n" + line(hour + Hours.HOUR_MS, "nd-b", "click", null)
                + "\n");
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(answer.body()).isEqualTo("{\"accepted\":3}\n");
        awaitRowsWritten(app.server(), before + 3);
        assertThat(counts(hour)).isEqualTo("unique_users,1\nclicks,1\nimpressions,1\n");
        assertThat(counts(hour + Hours.HOUR_MS)).isEqualTo("unique_users,1\nclicks,1\nimpressions,0\n");
    }

    @Test
    void aJsonArrayBodyWorksToo() throws Exception {
        long before = app.server().stats().rowsWritten();
        HttpResponse<String> answer = batch(app.server(), "application/json; charset=utf-8", ("[" + line(HOUR_START_MS,
                "arr-a", "click", null) + "," + line(HOUR_START_MS, "arr-b", "click", null) + "]")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(answer.body()).isEqualTo("{\"accepted\":2}\n");
        awaitRowsWritten(app.server(), before + 2);
        assertThat(stored("arr-")).isEqualTo(2);
    }

    @Test
    void oneBadLineRefusesTheWholeBatchListingItsErrors() throws Exception {
        long acceptedBefore = app.server().stats().accepted();
        HttpResponse<String> answer = ndjson(app.server(), line(HOUR_START_MS, "atomic-a", "click", null) + "\n"
                + line(HOUR_START_MS, "atomic-b", "foo", null) + "\n{\"user\":\"atomic-c\"}\n");
        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(answer.body()).isEqualTo("{\"invalid\":2,\"errors\":[{\"line\":2,\"error\":\"event: expected click "
                + "or impression, found 'foo'\"},{\"line\":3,\"error\":\"event: expected click or impression, found "
                + "nothing\"}]}\n");
        assertThat(app.server().stats().accepted()).isEqualTo(acceptedBefore);
        assertThat(stored("atomic-")).isZero();
    }

    @Test
    void everyLimitAndWrongFormatHasItsStatusAndNamesTheLimit() throws Exception {
        String big = line(HOUR_START_MS, "x".repeat(200), "click", null) + "\n";
        HttpResponse<String> tooLong = ndjson(app.server(), big.repeat(400)); // 88 000 bytes
        assertThat(tooLong.statusCode()).isEqualTo(413);
        assertThat(tooLong.body()).isEqualTo("{\"error\":\"request body: expected at most 65536 bytes "
                + "(MAX_BATCH_BYTES), found " + big.repeat(400).length() + " bytes\"}\n");

        String many = IntStream.range(0, 51).mapToObj(i -> line(HOUR_START_MS, "many-" + i, "click", null))
                .collect(Collectors.joining("\n"));
        HttpResponse<String> tooMany = ndjson(app.server(), many);
        assertThat(tooMany.statusCode()).isEqualTo(413);
        assertThat(tooMany.body()).contains("events: expected at most 50 per request (MAX_BATCH_EVENTS), found more");

        HttpResponse<String> longLine = ndjson(app.server(), line(HOUR_START_MS, "u", "click", "i") .replace("\"u\"",
                "\"u\",\"padding\":\"" + "p".repeat(1_100) + "\""));
        assertThat(longLine.statusCode()).isEqualTo(413);
        assertThat(longLine.body()).contains("(MAX_LINE_BYTES)");

        HttpResponse<String> csv = batch(app.server(), "text/csv", "a,b".getBytes(StandardCharsets.UTF_8));
        assertThat(csv.statusCode()).isEqualTo(415);
        assertThat(csv.body()).isEqualTo("{\"error\":\"Content-Type: expected application/x-ndjson, "
                + "text/plain (NDJSON) or application/json, found 'text/csv'\"}\n");
        HttpResponse<String> brotli = batch(app.server(), "application/x-ndjson", new byte[] {1, 2},
                "Content-Encoding", "br");
        assertThat(brotli.statusCode()).isEqualTo(415);
        assertThat(brotli.body()).isEqualTo("{\"error\":\"Content-Encoding: expected gzip or none, found 'br'\"}\n");
        assertThat(stored("many-")).isZero();
    }

    @Test
    void aChunkedBodyOverTheLimitIs413WithItsSizeAndPublishesNothing() throws Exception {
        long acceptedBefore = app.server().stats().accepted();
        byte[] body = (line(HOUR_START_MS, "chunk-" + "x".repeat(200), "click", null) + "\n").repeat(400)
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + app.server().port() + "/analytics/batch")).header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(),
                HttpResponse.BodyHandlers.ofString()); // no length given: sent chunked
        assertThat(answer.statusCode()).isEqualTo(413);
        assertThat(answer.body()).isEqualTo("{\"error\":\"request body: expected at most 65536 bytes "
                + "(MAX_BATCH_BYTES), found " + body.length + " bytes\"}\n");
        assertThat(app.server().stats().accepted()).isEqualTo(acceptedBefore);
        assertThat(stored("chunk-")).isZero();
    }

    /** How a body is framed on the wire. */
    private enum Framing {
        CONTENT_LENGTH, CONTENT_LENGTH_EXPECT_CONTINUE, CHUNKED, CHUNKED_EXPECT_CONTINUE
    }

    /** An NDJSON body of exactly {@code bytes} bytes: lines of about 4 KB, padded with an unknown field. */
    private static byte[] ndjsonOfExactly(int bytes, String userPrefix) {
        int lines = bytes / 4_000;
        StringBuilder body = new StringBuilder(bytes);
        for (int i = 0; i < lines; i++) {
            String event = "{\"timestamp\":" + HOUR_START_MS + ",\"user\":\"" + userPrefix + i
                    + "\",\"event\":\"click\",\"pad\":\"";
            int length = bytes / lines + (i < bytes % lines ? 1 : 0);
            body.append(event).append("p".repeat(length - event.length() - 3)).append("\"}\n");
        }
        assertThat(body.length()).isEqualTo(bytes);
        return body.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * POSTs {@code body} to {@code path} over a raw socket, so the framing is exactly as asked; with
     * {@code Expect: 100-continue} the body is sent only after a {@code 100}. The body is sent while the answer is
     * read, as curl does, so a refusal that closes the connection mid-body is still seen. Answers all the server sent.
     */
    private static String rawPost(int port, String path, byte[] body, Framing framing) throws Exception {
        boolean chunked = framing == Framing.CHUNKED || framing == Framing.CHUNKED_EXPECT_CONTINUE;
        boolean expect = framing == Framing.CONTENT_LENGTH_EXPECT_CONTINUE
                || framing == Framing.CHUNKED_EXPECT_CONTINUE;
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 65_536);
            InputStream in = socket.getInputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                    + "Connection: close\r\n" + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: "
                    + body.length + "\r\n") + (expect ? "Expect: 100-continue\r\n" : "") + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String interim = "";
            if (expect) {
                interim = readHead(in);
                if (!interim.startsWith("HTTP/1.1 100 ")) {
                    return interim + readRest(in);
                }
            }
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                try {
                    writeBody(out, body, chunked);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String reply = interim + readRest(in);
            try {
                sending.join();
            } catch (CompletionException cutOff) {
                if (!reply.contains("HTTP/1.1 413 ")) {
                    throw cutOff; // only a refusal may stop reading the body
                }
            }
            return reply;
        }
    }

    private static void writeBody(OutputStream out, byte[] body, boolean chunked) throws IOException {
        if (chunked) {
            for (int from = 0; from < body.length; from += 65_536) {
                int length = Math.min(65_536, body.length - from);
                out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body, from, length);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } else {
            out.write(body);
        }
        out.flush();
    }

    /** Reads until the server closes the connection (a reset counts as a close). */
    private static String readRest(InputStream in) throws IOException {
        ByteArrayOutputStream reply = new ByteArrayOutputStream();
        byte[] buffer = new byte[8_192];
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                reply.write(buffer, 0, n);
            }
        } catch (SocketException reset) {
            // closed with a reset: what arrived before is the answer
        }
        return reply.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads one response head, up to and including its blank line. */
    private static String readHead(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.toString();
    }

    /** What {@code action} prints to stderr (still printed), where Undertow 2.4.4 prints some stack traces. */
    private static String stderrDuring(Callable<?> action) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new TeeOutputStream(original, printed), true, StandardCharsets.UTF_8));
        try {
            action.call();
        } finally {
            System.setErr(original);
        }
        return printed.toString(StandardCharsets.UTF_8);
    }

    /** Writes to two streams. */
    private static final class TeeOutputStream extends OutputStream {
        private final OutputStream first;
        private final OutputStream second;

        TeeOutputStream(OutputStream first, OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(int b) throws IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            first.write(bytes, offset, length);
            second.write(bytes, offset, length);
        }
    }

    @Test
    void everyBodyUpToTheDefaultMaxBatchBytesIsAcceptedInEveryFramingAndOneByteMoreIs413() throws Exception {
        // The default 4 MiB is above Undertow's own entity limit, 2 MiB unless set (UndertowOptions.MAX_ENTITY_SIZE).
        int maxBytes = 4_194_304;
        long before = roomy.stats().rowsWritten();
        long[] events = {0};
        String stderr = stderrDuring(() -> {
            for (Framing framing : Framing.values()) {
                for (int bytes : new int[] {3_000_108, maxBytes}) {
                    byte[] body = ndjsonOfExactly(bytes, "max-" + framing.ordinal() + "-" + bytes + "-");
                    String reply = rawPost(roomy.port(), "/analytics/batch", body, framing);
                    int lines = bytes / 4_000;
                    assertThat(reply).as(framing + ", " + bytes + " bytes").startsWith(framing.name().contains(
                            "EXPECT") ? "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 " : "HTTP/1.1 200 ")
                            .endsWith("\r\n\r\n{\"accepted\":" + lines + "}\n");
                    events[0] += lines;
                }
                byte[] over = ndjsonOfExactly(maxBytes + 1, "over-");
                String reply = rawPost(roomy.port(), "/analytics/batch", over, framing);
                // A declared length over the limit is refused before the body is asked for: no 100 first.
                assertThat(reply).as(framing + ", one byte over").startsWith(
                        framing == Framing.CHUNKED_EXPECT_CONTINUE ? "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 "
                                : "HTTP/1.1 413 ")
                        .endsWith("\r\n\r\n{\"error\":\"request body: expected at most 4194304 bytes "
                                + "(MAX_BATCH_BYTES), found 4194305 bytes\"}\n");
            }
            return null;
        });
        assertThat(stderr).doesNotContain("RequestTooBigException");
        awaitRowsWritten(roomy, before + events[0]);
        assertThat(stored("max-")).isEqualTo(events[0]);
        assertThat(stored("over-")).isZero();
    }

    @Test
    void aQueryFormBodyPastUndertowsDefaultLimitMeetsOnlyMaxBodyBytes() throws Exception {
        // MAX_BODY_BYTES at its maximum, 1 MiB, plus the 1 MiB read past it before the 413 is Undertow's 2 MiB.
        long before = roomy.stats().rowsWritten();
        byte[] body = "b".repeat(3 * 1_048_576).getBytes(StandardCharsets.US_ASCII);
        String stderr = stderrDuring(() -> {
            String reply = rawPost(roomy.port(), "/analytics?user=q-big&event=click", body, Framing.CHUNKED);
            // Past the drain allowance the 413 is sent while the client still sends: it may see the reset first.
            assertThat(reply).satisfiesAnyOf(r -> assertThat(r).isEmpty(), r -> assertThat(r).startsWith(
                    "HTTP/1.1 413 ").endsWith("request body: expected at most 1048576 bytes (the event goes in the "
                    + "query string), found more than 2097152 bytes\n"));
            String fits = rawPost(roomy.port(), "/analytics?user=q-fits&event=click", Arrays.copyOf(body,
                    1_048_576), Framing.CHUNKED);
            assertThat(fits).startsWith("HTTP/1.1 204 ");
            return null;
        });
        assertThat(stderr).doesNotContain("RequestTooBigException");
        awaitRowsWritten(roomy, before + 1);
        assertThat(stored("q-")).isEqualTo(1);
    }

    @Test
    void gzipIsAcceptedAndAGzipBombCostsNothingButA413() throws Exception {
        long before = app.server().stats().rowsWritten();
        byte[] zipped = gzip((line(HOUR_START_MS, "gz-a", "click", null) + "\n" + line(HOUR_START_MS, "gz-b",
                "impression", null)).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> answer = batch(app.server(), "application/x-ndjson", zipped, "Content-Encoding", "gzip");
        assertThat(answer.body()).isEqualTo("{\"accepted\":2}\n");
        awaitRowsWritten(app.server(), before + 2);
        assertThat(stored("gz-")).isEqualTo(2);

        byte[] bomb = gzip(new byte[50 * 1024 * 1024]); // 50 MiB of zeros in ~50 KB
        assertThat(bomb.length).isLessThan(65_536);
        HttpResponse<String> refused = batch(app.server(), "application/x-ndjson", bomb, "Content-Encoding", "gzip");
        assertThat(refused.statusCode()).isEqualTo(413);
        assertThat(refused.body()).isEqualTo("{\"error\":\"request body: expected at most 65536 bytes after "
                + "decompression (MAX_BATCH_BYTES), found more\"}\n");
        HttpResponse<String> broken = batch(app.server(), "application/x-ndjson", new byte[] {31, -117, 8, 0, 1},
                "Content-Encoding", "gzip");
        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(broken.body()).isEqualTo("{\"error\":\"request body: expected gzip data, found a gzip stream cut "
                + "short\"}\n");
        assertThat(batch(app.server(), "application/x-ndjson", Arrays.copyOf(zipped, zipped.length - 4),
                "Content-Encoding",
                "gzip").body()).isEqualTo(broken.body());
        assertThat(batch(app.server(), "application/x-ndjson", "{}".getBytes(StandardCharsets.UTF_8),
                "Content-Encoding",
                "gzip").body()).isEqualTo("{\"error\":\"request body: expected gzip data, found data that does not "
                + "start as gzip does (1f 8b)\"}\n");
        byte[] corrupt = zipped.clone();
        for (int i = 12; i < 20; i++) {
            corrupt[i] ^= 0x55;
        }
        assertThat(batch(app.server(), "application/x-ndjson", corrupt, "Content-Encoding", "gzip").body())
                .startsWith("{\"error\":\"request body: expected gzip data, found corrupt gzip data (");
    }

    @Test
    void aJsonArraysErrorsNameEachElementByItsIndexAndNoneOfTheParsersInternals() throws Exception {
        String ok = line(HOUR_START_MS, "index-a", "click", null);
        String numberUser = line(HOUR_START_MS, "index-c", "click", null).replace("\"index-c\"", "1e3");
        HttpResponse<String> answer = batch(app.server(), "application/json", ("[" + ok + "," + ok + "," + ok + ","
                + line(HOUR_START_MS, "index-b", "nope", null) + "," + ok + "," + numberUser + "]")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(answer.body()).isEqualTo("{\"invalid\":2,\"errors\":[{\"index\":3,\"error\":\"event: expected "
                + "click or impression, found 'nope'\"},{\"index\":5,\"error\":\"user: expected a string or an "
                + "integer, found '1e3', a number with a fraction or an exponent\"}]}\n");
        HttpResponse<String> cut = batch(app.server(), "application/json", ("[" + ok + ",{\"user\":\"index-d\"")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(cut.statusCode()).isEqualTo(400);
        assertThat(cut.body()).isEqualTo("{\"error\":\"body: expected a JSON array of events, found invalid JSON "
                + "(Unexpected end-of-input: expected close marker for Object (start marker at line 1, column "
                + (ok.length() + 3) + ")) in the element at index 1\"}\n");
        assertThat(stored("index-")).isZero();
    }

    /** A batch POST that must be answered within a few seconds: a request left open fails it with a timeout. */
    private static HttpResponse<String> promptBatch(int port, String contentType, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/analytics/batch"))
                .header("Content-Type", contentType).timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Everything logged while {@code action} runs, from any logger and thread. */
    private static List<ILoggingEvent> logged(Callable<?> action) throws Exception {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        try {
            action.call();
        } finally {
            root.detachAppender(appender);
        }
        return appender.list;
    }

    @Test
    void aJsonArrayBeyondTheParsersLimitsIsAnswered400WithItsReasonAndNoStackTrace() throws Exception {
        long acceptedBefore = app.server().stats().accepted();
        List<ILoggingEvent> log = logged(() -> {
            HttpResponse<String> deep = promptBatch(app.server().port(), "application/json", "[".repeat(1_500)
                    + "]".repeat(1_500));
            assertThat(deep.statusCode()).isEqualTo(400);
            assertThat(deep.body()).isEqualTo("{\"error\":\"body: expected JSON nested at most 1000 levels deep, "
                    + "found deeper nesting in the element at index 0\"}\n");
            HttpResponse<String> longNumber = promptBatch(app.server().port(), "application/json", "["
                    + line(HOUR_START_MS,
                    "limits-a", "click", null) + ",{\"x\":" + "9".repeat(1_010) + "}]"); // within MAX_LINE_BYTES
            assertThat(longNumber.statusCode()).isEqualTo(400);
            assertThat(longNumber.body()).isEqualTo("{\"error\":\"body: expected numbers of at most 1000 digits, "
                    + "found a longer one in the element at index 1\"}\n");
            HttpResponse<String> longName = promptBatch(app.server().port(), "application/json",
                    "[{\"" + "n".repeat(60_000)
                    + "\":1}]");
            assertThat(longName.statusCode()).isEqualTo(413);
            assertThat(longName.body()).isEqualTo("{\"error\":\"event at index 0: expected at most 1024 bytes "
                    + "(MAX_LINE_BYTES), found more\"}\n");
            return null;
        });
        assertThat(log).noneMatch(event -> event.getThrowableProxy() != null);
        assertThat(app.server().stats().accepted()).isEqualTo(acceptedBefore);
        assertThat(stored("limits-")).isZero();
    }

    @Test
    void anUnexpectedFailureOnTheWorkerThreadIsAnswered500AndLoggedOnOneLine() throws Exception {
        PipelineStats stats = new PipelineStats();
        // The clock is read on the worker thread, between parsing and publishing: a stand-in for any bug there.
        PublishGate gate = new PublishGate(new EventRing(64, System::nanoTime, stats), stats, new ServiceState());
        BatchIngestHandler failing = new BatchIngestHandler(new IngestContext(gate, stats, () -> {
            throw new IllegalStateException("clock broken");
        }, AckMode.BUFFERED, 10_000), new BatchParser(10, 1024, EventWindow.ANY), 65_536, null);
        Undertow bare = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(failing).build();
        bare.start();
        try {
            int port = ((InetSocketAddress) bare.getListenerInfo().get(0).getAddress()).getPort();
            List<ILoggingEvent> log = logged(() -> {
                HttpResponse<String> answer = promptBatch(port, "application/x-ndjson", line(HOUR_START_MS, "bug-a",
                        "click", null));
                assertThat(answer.statusCode()).isEqualTo(500);
                assertThat(answer.body()).isEqualTo("{\"error\":\"internal error: the batch could not be processed "
                        + "(the server log says why)\"}\n");
                return null;
            });
            assertThat(log).noneMatch(event -> event.getThrowableProxy() != null);
            assertThat(log).filteredOn(event -> event.getLevel() == Level.ERROR).singleElement()
                    .extracting(ILoggingEvent::getFormattedMessage).asString()
                    .startsWith("POST /analytics/batch answered 500: java.lang.IllegalStateException: clock broken at ")
                    .doesNotContain("\n");
        } finally {
            bare.stop();
        }
        assertThat(stats.accepted()).isZero();
    }

    @Test
    void anEventIdCountsOnceWhetherResentInTheSameBatchOrAnotherRequestOrTheQueryForm() throws Exception {
        long hour = Hours.startMs(System.currentTimeMillis()) - 5 * Hours.HOUR_MS; // ids are remembered for 24 h
        long before = app.server().stats().rowsWritten() + app.server().stats().resends();
        String body = line(hour, "id-a", "click", "e1") + "\n" + line(hour, "id-a", "click", "e1") + "\n"
                + line(hour + 1, "id-b", "impression", "e2") + "\n" + line(hour + 2, "id-b", "impression", null);
        assertThat(ndjson(app.server(), body).body()).isEqualTo("{\"accepted\":4}\n");
        assertThat(ndjson(app.server(), body).body()).isEqualTo("{\"accepted\":4}\n");
        assertThat(send(app.server(), "POST", "/analytics?timestamp=" + hour + "&user=id-a&event=click&id=e1")
                .statusCode()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).until(() -> app.server().stats().rowsWritten() + app.server().stats()
                .resends()
                >= before + 9);
        // e1 and e2 once each; the event without an id counts each time it is sent.
        assertThat(counts(hour)).isEqualTo("unique_users,2\nclicks,1\nimpressions,3\n");
        assertThat(stored("id-")).isEqualTo(4);
        assertThat(app.database().queryLong("SELECT count(*) FROM events WHERE user_id LIKE 'id-%'"
                + " AND event_key IS NOT NULL"))
                .isEqualTo(2);
    }

    @Test
    void theSameIdInAnotherHourIsAnotherEvent() throws Exception {
        long hour = HOUR_START_MS - 8 * Hours.HOUR_MS;
        long before = app.server().stats().rowsWritten();
        assertThat(ndjson(app.server(), line(hour, "hour-a", "click", "same") + "\n"
                + line(hour + Hours.HOUR_MS, "hour-a", "click", "same")).statusCode()).isEqualTo(200);
        awaitRowsWritten(app.server(), before + 2);
        assertThat(stored("hour-")).isEqualTo(2);
    }

    @Test
    void aFullRingRefusesAWholeBatchAndPublishesNothing() throws Exception {
        try (TestDatabase own = TestDatabase.create(); TcpProxy proxy = new TcpProxy(own.url())) {
            TracerboyServer small = startServer(proxy.proxiedUrl(own.url()), Map.of("RING_SIZE", "64",
                    "FLUSH_INTERVAL_MS", "0"));
            try {
                assertThat(small.awaitReady(60_000)).isTrue();
                proxy.refuse();
                proxy.dropAll(); // the writer takes at most one batch, then waits for the database
                String forty = IntStream.range(0, 40).mapToObj(i -> line(HOUR_START_MS, "ring-" + i, "click", null))
                        .collect(Collectors.joining("\n"));
                assertThat(ndjson(small, forty).statusCode()).isEqualTo(200);
                await().atMost(Duration.ofSeconds(30)).until(() -> small.stats().writesFailing());
                long accepted = small.stats().accepted();
                assertThat(ndjson(small, forty).statusCode()).isEqualTo(200); // 40 in the ring now
                HttpResponse<String> full = ndjson(small, forty); // 40 more do not fit in 64
                assertThat(full.statusCode()).isEqualTo(503);
                assertThat(full.headers().firstValue("Retry-After")).hasValue("1");
                assertThat(full.body()).isEqualTo("{\"error\":\"buffer full: the database is not keeping up; "
                        + "retry later\"}\n");
                // The same as a JSON array, which is parsed before the ring is asked (NDJSON is counted by lines).
                HttpResponse<String> fullArray = batch(small, "application/json", ("[" + forty.replace("\n", ",")
                        + "]").getBytes(StandardCharsets.UTF_8));
                assertThat(fullArray.statusCode()).isEqualTo(503);
                assertThat(fullArray.body()).isEqualTo(full.body());
                assertThat(small.stats().accepted()).isEqualTo(accepted + 40);
                proxy.restore();
                awaitRowsWritten(small, 80);
                assertThat(own.queryLong("SELECT count(*) FROM events")).isEqualTo(80);
            } finally {
                small.close();
            }
        }
    }

    static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
            zip.write(data);
        }
        return out.toByteArray();
    }
}
