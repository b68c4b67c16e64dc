package io.tracerboy.ingest;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Locale;

/**
 * The query of {@code GET /analytics/series}: {@code from} and {@code to} (milliseconds since the epoch, an ISO-8601
 * instant, or a date, which starts at midnight in {@code tz}), {@code interval} ({@code hour}, the default, or {@code
 * day}), {@code tz} (a zone ID, UTC by default) and {@code uniques} ({@code auto}, the default, or {@code exact}: count
 * larger ranges exactly, at the cost of time), parsed into the bucket boundaries: from the start of the bucket holding
 * {@code from} up to the end of the one holding the instant before {@code to}. A zone is accepted only where every
 * boundary of the range is a whole UTC hour, so that each bucket is an exact sum of hours. Runs on IO threads: no I/O;
 * every refusal names the parameter and the value.
 */
public record SeriesQuery(Interval interval, ZoneId zone, long[] boundariesMs, boolean exactAsked) {
    /** Most buckets of each interval in one request. */
    public static final int MAX_HOUR_BUCKETS = 1_000;
    public static final int MAX_DAY_BUCKETS = 400;
    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final String[] NAMES = {"from", "to", "interval", "tz", "uniques"};

    /** The length of a bucket. */
    public enum Interval {
        HOUR, DAY;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Parses and checks the raw query string. */
    public static SeriesQuery parse(String rawQuery) {
        String[] values = new String[NAMES.length];
        QueryString.decode(rawQuery, NAMES, values);
        Interval interval = interval(values[2]);
        ZoneId zone = zone(values[3]);
        long fromMs = instant("from", values[0], zone);
        long toMs = instant("to", values[1], zone);
        if (toMs <= fromMs) {
            throw new InvalidRequestException("to: expected an instant after from (" + Instant.ofEpochMilli(fromMs)
                    + "), found '" + Messages.shown(values[1]) + "' (" + Instant.ofEpochMilli(toMs) + ")");
        }
        long[] boundaries = interval == Interval.HOUR ? hours(fromMs, toMs, values[1])
                : days(fromMs, toMs, zone, values[1]);
        for (long boundaryMs : boundaries) {
            if (Math.floorMod(boundaryMs, Hours.HOUR_MS) != 0) {
                ZoneOffset offset = zone.getRules().getOffset(Instant.ofEpochMilli(boundaryMs));
                throw new InvalidRequestException("tz: expected a zone whose UTC offset is whole hours over the range"
                        + " (buckets are sums of UTC hours), found '" + zone.getId() + "' (" + offset + " on "
                        + Instant.ofEpochMilli(boundaryMs).atZone(zone).toLocalDate() + ")");
            }
        }
        if (values[4] != null && !values[4].equals("exact") && !values[4].equals("auto")) {
            throw new InvalidRequestException("uniques: expected exact or auto, found '" + Messages.shown(values[4])
                    + "'");
        }
        return new SeriesQuery(interval, zone, boundaries, "exact".equals(values[4]));
    }

    /** How many buckets. */
    public int buckets() {
        return boundariesMs.length - 1;
    }

    private static long[] hours(long fromMs, long toMs, String toText) {
        long startMs = Hours.startMs(fromMs);
        long endMs = Hours.startMs(toMs - 1) + Hours.HOUR_MS;
        long count = (endMs - startMs) / Hours.HOUR_MS;
        if (count > MAX_HOUR_BUCKETS) {
            throw tooMany("hour", MAX_HOUR_BUCKETS, count, fromMs, toText);
        }
        long[] boundaries = new long[(int) count + 1];
        for (int i = 0; i < boundaries.length; i++) {
            boundaries[i] = startMs + i * Hours.HOUR_MS;
        }
        return boundaries;
    }

