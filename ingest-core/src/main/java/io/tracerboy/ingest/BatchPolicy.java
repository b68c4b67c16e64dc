package io.tracerboy.ingest;

/**
 * Decides when the consumer flushes its batch, following the Kafka producer's {@code linger.ms} model rather than
 * flushing at the end of every Disruptor batch: a batch is written when it is full, when its oldest event has waited
 * the flush interval, or when the pipeline is stopping and the ring is drained. Lingering makes COPYs large under load
 * (rows per second grow roughly tenfold from 1 000 to 10 000 rows per COPY here) while the interval caps how stale GETs
 * can be. Pure and thread-confined: time is passed in, so tests use a fake clock.
 */
public final class BatchPolicy {
    /** Why a batch was flushed. */
    public enum Trigger {
        NONE, SIZE, INTERVAL, SHUTDOWN
    }

    private final int batchSizeEvents;
    private final long flushIntervalNanos;

    public BatchPolicy(int batchSizeEvents, long flushIntervalNanos) {
        if (batchSizeEvents < 1) {
            throw new IllegalArgumentException("batchSizeEvents must be positive: " + batchSizeEvents);
        }
        if (flushIntervalNanos < 0) {
            throw new IllegalArgumentException("flushIntervalNanos must not be negative: " + flushIntervalNanos);
        }
        this.batchSizeEvents = batchSizeEvents;
        this.flushIntervalNanos = flushIntervalNanos;
    }

    /** Whether to flush a batch of {@code bufferedEvents} whose oldest event was published at {@code oldestNanos}. */
    public Trigger decide(int bufferedEvents, long oldestNanos, long nowNanos, boolean drainedForShutdown) {
        if (bufferedEvents == 0) {
            return Trigger.NONE;
        }
        boolean full = bufferedEvents >= batchSizeEvents;
        boolean expired = nowNanos - oldestNanos >= flushIntervalNanos;
        boolean flush = full || expired || drainedForShutdown;
        if (!flush) {
            return Trigger.NONE;
        }
        return full ? Trigger.SIZE : expired ? Trigger.INTERVAL : Trigger.SHUTDOWN;
    }

    /**
     * How long the consumer may wait for more events before it must flush; {@code Long.MAX_VALUE} for an empty batch.
     */
    public long nanosUntilFlush(int bufferedEvents, long oldestNanos, long nowNanos) {
        if (bufferedEvents == 0) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, oldestNanos + flushIntervalNanos - nowNanos);
    }

    public int batchSizeEvents() {
        return batchSizeEvents;
    }

    public long flushIntervalNanos() {
        return flushIntervalNanos;
    }
}
