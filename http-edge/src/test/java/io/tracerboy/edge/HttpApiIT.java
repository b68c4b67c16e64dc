package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.awaitRowsWritten;
import static io.tracerboy.edge.TestServers.http;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class HttpApiIT {
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long PAST_HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;

    @RegisterExtension
    static final ServerAndDatabase app = new ServerAndDatabase(Map.of("FLUSH_INTERVAL_MS", "5"));

    private static HttpResponse<String> post(String query) throws Exception {
        return send(app.server(), "POST", "/analytics?" + query);
    }

    @Test
    void postsAreCountedExactlyPerUtcHour() throws Exception {
        long hour = PAST_HOUR_START_MS - 10 * Hours.HOUR_MS;
        long before = app.server().stats().rowsWritten();
        List<String> queries = List.of(
                "timestamp=" + hour + "&user=alice&event=click",
                "timestamp=" + (hour + 1) + "&user=alice&event=impression",
                "timestamp=" + (hour + Hours.HOUR_MS - 1) + "&user=bob&event=impression",
                "timestamp=" + (hour + Hours.HOUR_MS) + "&user=carol&event=click");
        for (String query : queries) {
            HttpResponse<String> response = post(query);
            assertThat(response.statusCode()).isEqualTo(204);
            assertThat(response.body()).isEmpty();
        }
        awaitRowsWritten(app.server(), before + queries.size());

        HttpResponse<String> first = send(app.server(), "GET", "/analytics?timestamp=" + (hour + 1234));
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
        assertThat(first.body()).isEqualTo("unique_users,2\nclicks,1\nimpressions,2\n");
        assertThat(send(app.server(), "GET", "/analytics?timestamp=" + (hour + Hours.HOUR_MS)).body())
                .isEqualTo("unique_users,1\nclicks,1\nimpressions,0\n");
        assertThat(send(app.server(), "GET", "/analytics?timestamp=" + (hour - 1)).body())
                .isEqualTo("unique_users,0\nclicks,0\nimpressions,0\n");
    }

    @Test
    void withoutTimestampAPostCountsAtTheServersTimeAndAGetReadsTheServersCurrentHour() throws Exception {
        long hour = PAST_HOUR_START_MS - 50 * Hours.HOUR_MS;
        String zeros = "unique_users,0\nclicks,0\nimpressions,0\n";
        // The server's wall clock, pinned to the last millisecond of the hour, then moved into the next one.
        AtomicLong nowMs = new AtomicLong(hour + Hours.HOUR_MS - 1);
        try (TracerboyServer pinned = startServer(app.database().url(), Map.of("FLUSH_INTERVAL_MS", "5"), nowMs::get)) {
            assertThat(pinned.awaitReady(60_000)).isTrue();
            assertThat(send(pinned, "GET", "/analytics").body()).isEqualTo(zeros);
            assertThat(send(pinned, "POST", "/analytics?user=late-in-the-hour&event=click").statusCode())
                    .isEqualTo(204);
            awaitRowsWritten(pinned, 1);
            assertThat(storedAtMs("late-in-the-hour")).isEqualTo(hour + Hours.HOUR_MS - 1);
            assertThat(send(pinned, "GET", "/analytics").body()).isEqualTo("unique_users,1\nclicks,1\nimpressions,0\n");

            nowMs.incrementAndGet();
            assertThat(send(pinned, "GET", "/analytics").body()).isEqualTo(zeros);
            assertThat(send(pinned, "POST", "/analytics?user=early-in-the-next&event=impression").statusCode())
                    .isEqualTo(204);
            awaitRowsWritten(pinned, 2);
            assertThat(storedAtMs("early-in-the-next")).isEqualTo(hour + Hours.HOUR_MS);
            assertThat(send(pinned, "GET", "/analytics").body()).isEqualTo("unique_users,1\nclicks,0\nimpressions,1\n");
            assertThat(send(pinned, "GET", "/analytics?timestamp=" + hour).body())
                    .isEqualTo("unique_users,1\nclicks,1\nimpressions,0\n");
        }
    }

    private static long storedAtMs(String user) throws Exception {
        return app.database()
                .queryLong("SELECT (extract(epoch FROM ts) * 1000)::bigint FROM events WHERE user_id = '" + user
                + "'");
    }

    @Test
    void awkwardUserIdsAreStoredExactlyAsSent() throws Exception {
        long hour = PAST_HOUR_START_MS - 20 * Hours.HOUR_MS;
        Map<String, String> sent = Map.of("a%09b", "a\tb", "a%0Ab", "a\nb", "a+b", "a b", "a%20c", "a c",
                "%5CN", "\\N", "a%5Cb", "a\\b", "%C3%A9%F0%9F%98%80", "é😀", "%22%2C%27", "\",'");
        long before = app.server().stats().rowsWritten();
        for (String encoded : sent.keySet()) {
            assertThat(post("timestamp=" + hour + "&user=" + encoded + "&event=click").statusCode()).isEqualTo(204);
        }
        awaitRowsWritten(app.server(), before + sent.size());
        List<String> stored = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(app.database().url());
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT user_id FROM events WHERE ts = to_timestamp(" + hour / 1000
                     + ")")) {
            while (rs.next()) {
                stored.add(rs.getString(1));
            }
        }
        assertThat(stored).containsExactlyInAnyOrderElementsOf(sent.values());
        assertThat(send(app.server(), "GET", "/analytics?timestamp=" + hour).body())
                .isEqualTo("unique_users,8\nclicks,8\nimpressions,0\n");
    }

    @Test
    void badInputGetsA400WithAOneLineReasonAndNothingIsStored() throws Exception {
        long before = app.server().stats().accepted();
        Map<String, String> cases = Map.of(
                "user=u&event=foo", "event: expected click or impression, found 'foo'\n",
                "event=click", "user: expected a user id of 1 to 256 bytes, found nothing\n",
                "user=u&event=click&timestamp=1662981405", "timestamp: expected milliseconds since the epoch, found "
                        + "'1662981405', which looks like seconds (2022-09-12T11:16:45Z); multiply it by 1000\n",
                "user=u&event=click&timestamp=-1", "timestamp: expected a whole, non-negative number of milliseconds "
                        + "since the epoch, found '-1'\n",
                "user=%FF%FE&event=click", "user: expected UTF-8 text, found an invalid byte sequence in '%FF%FE'\n",
                "user=a%00b&event=click", "user: expected no NUL character (%00), found 'a\\0b'\n");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            HttpResponse<String> response = post(c.getKey());
            assertThat(response.statusCode()).as(c.getKey()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
            assertThat(response.body()).isEqualTo(c.getValue());
        }
        HttpResponse<String> badGet = send(app.server(), "GET", "/analytics?timestamp=soon");
        assertThat(badGet.statusCode()).isEqualTo(400);
        assertThat(badGet.body()).startsWith("timestamp: expected a whole, non-negative number");
        assertThat(app.server().stats().accepted()).isEqualTo(before);
        assertThat(post("user=still-serving&event=click").statusCode()).isEqualTo(204);
    }

    @Test
    void aMalformedPercentEscapeIsRefusedByTheHttpParserAndTheServerKeepsServing() throws Exception {
        // Undertow's request-line parser validates %XX itself, before any handler runs: it answers 400 with no body
        // and closes the connection. The reason-bearing path for escapes is covered in AnalyticsQueryTest.
        String reply = rawRequest("POST /analytics?user=a%zz&event=click HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(reply).startsWith("HTTP/1.1 400 ");
        assertThat(post("user=still-serving&event=click").statusCode()).isEqualTo(204);
    }

    @Test
    void rawUnescapedUtf8IsAcceptedAndInvalidRawBytesAreNamed() throws Exception {
        String ok = rawRequest("POST /analytics?user=\u00c3\u00a9&event=click HTTP/1.1\r\nHost: x\r\nConnection: close"
                + "\r\n\r\n");
        assertThat(ok).startsWith("HTTP/1.1 204 ");
        String bad = rawRequest("POST /analytics?user=\u00ff&event=click HTTP/1.1\r\nHost: x\r\nConnection: close"
                + "\r\n\r\n");
        assertThat(bad).startsWith("HTTP/1.1 400 ").endsWith("user: expected UTF-8 text, found an invalid byte "
                + "sequence in '%FF'\n");
    }

    @Test
    void unknownPathsAre404AndWrongMethodsAre405() throws Exception {
        HttpResponse<String> missing = send(app.server(), "GET", "/nope");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("not found: /nope\n");
        HttpResponse<String> wrong = send(app.server(), "DELETE", "/analytics");
        assertThat(wrong.statusCode()).isEqualTo(405);
        assertThat(wrong.headers().firstValue("Allow")).hasValue("GET, HEAD, OPTIONS, POST");
        assertThat(wrong.body()).isEqualTo("method not allowed: DELETE /analytics\n");
        assertThat(send(app.server(), "PUT", "/analytics").statusCode()).isEqualTo(405);
        assertThat(send(app.server(), "POST", "/healthz").statusCode()).isEqualTo(405);
    }

    @Test
    void theAllowHeaderOfEvery405ListsExactlyTheMethodsThePathAnswers() throws Exception {
        List<String> methods = List.of("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE");
        for (String path : List.of("/analytics", "/analytics/batch", "/tracerboy.js", "/healthz", "/readyz",
                "/metrics", "/status", "/status.json", "/")) {
            // No path answers DELETE: its 405 lists what the path does answer.
            HttpResponse<String> refused = send(app.server(), "DELETE", path);
            assertThat(refused.statusCode()).as("DELETE %s", path).isEqualTo(405);
            List<String> allowed = List.of(refused.headers().firstValue("Allow").orElseThrow().split(", "));
            assertThat(allowed).as("Allow of %s", path).isSorted();
            if (allowed.contains("GET")) {
                assertThat(allowed).as("Allow of %s", path).contains("HEAD");
            }
            for (String method : methods) {
                int status = send(app.server(), method, path).statusCode();
                if (allowed.contains(method)) {
                    assertThat(status).as("%s %s (allowed: %s)", method, path, allowed).isNotEqualTo(405);
                } else {
                    assertThat(status).as("%s %s (allowed: %s)", method, path, allowed).isEqualTo(405);
                }
            }
        }
    }

    @Test
    void headIsAnsweredAsGetWithoutABody() throws Exception {
        for (String path : List.of("/healthz", "/readyz", "/analytics?timestamp=" + PAST_HOUR_START_MS, "/metrics",
                "/status", "/status.json")) {
            HttpResponse<String> head = send(app.server(), "HEAD", path);
            HttpResponse<String> get = send(app.server(), "GET", path);
            assertThat(head.statusCode()).as("HEAD %s", path).isEqualTo(200);
            assertThat(head.body()).as("HEAD %s", path).isEmpty();
            assertThat(head.headers().firstValue("Content-Type")).isEqualTo(get.headers().firstValue("Content-Type"));
        }
    }

    @Test
    void aFormBodyIsIgnoredWithAHintThatTheEventGoesInTheQueryString() throws Exception {
        HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + app.server().port() + "/analytics"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("user=form&event=click")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(form.statusCode()).isEqualTo(400);
        assertThat(form.body()).isEqualTo(
                "user: expected a user id of 1 to 256 bytes, found nothing (the event goes in "
                + "the query string: POST /analytics?timestamp=…&user=…&event=…; the request body is ignored)\n");
        HttpResponse<String> noBody = send(app.server(), "POST", "/analytics?event=click");
        assertThat(noBody.body()).isEqualTo("user: expected a user id of 1 to 256 bytes, found nothing\n");
    }

    @Test
    void healthAndReadinessAnswerInPlainText() throws Exception {
        HttpResponse<String> health = send(app.server(), "GET", "/healthz");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("alive\n");
        HttpResponse<String> ready = send(app.server(), "GET", "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready\n");
    }

    @Test
    void aFullRingAnswers503WithRetryAfterAndReadinessSaysWhy() throws Exception {
        try (TracerboyServer stuck = startServer("jdbc:postgresql://127.0.0.1:1/nowhere?user=x",
                Map.of("RING_SIZE", "64", "SHUTDOWN_TIMEOUT_MS", "0"))) {
            int accepted = 0;
            HttpResponse<String> refused = null;
            for (int i = 0; i < 65 && refused == null; i++) {
                HttpResponse<String> response = send(stuck, "POST", "/analytics?user=u" + i + "&event=click");
                if (response.statusCode() == 204) {
                    accepted++;
                } else {
                    refused = response;
                }
            }
            assertThat(accepted).isEqualTo(64);
            assertThat(refused).isNotNull();
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(refused.body()).isEqualTo("buffer full: the database is not keeping up; retry later\n");
            HttpResponse<String> ready = send(stuck, "GET", "/readyz");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).isEqualTo("not ready: schema not migrated yet\n");
            assertThat(stuck.stats().rejected(io.tracerboy.ingest.PipelineStats.Rejection.RING_FULL)).isEqualTo(1);
            assertThat(stuck.stop()).isEqualTo(64);
        }
    }

    @Test
    void twoServersOnOneDatabaseCountOverlappingUsersOnce() throws Exception {
        long hour = PAST_HOUR_START_MS - 30 * Hours.HOUR_MS;
        try (TracerboyServer second = startServer(app.database().url(), Map.of("FLUSH_INTERVAL_MS", "5"))) {
            assertThat(second.awaitReady(60_000)).isTrue();
            long firstBefore = app.server().stats().rowsWritten();
            int events = 0;
            for (int i = 0; i < 300; i++) {
                TracerboyServer target = i % 2 == 0 ? app.server() : second;
                String kind = i % 3 == 0 ? "click" : "impression";
                assertThat(send(target, "POST", "/analytics?timestamp=" + (hour + i) + "&user=shared-" + (i % 50)
                        + "&event=" + kind).statusCode()).isEqualTo(204);
                events++;
            }
            awaitRowsWritten(app.server(), firstBefore + events / 2);
            awaitRowsWritten(second, events / 2);
            assertThat(send(second, "GET", "/analytics?timestamp=" + hour).body())
                    .isEqualTo("unique_users,50\nclicks,100\nimpressions,200\n");
        }
    }

    @Test
    void aDatabaseThatCannotBeUsedStopsStartupInsteadOfRetryingForever() throws Exception {
        String missing = app.database().url().replace("/" + app.database().name() + "?", "/no_such_database?");
        try (TracerboyServer broken = startServer(missing, Map.of())) {
            assertThat(broken.awaitReady(60_000)).isFalse();
            assertThat(broken.fatalError()).contains("no_such_database").contains("does not exist");
            HttpResponse<String> ready = send(broken, "GET", "/readyz");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).startsWith("not ready: ").contains("does not exist");
        }
    }

    @Test
    void aStoppingServerRefusesNewEventsWith503() throws Exception {
        try (TracerboyServer stopping = startServer(app.database().url(), Map.of())) {
            assertThat(stopping.awaitReady(60_000)).isTrue();
            stopping.stopAccepting();
            HttpResponse<String> refused = send(stopping, "POST", "/analytics?user=late&event=click");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(refused.body()).isEqualTo("shutting down: not accepting events; send them to another replica\n");
            assertThat(send(stopping, "GET", "/readyz").body()).isEqualTo("not ready: shutting down\n");
            assertThat(stopping.stats().accepted()).isZero();
        }
    }

    @Test
    void stoppingWritesEveryAcceptedEvent() throws Exception {
        long hour = PAST_HOUR_START_MS - 40 * Hours.HOUR_MS;
        try (TestDatabase own = TestDatabase.create()) {
            TracerboyServer lingering = startServer(own.url(), Map.of("FLUSH_INTERVAL_MS", "60000",
                    "BATCH_SIZE", "100000"));
            assertThat(lingering.awaitReady(60_000)).isTrue();
            for (int i = 0; i < 500; i++) {
                assertThat(send(lingering, "POST", "/analytics?timestamp=" + hour + "&user=u" + i + "&event=click")
                        .statusCode()).isEqualTo(204);
            }
            assertThat(own.queryLong("SELECT count(*) FROM events")).isZero(); // still lingering in the batch
            assertThat(lingering.stop()).isZero();
            assertThat(own.queryLong("SELECT count(*) FROM events")).isEqualTo(500);
            assertThat(own.queryLong("SELECT clicks FROM hourly_stats")).isEqualTo(500);
        }
    }

    private static String rawRequest(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", app.server().port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[4096];
            StringBuilder reply = new StringBuilder();
            int n;
            while ((n = in.read(buffer)) > 0) {
                reply.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                if (reply.indexOf("\r\n\r\n") > 0 && complete(reply)) {
                    break;
                }
            }
            return reply.toString();
        }
    }

    private static boolean complete(StringBuilder reply) {
        int headerEnd = reply.indexOf("\r\n\r\n");
        String headers = reply.substring(0, headerEnd).toLowerCase();
        int at = headers.indexOf("content-length:");
        if (at < 0) {
            return true;
        }
        int length = Integer.parseInt(headers.substring(at + 15, headers.indexOf('\r', at) < 0 ? headers.length()
                : headers.indexOf('\r', at)).trim());
        return reply.toString().getBytes(StandardCharsets.UTF_8).length - headerEnd - 4 >= length;
    }
}
