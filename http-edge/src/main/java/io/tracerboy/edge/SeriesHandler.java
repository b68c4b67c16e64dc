package io.tracerboy.edge;

import com.fasterxml.jackson.core.JsonGenerator;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.ingest.SeriesQuery;
import io.tracerboy.storage.HourlySeries;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /analytics/series}: validates the query on the IO thread, then reads the buckets on a worker thread
 * ({@link HourlySeries}) and answers JSON, or CSV to a client that accepts {@code text/csv}. Every bucket is present,
 * zeros included; unique users say whether they are exact, and an estimate carries its bounds and relative error.
 * The last answer's bytes per query are kept while the series they rendered is equal to the one read.
 */
final class SeriesHandler implements HttpHandler {
    static final String TEXT_CSV = "text/csv; charset=utf-8";
    private static final Logger log = LoggerFactory.getLogger(SeriesHandler.class);
    /** Queries whose answers are kept (a few KiB each). */
    static final int ANSWERS_KEPT = 64;

    private final HourlySeries series;
    private final LongSupplier millisClock;
    private final BooleanSupplier migrated;
    private final BooleanSupplier databaseReachable;
    /** The last answer rendered per query, with the series it rendered; all forgotten past {@link #ANSWERS_KEPT}. */
    private final ConcurrentHashMap<AnswerKey, Answer> answers = new ConcurrentHashMap<>();

    SeriesHandler(HourlySeries series, LongSupplier millisClock, BooleanSupplier migrated,
                  BooleanSupplier databaseReachable) {
        this.series = series;
        this.millisClock = millisClock;
        this.migrated = migrated;
        this.databaseReachable = databaseReachable;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        SeriesQuery query;
        try {
            query = SeriesQuery.parse(exchange.getQueryString());
        } catch (InvalidRequestException bad) {
            Replies.line(exchange, 400, bad.getMessage());
            return;
        }
        if (!migrated.getAsBoolean()) {
            Replies.unavailable(exchange, 1, AnalyticsQueryHandler.NOT_MIGRATED);
            return;
        }
        if (!databaseReachable.getAsBoolean()) {
            Replies.unavailable(exchange, 1, AnalyticsQueryHandler.UNREACHABLE);
            return;
        }
        boolean csv = wantsCsv(exchange);
        long exactMaxPairs = query.exactAsked() ? HourlySeries.EXACT_MAX_PAIRS_ASKED : HourlySeries.EXACT_MAX_PAIRS;
        HourlySeries.Series known = series.readIfInMemory(query.boundariesMs(), millisClock.getAsLong(), exactMaxPairs);
        if (known != null) {
            // All in memory: answered here on the I/O thread, without a hand-over to a worker.
            send(exchange, known, query, csv);
            return;
        }
        exchange.dispatch(() -> {
            HourlySeries.Series read;
            try {
                read = series.read(query.boundariesMs(), millisClock.getAsLong(), exactMaxPairs);
            } catch (SQLException e) {
                log.warn("GET /analytics/series: the read failed: {}", String.valueOf(e.getMessage()).lines()
                        .findFirst().orElse(""));
                Replies.unavailable(exchange, 1, AnalyticsQueryHandler.LOOKUP_FAILED);
                return;
            }
            send(exchange, read, query, csv);
        });
    }