    private static long[] days(long fromMs, long toMs, ZoneId zone, String toText) {
        LocalDate first = Instant.ofEpochMilli(fromMs).atZone(zone).toLocalDate();
        LocalDate last = Instant.ofEpochMilli(toMs - 1).atZone(zone).toLocalDate();
        long count = ChronoUnit.DAYS.between(first, last) + 1;
        if (count > MAX_DAY_BUCKETS) {
            throw tooMany("day", MAX_DAY_BUCKETS, count, fromMs, toText);
        }
        long[] boundaries = new long[(int) count + 1];
        int n = 0;
        for (int i = 0; i < boundaries.length; i++) {
            long startMs = first.plusDays(i).atStartOfDay(zone).toInstant().toEpochMilli();
            // A day the zone skipped (Pacific/Apia's 2011-12-30) starts where the next does: it has no bucket.
            if (n == 0 || startMs != boundaries[n - 1]) {
                boundaries[n++] = startMs;
            }
        }
        return n == boundaries.length ? boundaries : Arrays.copyOf(boundaries, n);
    }

    private static InvalidRequestException tooMany(String unit, int max, long count, long fromMs, String toText) {
        return new InvalidRequestException("to: expected at most " + max + " " + unit + " buckets after from ("
                + Instant.ofEpochMilli(fromMs) + "), found '" + Messages.shown(toText) + "', " + count + " buckets");
    }

    private static Interval interval(String text) {
        if (text == null || text.equals("hour")) {
            return Interval.HOUR;
        }
        if (text.equals("day")) {
            return Interval.DAY;
        }
        throw new InvalidRequestException("interval: expected hour or day, found '" + Messages.shown(text) + "'");
    }

    private static ZoneId zone(String text) {
        if (text == null) {
            return UTC;
        }
        try {
            return ZoneId.of(text);
        } catch (DateTimeException e) {
            throw new InvalidRequestException("tz: expected a time zone ID such as UTC or Europe/Berlin, found '"
                    + Messages.shown(text) + "'");
        }
    }

    /** Milliseconds since the epoch, an ISO-8601 instant with its offset, or a date (midnight in {@code zone}). */
    private static long instant(String name, String text, ZoneId zone) {
        if (text == null || text.isEmpty()) {
            throw new InvalidRequestException(name + ": expected an instant (milliseconds since the epoch or"
                    + " ISO-8601), found nothing");
        }
        Instant instant = null;
        if (text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            long ms = text.length() > 15 ? Long.MAX_VALUE : Long.parseLong(text);
            if (ms < AnalyticsQuery.MIN_TIMESTAMP_MS && ms >= AnalyticsQuery.MIN_TIMESTAMP_MS / 1000
                    && ms <= AnalyticsQuery.LATEST_PLAUSIBLE_SECONDS) {
                throw new InvalidRequestException(name + ": expected milliseconds since the epoch, found '" + text
                        + "', which looks like seconds (" + Instant.ofEpochSecond(ms) + "); multiply it by 1000");
            }
            instant = ms <= AnalyticsQuery.MAX_TIMESTAMP_MS ? Instant.ofEpochMilli(ms) : Instant.MAX;
        } else {
            try {
                instant = OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException notAnInstant) {
                try {
                    instant = ZonedDateTime.of(LocalDate.parse(text).atStartOfDay(), zone).toInstant();
                } catch (DateTimeParseException notADate) {
                    String hint = text.indexOf(' ') >= 0 ? " ('+' in a query string is a space: write it %2B)" : "";
                    throw new InvalidRequestException(name + ": expected milliseconds since the epoch, an ISO-8601"
                            + " instant (2026-12-01T00:00:00Z) or a date (2026-12-01), found '" + Messages.shown(text)
                            + "'" + hint);
                }
            }
        }
        if (instant.isBefore(Instant.EPOCH) || instant.isAfter(Instant.ofEpochMilli(AnalyticsQuery.MAX_TIMESTAMP_MS))) {
            throw new InvalidRequestException(name + ": expected an instant from 1970-01-01T00:00:00Z to "
                    + Instant.ofEpochMilli(AnalyticsQuery.MAX_TIMESTAMP_MS) + ", found '" + Messages.shown(text) + "'");
        }
        return instant.toEpochMilli();
    }
}
