package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.batch;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /analytics/series} on a real server and PostgreSQL, its clock pinned: 48 hours of generated traffic
 * (with empty hours) answered bucket by bucket as a recount over the raw events says, by hour, by UTC day and by day
 * in a zone with daylight saving time; exact range uniques equal {@code count(DISTINCT)}; bad queries get one line.
 */
class SeriesIT {
    /** Half past an hour of today: events of the last 48 hours are within the retention of the pinned clock. */
    private static final long NOW_MS = Hours.startMs(System.currentTimeMillis()) + 30 * 60_000;
    private static final long FIRST_HOUR_MS = Hours.startMs(NOW_MS) - 47 * Hours.HOUR_MS;
    private static TestDatabase database;
    private static TracerboyServer server;
    private static int events;

    @BeforeAll
    static void postFortyEightHours() throws Exception {
        database = TestDatabase.create();
        server = startServer(database.url(), Map.of("ACK_MODE", "committed"), () -> NOW_MS);
        assertThat(server.awaitReady(60_000)).isTrue();
        Random random = new Random(23);
        StringBuilder body = new StringBuilder();
        for (int hour = 0; hour < 48; hour++) {
            if (hour % 7 == 3) {
                continue; // some empty hours: zero-filled buckets
            }
            int n = 20 + random.nextInt(200);
            for (int i = 0; i < n; i++) {
                long ts = FIRST_HOUR_MS + hour * Hours.HOUR_MS + random.nextInt((int) Hours.HOUR_MS);
                if (ts > NOW_MS) {
                    ts = NOW_MS - random.nextInt(60_000);
                }
                body.append("{\"timestamp\":").append(ts).append(",\"user\":\"u").append(random.nextInt(400))
                        .append("\",\"event\":\"").append(random.nextInt(3) == 0 ? "click" : "impression")
                        .append("\"}\n");
                events++;
                if (events % 5_000 == 0) {
                    post(body);
                }
            }
        }
        post(body);
        assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(events);
    }

