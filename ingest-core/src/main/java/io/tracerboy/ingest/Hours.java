package io.tracerboy.ingest;

/** UTC hour arithmetic shared by validation, batching and storage: the unit every aggregate is kept in. */
public final class Hours {
    /** One hour in milliseconds. */
    public static final long HOUR_MS = 3_600_000L;

    private Hours() {
    }

    /** The start of the UTC hour holding the instant {@code timestampMs}. */
    public static long startMs(long timestampMs) {
        return Math.floorDiv(timestampMs, HOUR_MS) * HOUR_MS;
    }
}