    private void send(HttpServerExchange exchange, HourlySeries.Series read, SeriesQuery query, boolean csv) {
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, csv ? TEXT_CSV : "application/json");
        exchange.getResponseSender().send(answer(read, query, csv));
    }

    /**
     * The answer's bytes: the last ones rendered for the same query if the series is equal to the one they rendered
     * (a dashboard asks again and again, and between two commits nothing changes), else rendered anew.
     */
    private ByteBuffer answer(HourlySeries.Series read, SeriesQuery query, boolean csv) {
        long[] boundaries = query.boundariesMs();
        AnswerKey key = new AnswerKey(boundaries[0], boundaries[query.buckets()], query.interval(), query.zone(), csv);
        Answer last = answers.get(key);
        if (last != null && last.series().equals(read)) {
            return last.body().duplicate();
        }
        String text = csv ? csv(read, query.zone()) : json(read, query) + "\n";
        ByteBuffer body = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();
        if (answers.size() >= ANSWERS_KEPT) {
            answers.clear();
        }
        answers.put(key, new Answer(read, body));
        return body.duplicate();
    }

    private record AnswerKey(long fromMs, long toMs, SeriesQuery.Interval interval, ZoneId zone, boolean csv) {
    }

    private record Answer(HourlySeries.Series series, ByteBuffer body) {
    }

    /**
     * Whether the client asks for CSV: {@code text/csv} in {@code Accept} with a q-value above 0 and not below
     * {@code application/json}'s (JSON is the default, also for {@code *}{@code /*}).
     */
    static boolean wantsCsv(HttpServerExchange exchange) {
        HeaderValues accept = exchange.getRequestHeaders().get(Headers.ACCEPT);
        if (accept == null) {
            return false;
        }
        double csv = 0;
        double json = 0;
        for (String value : accept) {
            for (String range : value.split(",")) {
                String[] parts = range.split(";");
                String type = parts[0].trim().toLowerCase(Locale.ROOT);
                if (type.equals("text/csv")) {
                    csv = Math.max(csv, q(parts));
                } else if (type.equals("application/json")) {
                    json = Math.max(json, q(parts));
                }
            }
        }
        return csv > 0 && csv >= json;
    }

    /** A media range's q-value: 1 unless given; 0 when it cannot be read. */
    private static double q(String[] parts) {
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].trim();
            if (parameter.startsWith("q=") || parameter.startsWith("Q=")) {
                try {
                    return Double.parseDouble(parameter.substring(2).trim());
                } catch (NumberFormatException unreadable) {
                    return 0;
                }
            }
        }
        return 1;
    }

    /** The JSON answer: the query as understood, every bucket, the total. */
    static String json(HourlySeries.Series read, SeriesQuery query) {
        return JsonReplies.write(generator -> {
            generator.writeStartObject();
            generator.writeStringField("from", shown(query.boundariesMs()[0], query.zone()));
            generator.writeStringField("to", shown(query.boundariesMs()[query.buckets()], query.zone()));
            generator.writeStringField("interval", query.interval().wireName());
            generator.writeStringField("tz", query.zone().getId());
            generator.writeArrayFieldStart("buckets");
            for (HourlySeries.Bucket bucket : read.buckets()) {
                generator.writeStartObject();
                generator.writeStringField("start", shown(bucket.startMs(), query.zone()));
                generator.writeNumberField("start_ms", bucket.startMs());
                fields(generator, bucket);
                generator.writeEndObject();
            }
            generator.writeEndArray();
            generator.writeObjectFieldStart("total");
            fields(generator, read.total());
            generator.writeEndObject();
            generator.writeNumberField("unique_users_relative_error", HourlySeries.RELATIVE_ERROR_BOUND);
            generator.writeEndObject();
        });
    }

    private static void fields(JsonGenerator generator, HourlySeries.Bucket bucket) throws IOException {
        generator.writeNumberField("clicks", bucket.clicks());
        generator.writeNumberField("impressions", bucket.impressions());
        HourlySeries.Uniques uniques = bucket.uniques();
        if (uniques.method() == HourlySeries.Method.UNKNOWN) {
            generator.writeNullField("unique_users");
        } else {
            generator.writeNumberField("unique_users", uniques.value());
        }
        generator.writeBooleanField("unique_users_exact", uniques.method() == HourlySeries.Method.EXACT);
        if (uniques.method() == HourlySeries.Method.ESTIMATE) {
            generator.writeNumberField("unique_users_lower", uniques.lower());
            generator.writeNumberField("unique_users_upper", uniques.upper());
        }
    }

    /** The CSV answer: a header, one row per bucket, then the total as a row whose start is {@code total}. */
    static String csv(HourlySeries.Series read, ZoneId zone) {
        StringBuilder out = new StringBuilder(
                "start,clicks,impressions,unique_users,unique_users_exact,unique_users_lower,unique_users_upper\n");
        for (HourlySeries.Bucket bucket : read.buckets()) {
            row(out, shown(bucket.startMs(), zone), bucket);
        }
        row(out, "total", read.total());
        return out.toString();
    }

    private static void row(StringBuilder out, String start, HourlySeries.Bucket bucket) {
        HourlySeries.Uniques uniques = bucket.uniques();
        boolean known = uniques.method() != HourlySeries.Method.UNKNOWN;
        boolean estimate = uniques.method() == HourlySeries.Method.ESTIMATE;
        out.append(start).append(',').append(bucket.clicks()).append(',').append(bucket.impressions()).append(',')
                .append(known ? String.valueOf(uniques.value()) : "").append(',')
                .append(uniques.method() == HourlySeries.Method.EXACT).append(',')
                .append(estimate ? String.valueOf(uniques.lower()) : "").append(',')
                .append(estimate ? String.valueOf(uniques.upper()) : "").append('\n');
    }

    /** An instant as ISO-8601 with the zone's offset ({@code Z} in UTC). */
    private static String shown(long ms, ZoneId zone) {
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(Instant.ofEpochMilli(ms).atZone(zone));
    }
}
