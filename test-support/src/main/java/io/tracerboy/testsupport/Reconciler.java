package io.tracerboy.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one UTC hour's counts the three ways tracerboy can be checked: as {@code GET /analytics} answers, as
 * {@code hourly_stats} holds them, and recounted from the raw {@code events}. Shared by the tests, the Java benchmarks,
 * the Gatling scenarios and (through {@link #main}) the shell scripts, so every one of them reconciles the same way.
 */
public final class Reconciler {
    private static final long HOUR_MS = 3_600_000L;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** One hour's counts. */
    public record Counts(long uniqueUsers, long clicks, long impressions) {
        public long events() {
            return clicks + impressions;
        }

        @Override
        public String toString() {
            return uniqueUsers + "/" + clicks + "/" + impressions;
        }
    }

    private Reconciler() {
    }

    /** The hour as {@code GET /analytics?timestamp=} on {@code baseUrl} answers it. */
    public static Counts viaGet(String baseUrl, long hourStartMs) throws Exception {
        HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/analytics?timestamp="
                + hourStartMs)).build(), HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) {
            throw new IllegalStateException("GET " + baseUrl + " answered " + answer.statusCode() + ": "
                    + answer.body());
        }
        long[] values = new long[3];
        String[] names = {"unique_users,", "clicks,", "impressions,"};
        for (String line : answer.body().split("\n")) {
            for (int i = 0; i < names.length; i++) {
                if (line.startsWith(names[i])) {
                    values[i] = Long.parseLong(line.substring(names[i].length()));
                }
            }
        }
        return new Counts(values[0], values[1], values[2]);
    }

    /** The hour's row of {@code hourly_stats} (zeros when there is none). */
    public static Counts aggregates(Connection connection, long hourStartMs) throws SQLException {
        return query(connection, "SELECT unique_users, clicks, impressions FROM hourly_stats "
                + "WHERE hour = to_timestamp(?)", hourStartMs);
    }

    /** The hour recounted from the raw {@code events}: distinct users, clicks, impressions. */
    public static Counts recount(Connection connection, long hourStartMs) throws SQLException {
        return query(connection, "SELECT count(DISTINCT user_id), count(*) FILTER (WHERE kind = 0), "
                + "count(*) FILTER (WHERE kind = 1) FROM events "
                + "WHERE ts >= to_timestamp(?) AND ts < to_timestamp(?) + interval '1 hour'", hourStartMs);
    }

    /** Every event stored, all hours. */
    public static long storedEvents(Connection connection) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT count(*) FROM events");
             ResultSet rs = query.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Counts query(Connection connection, String sql, long hourStartMs) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(sql)) {
            for (int i = 1; i <= query.getParameterMetaData().getParameterCount(); i++) {
                query.setLong(i, hourStartMs / 1000);
            }
            try (ResultSet rs = query.executeQuery()) {
                return rs.next() ? new Counts(rs.getLong(1), rs.getLong(2), rs.getLong(3)) : new Counts(0, 0, 0);
            }
        }
    }

    /**
     * For scripts: {@code Reconciler JDBC_URL BASE_URL FIRST_HOUR_MS HOURS [ACKNOWLEDGED [IN_FLIGHT]]} prints each
     * hour three ways and exits 2 unless they agree and (when given) the stored events are at least the acknowledged
     * ones in these hours and at most {@code IN_FLIGHT} more (requests answered after the load generator stopped
     * counting).
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: Reconciler JDBC_URL BASE_URL FIRST_HOUR_MS HOURS [ACKNOWLEDGED [IN_FLIGHT]]");
            System.exit(2);
        }
        String jdbc = args[0];
        String baseUrl = args[1];
        long firstHourMs = Long.parseLong(args[2]);
        int hours = Integer.parseInt(args[3]);
        List<String> problems = new ArrayList<>();
        long stored = 0;
        try (Connection connection = DriverManager.getConnection(jdbc)) {
            System.out.printf("%-22s %-34s %-34s %-34s%n", "hour (UTC)", "GET (users/clicks/impressions)",
                    "hourly_stats", "recount over raw events");
            for (int h = 0; h < hours; h++) {
                long hour = firstHourMs + h * HOUR_MS;
                Counts get = viaGet(baseUrl, hour);
                Counts aggregates = aggregates(connection, hour);
                Counts recount = recount(connection, hour);
                System.out.printf("%-22s %-34s %-34s %-34s%n", Instant.ofEpochMilli(hour), get, aggregates, recount);
                if (!get.equals(aggregates) || !aggregates.equals(recount)) {
                    problems.add("hour " + Instant.ofEpochMilli(hour) + " disagrees");
                }
                stored += recount.events();
            }
        }
        if (args.length > 4) {
            long acknowledged = Long.parseLong(args[4]);
            long inFlight = args.length > 5 ? Long.parseLong(args[5]) : 0;
            System.out.println("acknowledged: " + acknowledged + "; stored in these hours: " + stored + " (at most "
                    + inFlight + " more allowed: in flight when the load generator stopped counting)");
            if (stored < acknowledged || stored > acknowledged + inFlight) {
                problems.add("stored " + stored + " for " + acknowledged + " acknowledged");
            }
        }
        if (!problems.isEmpty()) {
            System.out.println("RECONCILIATION FAILED: " + String.join("; ", problems));
            System.exit(2);
        }
        System.out.println("reconciled: every hour agrees three ways");
    }
}
