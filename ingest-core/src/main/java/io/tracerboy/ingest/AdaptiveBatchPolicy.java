package io.tracerboy.ingest;

/**
 * Keeps a target visibility lag (publish to commit, {@code TARGET_LAG_MS}) with nothing else to tune. It learns from
 * every flush how late the batch's oldest event became visible, and lingers less at once when that was over 90 % of
 * the target, longer step by step when it was under: so batches are as large, and commits as few, as the target
 * allows, whatever the write time. Batches take what arrives meanwhile, up to {@link #MAX_BATCH_EVENTS}, but a batch is
 * also flushed as soon as its oldest event's age plus the time its write should take (from the recent cost per event)
 * reaches the aim: when a burst arrives, batches grow fast and go out early, before the lag overshoots. When the
 * database falls behind, the oldest event is already late when a write ends, lingering drops to nothing and each
 * batch takes everything that waited. When events are so sparse that none is expected to join within the linger, it
 * does not linger at all: waiting would save no commit. ClickHouse's adaptive async-insert timeout (between a min and a
 * max, shrinking under load) is the anchor; here the bound is the lag the operator asked for, measured, not a timeout
 * guessed. Learned state, confined to the writer thread; {@link #lingerNanos()} may be read from any thread.
 */
public final class AdaptiveBatchPolicy implements BatchPolicy {
    /** The largest batch the adaptive policy builds. */
    public static final int MAX_BATCH_EVENTS = 100_000;
    /** Weight of the newest flush in the arrival-rate and cost estimates. */
    private static final double RATE_WEIGHT = 0.3;
    /** Batches smaller than this are all fixed cost: they would overstate the cost per event. */
    private static final int MIN_EVENTS_TO_LEARN_COST = 100;

    private final long targetLagNanos;
    private volatile long lingerNanos;
    private long plannedNanos;
    private double perEventNanos;
    private double eventsPerNano;
    private long lastOldestNanos = Long.MIN_VALUE;
    private int lastEvents;

    AdaptiveBatchPolicy(long targetLagNanos) {
        if (targetLagNanos <= 0) {
            throw new IllegalArgumentException("targetLagNanos must be positive: " + targetLagNanos);
        }
        this.targetLagNanos = targetLagNanos;
        this.plannedNanos = targetLagNanos / 2;
        this.lingerNanos = plannedNanos;
    }

    @Override
    public Trigger decide(int bufferedEvents, long oldestNanos, long nowNanos, boolean drainedForShutdown) {
        if (bufferedEvents == 0) {
            return Trigger.NONE;
        }
        long ageNanos = nowNanos - oldestNanos;
        boolean full = bufferedEvents >= MAX_BATCH_EVENTS;
        boolean expired = ageNanos >= lingerNanos || ageNanos + predictedWriteNanos(bufferedEvents) >= aimNanos();
        return BatchPolicy.trigger(full, expired, drainedForShutdown);
    }

    @Override
    public long nanosUntilFlush(int bufferedEvents, long oldestNanos, long nowNanos) {
        if (bufferedEvents == 0) {
            return Long.MAX_VALUE;
        }
        long deadline = Math.min(oldestNanos + lingerNanos, oldestNanos + aimNanos()
                - predictedWriteNanos(bufferedEvents));
        return Math.max(0, deadline - nowNanos);
    }

    /** What the oldest event's lag is aimed at: 90 % of the target, leaving room for a write slower than the last. */
    private long aimNanos() {
        return targetLagNanos - targetLagNanos / 10;
    }

    /** How long writing {@code events} should take, from the per-event cost of recent larger batches. */
    private long predictedWriteNanos(int events) {
        return (long) (perEventNanos * events);
    }

    @Override
    public void onFlushed(int events, long oldestNanos, long startNanos, long endNanos) {
        // The previous batch's events arrived between its oldest and this one's oldest.
        if (lastOldestNanos != Long.MIN_VALUE && oldestNanos - lastOldestNanos > 0) {
            double rate = (double) lastEvents / (oldestNanos - lastOldestNanos);
            eventsPerNano = eventsPerNano == 0 ? rate : eventsPerNano * (1 - RATE_WEIGHT) + rate * RATE_WEIGHT;
        }
        lastOldestNanos = oldestNanos;
        lastEvents = events;
        if (events >= MIN_EVENTS_TO_LEARN_COST) {
            double cost = (double) (endNanos - startNanos) / events;
            perEventNanos = perEventNanos == 0 ? cost : perEventNanos * (1 - RATE_WEIGHT) + cost * RATE_WEIGHT;
        }
        // Feedback on what matters, the oldest event's lag (the batch's largest): over the aim, linger less by the
        // whole overshoot at once; under it, linger longer by half the headroom, at most 2 % of the target per batch
        // (measured: 5 % came back so fast that the tail of the lag crossed the target).
        long lagNanos = endNanos - oldestNanos;
        long aim = aimNanos();
        if (lagNanos > aim) {
            plannedNanos = Math.max(0, plannedNanos - (lagNanos - aim));
        } else {
            plannedNanos = Math.min(aim, plannedNanos + Math.min((aim - lagNanos) / 2, targetLagNanos / 50));
        }
        lingerNanos = eventsPerNano * plannedNanos < 1 ? 0 : plannedNanos;
    }

    @Override
    public int batchSizeEvents() {
        return MAX_BATCH_EVENTS;
    }

    @Override
    public long lingerNanos() {
        return lingerNanos;
    }

    /** The target visibility lag this policy keeps. */
    public long targetLagNanos() {
        return targetLagNanos;
    }
}
