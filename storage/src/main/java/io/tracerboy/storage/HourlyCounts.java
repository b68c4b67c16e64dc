package io.tracerboy.storage;

/** The aggregates of one UTC hour, as {@code hourly_stats} holds them. */
public record HourlyCounts(long uniqueUsers, long clicks, long impressions) {
    public static final HourlyCounts ZERO = new HourlyCounts(0, 0, 0);
}
