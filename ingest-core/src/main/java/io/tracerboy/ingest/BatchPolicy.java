package io.tracerboy.ingest;

/**
 * Decides when the consumer flushes its batch, following the Kafka producer's {@code linger.ms} model rather than
 * flushing at the end of every Disruptor batch: a batch is written when it is full, when its oldest event has lingered
 * long enough, or when the pipeline is stopping and the ring is drained. Lingering makes COPYs large under load (rows
 * per second grow roughly tenfold from 1 000 to 10 000 rows per COPY here) while the linger caps how stale GETs can be.
 *
 * <p>Two kinds. Fixed (the constructor): a batch size and flush interval. {@link #adaptive}: a target visibility lag
 * (publish to commit) and nothing else to tune. It learns from every flush how late the batch's oldest event became
 * visible, and lingers less at once when that was over 90 % of the target, longer step by step when it was under: so
 * batches are as large, and commits as few, as the target allows, whatever the write time. Batches take what arrives
 * meanwhile, up to {@link #AUTO_MAX_BATCH_EVENTS}, but a batch is also flushed as soon as its oldest event's age plus
 * the time its write should take (from the recent cost per event) reaches the aim: when a burst arrives, batches grow
 * fast and go out early, before the lag overshoots. When the database falls behind, the oldest event is already late
 * when a write ends, lingering drops to nothing and each batch takes everything that waited. When events are so sparse
 * that none is expected to join within the linger, it does not linger at all: waiting would save no commit.
 * ClickHouse's adaptive async-insert timeout (between a min and a max, shrinking under load) is the anchor; here the
 * bound is the lag the operator asked for, measured, not a timeout guessed.
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

    private final int batchSizeEvents;
    private final long flushIntervalNanos;
    private final long targetLagNanos;
    private volatile long lingerNanos;
    private long plannedNanos;
    private double perEventNanos;
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
        this.plannedNanos = targetLagNanos / 2;
        this.lingerNanos = targetLagNanos > 0 ? plannedNanos : flushIntervalNanos;
    }

    /** At most {@code batchSizeEvents} per batch; the oldest event waits at most {@code flushIntervalNanos}. */
    public static BatchPolicy fixed(int batchSizeEvents, long flushIntervalNanos) {
        return new BatchPolicy(batchSizeEvents, flushIntervalNanos, 0);
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
        boolean expired = nowNanos - oldestNanos >= lingerNanos
                || isAdaptive() && nowNanos - oldestNanos + predictedWriteNanos(bufferedEvents) >= aimNanos();
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
        long deadline = oldestNanos + lingerNanos;
        if (isAdaptive()) {
            deadline = Math.min(deadline, oldestNanos + aimNanos() - predictedWriteNanos(bufferedEvents));
        }
        return Math.max(0, deadline - nowNanos);
    }

    /** What the adaptive policy aims the oldest event's lag at: 90 % of the target. */
    private long aimNanos() {
        return targetLagNanos - targetLagNanos / 10;
    }

    /** How long writing {@code events} should take, from the per-event cost of recent larger batches. */
    private long predictedWriteNanos(int events) {
        return (long) (perEventNanos * events);
    }

    /**
     * Learns from a flush of {@code events}, the oldest published at {@code oldestNanos}, written from
     * {@code startNanos} to {@code endNanos}: the adaptive policy re-plans its linger; the fixed one ignores it.
     */
    public void onFlushed(int events, long oldestNanos, long startNanos, long endNanos) {
        if (!isAdaptive()) {
            return;
        }
        // The previous batch's events arrived between its oldest and this one's oldest.
        if (lastOldestNanos != Long.MIN_VALUE && oldestNanos - lastOldestNanos > 0) {
            double rate = (double) lastEvents / (oldestNanos - lastOldestNanos);
            eventsPerNano = eventsPerNano == 0 ? rate : eventsPerNano * (1 - RATE_WEIGHT) + rate * RATE_WEIGHT;
        }
        lastOldestNanos = oldestNanos;
        lastEvents = events;
        if (events >= 100) { // small batches are all fixed cost; they would overstate the cost per event
            double cost = (double) (endNanos - startNanos) / events;
            perEventNanos = perEventNanos == 0 ? cost : perEventNanos * (1 - RATE_WEIGHT) + cost * RATE_WEIGHT;
        }
        // Feedback on what matters, the oldest event's lag (the batch's largest): over the aim, linger less by the
        // whole overshoot at once; under it, linger longer by half the headroom, at most 2 % of the target per batch
        // (measured: 5 % came back so fast that the tail of the lag crossed the target). Aiming at 90 % of the target
        // leaves room for a write slower than the last.
        long lag = endNanos - oldestNanos;
        long aim = aimNanos();
        if (lag > aim) {
            plannedNanos = Math.max(0, plannedNanos - (lag - aim));
        } else {
            plannedNanos = Math.min(aim, plannedNanos + Math.min((aim - lag) / 2, targetLagNanos / 50));
        }
        lingerNanos = eventsPerNano * plannedNanos < 1 ? 0 : plannedNanos;
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
