package io.tracerboy.ingest;

/**
 * Decides when the consumer flushes its batch, following the Kafka producer's {@code linger.ms} model rather than
 * flushing at the end of every Disruptor batch: a batch is written when it is full, when its oldest event has lingered
 * long enough, or when the pipeline is stopping and the ring is drained. Lingering makes COPYs large under load (rows
 * per second grow roughly tenfold from 1 000 to 10 000 rows per COPY here) while the linger caps how stale GETs can be.
 * Two policies: {@link FixedBatchPolicy} (a batch size and a flush interval) and {@link AdaptiveBatchPolicy} (a
 * target visibility lag). Confined to the writer thread, but for the getters, which metrics read racily; time is
 * passed in, so tests use a fake clock. The writer takes a new policy between batches.
 */
public sealed interface BatchPolicy permits FixedBatchPolicy, AdaptiveBatchPolicy {
    /** Why a batch was flushed. */
    enum Trigger {
        NONE, SIZE, INTERVAL, SHUTDOWN
    }

    /** At most {@code batchSizeEvents} per batch; the oldest event waits at most {@code flushIntervalNanos}. */
    static BatchPolicy fixed(int batchSizeEvents, long flushIntervalNanos) {
        return new FixedBatchPolicy(batchSizeEvents, flushIntervalNanos);
    }

    /** Lingers and batches so that events become visible within {@code targetLagNanos}. */
    static BatchPolicy adaptive(long targetLagNanos) {
        return new AdaptiveBatchPolicy(targetLagNanos);
    }

    /** Whether to flush a batch of {@code bufferedEvents} whose oldest event was published at {@code oldestNanos}. */
    Trigger decide(int bufferedEvents, long oldestNanos, long nowNanos, boolean drainedForShutdown);

    /**
     * How long the consumer may wait for more events before it must flush; {@code Long.MAX_VALUE} for an empty batch.
     */
    long nanosUntilFlush(int bufferedEvents, long oldestNanos, long nowNanos);

    /**
     * Told of every flush: {@code events}, the oldest published at {@code oldestNanos}, written from
     * {@code startNanos} to {@code endNanos}. The adaptive policy learns from it; the fixed one ignores it.
     */
    void onFlushed(int events, long oldestNanos, long startNanos, long endNanos);

    /** The most events per batch. */
    int batchSizeEvents();

    /** How long the oldest event of a batch may wait now: the flush interval, or what the adaptive policy chose. */
    long lingerNanos();

    /** The one line both policies decide by, each reason a named boolean. */
    static Trigger trigger(boolean full, boolean expired, boolean drainedForShutdown) {
        boolean flush = full || expired || drainedForShutdown;
        if (!flush) {
            return Trigger.NONE;
        }
        return full ? Trigger.SIZE : expired ? Trigger.INTERVAL : Trigger.SHUTDOWN;
    }
}
