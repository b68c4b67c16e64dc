package io.tracerboy.ingest;

/**
 * Decides when the consumer flushes its batch, following the Kafka producer's {@code linger.ms} model rather than
 * flushing at the end of every Disruptor batch: a batch is written when it is full, when its oldest event has lingered
 * long enough, or when the pipeline is stopping and the ring is drained. Lingering makes COPYs large under load (rows
 * per second grow roughly tenfold from 1 000 to 10 000 rows per COPY here) while the linger caps how stale GETs can be.
 *
 * <p>Two kinds. Fixed (the constructor): a batch size and flush interval. {@link #adaptive}: a target visibility lag
 * (publish to commit) and nothing else to tune. The oldest event of a batch is visible after it lingered plus the
 * write, so the adaptive policy lingers for the target less the recent write time (which it learns from every flush: up
 * at once, down slowly), and builds batches as large as that brings, up to {@link #AUTO_MAX_BATCH_EVENTS}: when the
 * database falls behind, writes get longer, lingering shrinks to nothing and each batch takes everything that waited
 * meanwhile. When events are so sparse that none is expected to join within the linger, it does not linger at all:
 * waiting would save no commit. ClickHouse's adaptive async-insert timeout works from the same idea, between a min and
 * a max timeout; here the bound is the lag the operator asked for.
 *
 * <p>Pure and confined to the writer thread (the getters may be read racily by metrics): time is passed in, so tests
 * use a fake clock. The writer takes a new policy between batches, so a changed setting applies from the next batch.
 */
public final class BatchPolicy {
    /** Why a batch was flushed. */
    public enum Trigger {
        NONE, SIZE, INTERVAL, SHUTDOWN
    }

    /** The largest batch the adaptive policy builds. */
    public static final int AUTO_MAX_BATCH_EVENTS = 100_000;
    /** Weight of the newest flush in the arrival-rate estimate. */
    private static final double RATE_WEIGHT = 0.3;
    /** Share of the write-time estimate kept per flush when writes get faster. */
    private static final double WRITE_DECAY = 0.8;

    private final int batchSizeEvents;
    private final long flushIntervalNanos;
    private final long targetLagNanos;
    private volatile long lingerNanos;
    private double writeNanos;
    private double eventsPerNano;
    private long lastOldestNanos = Long.MIN_VALUE;
    private int lastEvents;

    private BatchPolicy(int batchSizeEvents, long flushIntervalNanos, long targetLagNanos) {
        if (batchSizeEvents < 1) {
            throw new IllegalArgumentException("batchSizeEvents must be positive: " + batchSizeEvents);
        }
        if (flushIntervalNanos < 0 || targetLagNanos < 0) {
            throw new IllegalArgumentException("times must not be negative: " + flushIntervalNanos + ", "
                    + targetLagNanos);
        }
        this.batchSizeEvents = batchSizeEvents;
        this.flushIntervalNanos = flushIntervalNanos;
        this.targetLagNanos = targetLagNanos;
        this.lingerNanos = targetLagNanos > 0 ? targetLagNanos : flushIntervalNanos;
    }

    /** At most {@code batchSizeEvents} per batch; the oldest event waits at most {@code flushIntervalNanos}. */
    public BatchPolicy(int batchSizeEvents, long flushIntervalNanos) {
        this(batchSizeEvents, flushIntervalNanos, 0);
    }

    /** Lingers and batches so that events become visible within {@code targetLagNanos} (see the class comment). */
    public static BatchPolicy adaptive(long targetLagNanos) {
        if (targetLagNanos <= 0) {
            throw new IllegalArgumentException("targetLagNanos must be positive: " + targetLagNanos);
        }
        return new BatchPolicy(AUTO_MAX_BATCH_EVENTS, 0, targetLagNanos);
    }

    /** Whether to flush a batch of {@code bufferedEvents} whose oldest event was published at {@code oldestNanos}. */
    public Trigger decide(int bufferedEvents, long oldestNanos, long nowNanos, boolean drainedForShutdown) {
        if (bufferedEvents == 0) {
            return Trigger.NONE;
        }
        boolean full = bufferedEvents >= batchSizeEvents;
        boolean expired = nowNanos - oldestNanos >= lingerNanos;
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
        return Math.max(0, oldestNanos + lingerNanos - nowNanos);
    }

    /**
     * Learns from a flush of {@code events}, the oldest published at {@code oldestNanos}, written from
     * {@code startNanos} to {@code endNanos}: the adaptive policy re-plans its linger; the fixed one ignores it.
     */
    public void onFlushed(int events, long oldestNanos, long startNanos, long endNanos) {
        if (!isAdaptive()) {
            return;
        }
        long took = Math.max(0, endNanos - startNanos);
        writeNanos = Math.max(took, writeNanos * WRITE_DECAY + took * (1 - WRITE_DECAY));
        // The previous batch's events arrived between its oldest and this one's oldest.
        if (lastOldestNanos != Long.MIN_VALUE && oldestNanos - lastOldestNanos > 0) {
            double rate = (double) lastEvents / (oldestNanos - lastOldestNanos);
            eventsPerNano = eventsPerNano == 0 ? rate : eventsPerNano * (1 - RATE_WEIGHT) + rate * RATE_WEIGHT;
        }
        lastOldestNanos = oldestNanos;
        lastEvents = events;
        // Aim the oldest event at the target less a twentieth, the margin for a write a little slower than the last.
        long budget = Math.max(0, targetLagNanos - targetLagNanos / 20 - (long) writeNanos);
        lingerNanos = eventsPerNano * budget < 1 ? 0 : budget;
    }

    public boolean isAdaptive() {
        return targetLagNanos > 0;
    }

    /** The most events per batch. */
    public int batchSizeEvents() {
        return batchSizeEvents;
    }

    /** The configured flush interval; 0 for the adaptive policy. */
    public long flushIntervalNanos() {
        return flushIntervalNanos;
    }

    /** The adaptive policy's target visibility lag; 0 for the fixed one. */
    public long targetLagNanos() {
        return targetLagNanos;
    }

    /** How long the oldest event of a batch waits now: the flush interval, or what the adaptive policy chose. */
    public long lingerNanos() {
        return lingerNanos;
    }
}