    private static void post(StringBuilder body) throws Exception {
        HttpResponse<String> response = batch(server, "application/x-ndjson",
                body.toString().getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        body.setLength(0);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void everyHourOfFortyEightAgreesWithARecountOverTheRawEvents() throws Exception {
        long toMs = FIRST_HOUR_MS + 48 * Hours.HOUR_MS;
        List<String> rows = csv("/analytics/series?from=" + FIRST_HOUR_MS + "&to=" + toMs + "&uniques=exact");
        List<String> expected = recount("date_trunc('hour', ts)", "'UTC'", FIRST_HOUR_MS, toMs, 48, Hours.HOUR_MS);
        assertThat(rows).hasSize(50);
        assertThat(rows.subList(1, 49)).containsExactlyElementsOf(expected);
        assertThat(rows.subList(1, 49)).anyMatch(row -> row.endsWith(",0,0,0,true,,"));
        assertThat(rows.get(49)).isEqualTo(totalRecount(FIRST_HOUR_MS, toMs));
    }

    @Test
    void dayBucketsAndTheTotalAreExactCountsOfDistinctUsers() throws Exception {
        long firstDayMs = Math.floorDiv(FIRST_HOUR_MS, 24 * Hours.HOUR_MS) * 24 * Hours.HOUR_MS;
        long toMs = NOW_MS + 1;
        String from = Instant.ofEpochMilli(FIRST_HOUR_MS).toString();
        List<String> rows = csv("/analytics/series?from=" + from + "&to=" + toMs + "&interval=day&uniques=exact");
        int days = (int) ((Hours.startMs(NOW_MS) - firstDayMs) / (24 * Hours.HOUR_MS)) + 1;
        assertThat(rows).hasSize(days + 2);
        assertThat(rows.subList(1, days + 1)).containsExactlyElementsOf(
                recount("date_trunc('day', ts)", "'UTC'", firstDayMs, firstDayMs + days * 24 * Hours.HOUR_MS, days,
                        24 * Hours.HOUR_MS));
        long endMs = firstDayMs + days * 24 * Hours.HOUR_MS;
        assertThat(rows.get(days + 1)).isEqualTo(totalRecount(firstDayMs, endMs));
        // The exact path is count(DISTINCT) over hourly_users, which must agree with the raw events.
        assertThat(rows.get(days + 1).split(",")[3]).isEqualTo(String.valueOf(database.queryLong(
                "SELECT count(DISTINCT user_id) FROM hourly_users WHERE hour >= to_timestamp(" + firstDayMs / 1000
                        + ") AND hour < to_timestamp(" + endMs / 1000 + ")")));
    }

    @Test
    void dayBucketsInAZoneOfWholeHourOffsetsAreItsLocalDays() throws Exception {
        List<String> rows = csv("/analytics/series?from=" + FIRST_HOUR_MS + "&to=" + (NOW_MS + 1)
                + "&interval=day&tz=America/New_York&uniques=exact");
        String first = rows.get(1).split(",")[0];
        assertThat(first).matches("\\d{4}-\\d\\d-\\d\\dT00:00:00-0[45]:00");
        long firstMs = java.time.OffsetDateTime.parse(first).toInstant().toEpochMilli();
        int days = rows.size() - 2;
        long endMs = java.time.OffsetDateTime.parse(first).atZoneSameInstant(java.time.ZoneId.of("America/New_York"))
                .plusDays(days).toInstant().toEpochMilli();
        List<String> expected = recountInZone(firstMs, endMs);
        assertThat(rows.subList(1, days + 1)).containsExactlyElementsOf(expected);
    }

    @Test
    void withoutAskingARangeOfManyPairsIsEstimatedAndLabelledSo() throws Exception {
        long toMs = FIRST_HOUR_MS + 48 * Hours.HOUR_MS;
        List<String> rows = csv("/analytics/series?from=" + FIRST_HOUR_MS + "&to=" + toMs);
        String[] exact = totalRecount(FIRST_HOUR_MS, toMs).split(",");
        String[] total = rows.get(49).split(",", -1);
        assertThat(database.queryLong("SELECT count(*) FROM hourly_users")).isGreaterThan(2_000);
        assertThat(total[1] + "," + total[2]).isEqualTo(exact[1] + "," + exact[2]);
        assertThat(total[4]).isEqualTo("false");
        long users = Long.parseLong(exact[3]);
        assertThat(Long.parseLong(total[5])).isLessThanOrEqualTo(users);
        assertThat(Long.parseLong(total[6])).isGreaterThanOrEqualTo(users);
        assertThat((double) Math.abs(Long.parseLong(total[3]) - users)).isLessThanOrEqualTo(
                io.tracerboy.storage.HourlySeries.RELATIVE_ERROR_BOUND * users);
        assertThat(rows.subList(1, 49)).allMatch(row -> row.contains(",true,,")); // hours stay exact
    }

    @Test
    void anAnswerAskedAgainIsTheSameUntilACommitChangesItsSeriesAndThenShowsTheNewEvent() throws Exception {
        long fromMs = Hours.startMs(NOW_MS) - 23 * Hours.HOUR_MS;
        String day = "/analytics/series?from=" + fromMs + "&to=" + NOW_MS;
        String json = send(server, "GET", day).body();
        List<String> rows = csv(day);
        assertThat(send(server, "GET", day).body()).isEqualTo(json);
        assertThat(csv(day)).isEqualTo(rows);
        // One click of a new user in the current hour, committed before the answer (ACK_MODE=committed).
        post(new StringBuilder("{\"timestamp\":" + (NOW_MS - 1_000) + ",\"user\":\"one-more-user\","
                + "\"event\":\"click\"}\n"));
        events++;
        List<String> after = csv(day);
        assertThat(after.subList(1, 25)).containsExactlyElementsOf(
                recount("date_trunc('hour', ts)", "'UTC'", fromMs, fromMs + 24 * Hours.HOUR_MS, 24, Hours.HOUR_MS));
        String[] hourBefore = rows.get(24).split(",");
        String[] hourAfter = after.get(24).split(",");
        assertThat(Long.parseLong(hourAfter[1])).isEqualTo(Long.parseLong(hourBefore[1]) + 1);
        assertThat(Long.parseLong(hourAfter[3])).isEqualTo(Long.parseLong(hourBefore[3]) + 1);
        long totalClicksBefore = Long.parseLong(rows.get(25).split(",")[1]);
        assertThat(Long.parseLong(after.get(25).split(",")[1])).isEqualTo(totalClicksBefore + 1);
        assertThat(send(server, "GET", day).body()).isNotEqualTo(json).contains("\"clicks\":" + hourAfter[1] + ",");
    }

    @Test
    void csvOnlyWhenAcceptedAndNotRefusedOrOutweighedByJson() throws Exception {
        String day = "/analytics/series?from=" + (Hours.startMs(NOW_MS) - 2 * Hours.HOUR_MS) + "&to=" + NOW_MS;
        Map<String, String> expected = Map.of(
                "text/csv", "text/csv; charset=utf-8",
                "text/csv;q=0, application/json", "application/json",
                "application/json;q=0.5, text/csv", "text/csv; charset=utf-8",
                "text/csv;q=0.4, application/json", "application/json",
                "TEXT/CSV; q=0.9", "text/csv; charset=utf-8",
                "*/*", "application/json",
                "text/csv;q=nonsense", "application/json");
        for (Map.Entry<String, String> accept : expected.entrySet()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + day))
                    .header("Accept", accept.getKey()).timeout(Duration.ofSeconds(30)).build();
            HttpResponse<String> response = TestServers.http.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).as(accept.getKey()).hasValue(accept.getValue());
        }
    }

    @Test
    void jsonIsTheDefaultAndLabelsItsFigures() throws Exception {
        long hourMs = FIRST_HOUR_MS + 3 * Hours.HOUR_MS; // an empty hour, then a full one
        HttpResponse<String> response = send(server, "GET", "/analytics/series?from=" + hourMs + "&to="
                + (hourMs + 2 * Hours.HOUR_MS));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        String next = recount("date_trunc('hour', ts)", "'UTC'", hourMs + Hours.HOUR_MS, hourMs + 2 * Hours.HOUR_MS,
                1, Hours.HOUR_MS).get(0);
        String[] n = next.split(",");
        assertThat(response.body()).isEqualTo("{\"from\":\"" + Instant.ofEpochMilli(hourMs).toString()
                 + "\",\"to\":\"" + Instant.ofEpochMilli(hourMs + 2 * Hours.HOUR_MS).toString()
                 + "\",\"interval\":\"hour\",\"tz\":\"UTC\",\"buckets\":["
                + "{\"start\":\"" + Instant.ofEpochMilli(hourMs).toString() + "\",\"start_ms\":"
                + hourMs + ",\"clicks\":0,\"impressions\":0,\"unique_users\":0,\"unique_users_exact\":true},"
                + "{\"start\":\"" + n[0] + "\",\"start_ms\":" + (hourMs + Hours.HOUR_MS) + ",\"clicks\":" + n[1]
                + ",\"impressions\":" + n[2] + ",\"unique_users\":" + n[3] + ",\"unique_users_exact\":true}],"
                + "\"total\":{\"clicks\":" + n[1] + ",\"impressions\":" + n[2] + ",\"unique_users\":" + n[3]
                + ",\"unique_users_exact\":true},\"unique_users_relative_error\":"
                + io.tracerboy.storage.HourlySeries.RELATIVE_ERROR_BOUND + "}\n");
    }

    @Test
    void badQueriesGetOneLineNamingTheParameterAndTheValue() throws Exception {
        long to = FIRST_HOUR_MS + Hours.HOUR_MS;
        assertRefused("/analytics/series?to=" + to, "from: expected an instant (milliseconds since the epoch or"
                + " ISO-8601), found nothing");
        assertRefused("/analytics/series?from=" + FIRST_HOUR_MS + "&to=" + to + "&uniques=precise",
                "uniques: expected exact or auto, found 'precise'");
        assertRefused("/analytics/series?from=" + FIRST_HOUR_MS + "&to=" + to + "&interval=week",
                "interval: expected hour or day, found 'week'");
        assertRefused("/analytics/series?from=yesterday&to=" + to, "from: expected milliseconds since the epoch,"
                + " an ISO-8601 instant (2026-12-01T00:00:00Z) or a date (2026-12-01), found 'yesterday'");
        assertRefused("/analytics/series?from=2026-12-01T00:00:00+01:00&to=" + to, "from: expected milliseconds"
                + " since the epoch, an ISO-8601 instant (2026-12-01T00:00:00Z) or a date (2026-12-01), found"
                + " '2026-12-01T00:00:00 01:00' ('+' in a query string is a space: write it %2B)");
        assertRefused("/analytics/series?from=1662981405&to=" + to, "from: expected milliseconds since the epoch,"
                + " found '1662981405', which looks like seconds (2022-09-12T11:16:45Z); multiply it by 1000");
        assertRefused("/analytics/series?from=" + to + "&to=" + FIRST_HOUR_MS, "to: expected an instant after from ("
                + Instant.ofEpochMilli(to) + "), found '" + FIRST_HOUR_MS + "' (" + Instant.ofEpochMilli(FIRST_HOUR_MS)
                + ")");
        assertRefused("/analytics/series?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to: expected at most"
                + " 1000 hour buckets after from (2026-01-01T00:00:00Z), found '2026-03-01T00:00:00Z', 1416 buckets");
        assertRefused("/analytics/series?from=2024-01-01&to=2026-01-01&interval=day", "to: expected at most"
                + " 400 day buckets after from (2024-01-01T00:00:00Z), found '2026-01-01', 731 buckets");
        assertRefused("/analytics/series?from=2026-12-01&to=2026-12-03&interval=day&tz=Mars/Olympus",
                "tz: expected a time zone ID such as UTC or Europe/Berlin, found 'Mars/Olympus'");
        assertRefused("/analytics/series?from=2026-12-01&to=2026-12-03&interval=day&tz=Asia/Kolkata",
                "tz: expected a zone whose UTC offset is whole hours over the range (buckets are sums of UTC hours),"
                        + " found 'Asia/Kolkata' (+05:30 on 2026-12-01)");
    }

    private static void assertRefused(String pathAndQuery, String reason) throws Exception {
        HttpResponse<String> response = send(server, "GET", pathAndQuery);
        assertThat(response.statusCode()).as(pathAndQuery).isEqualTo(400);
        assertThat(response.body()).isEqualTo(reason + "\n");
    }

    private static List<String> csv(String pathAndQuery) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery))
                .header("Accept", "text/csv").timeout(Duration.ofSeconds(30)).build();
        HttpResponse<String> response = TestServers.http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/csv; charset=utf-8");
        List<String> rows = response.body().lines().toList();
        assertThat(rows.get(0)).isEqualTo(
                "start,clicks,impressions,unique_users,unique_users_exact,unique_users_lower,unique_users_upper");
        return rows;
    }

    /** Each bucket recounted over raw events, as CSV rows; buckets of {@code bucketMs} from {@code fromMs}. */
    private static List<String> recount(String bucketSql, String zone, long fromMs, long toMs, int buckets,
                                        long bucketMs) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(database.url());
             Statement statement = connection.createStatement()) {
            statement.execute("SET TIME ZONE " + zone);
            for (int i = 0; i < buckets; i++) {
                long startMs = fromMs + i * bucketMs;
                rows.add(Instant.ofEpochMilli(startMs).toString() + ","
                        + counts(statement, startMs, startMs + bucketMs) + ",true,,");
            }
        }
        return rows;
    }

    private static List<String> recountInZone(long fromMs, long toMs) throws SQLException {
        List<String> rows = new ArrayList<>();
        java.time.ZoneId zone = java.time.ZoneId.of("America/New_York");
        try (Connection connection = DriverManager.getConnection(database.url());
             Statement statement = connection.createStatement()) {
            for (var day = Instant.ofEpochMilli(fromMs).atZone(zone); day.toInstant().toEpochMilli() < toMs;
                 day = day.plusDays(1)) {
                rows.add(DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(day) + "," + counts(statement,
                        day.toInstant().toEpochMilli(), day.plusDays(1).toInstant().toEpochMilli()) + ",true,,");
            }
        }
        return rows;
    }

    private static String totalRecount(long fromMs, long toMs) throws SQLException {
        try (Connection connection = DriverManager.getConnection(database.url());
             Statement statement = connection.createStatement()) {
            return "total," + counts(statement, fromMs, toMs) + ",true,,";
        }
    }

    /** clicks,impressions,unique users of the raw events in [fromMs, toMs). */
    private static String counts(Statement statement, long fromMs, long toMs) throws SQLException {
        try (ResultSet rs = statement.executeQuery("SELECT count(*) FILTER (WHERE kind = 0),"
                + " count(*) FILTER (WHERE kind = 1), count(DISTINCT user_id) FROM events"
                + " WHERE ts >= to_timestamp(" + fromMs / 1000 + ") AND ts < to_timestamp(" + toMs / 1000 + ")")) {
            rs.next();
            return rs.getLong(1) + "," + rs.getLong(2) + "," + rs.getLong(3);
        }
    }
}
