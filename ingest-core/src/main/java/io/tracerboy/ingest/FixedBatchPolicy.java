package io.tracerboy.ingest;

/**
 * Flushes a batch when it holds {@code batchSizeEvents}, or when its oldest event has waited
 * {@code flushIntervalNanos} ({@code BATCH_SIZE}, {@code FLUSH_INTERVAL_MS}). Immutable.
 */
public record FixedBatchPolicy(int batchSizeEvents, long flushIntervalNanos) implements BatchPolicy {
    public FixedBatchPolicy {
        if (batchSizeEvents < 1) {
            throw new IllegalArgumentException("batchSizeEvents must be positive: " + batchSizeEvents);
        }
        if (flushIntervalNanos < 0) {
            throw new IllegalArgumentException("flushIntervalNanos must not be negative: " + flushIntervalNanos);
        }
    }

    @Override
    public Trigger decide(int bufferedEvents, long oldestNanos, long nowNanos, boolean drainedForShutdown) {
        if (bufferedEvents == 0) {
            return Trigger.NONE;
        }
        boolean full = bufferedEvents >= batchSizeEvents;
        boolean expired = nowNanos - oldestNanos >= flushIntervalNanos;
        return BatchPolicy.trigger(full, expired, drainedForShutdown);
    }

    @Override
    public long nanosUntilFlush(int bufferedEvents, long oldestNanos, long nowNanos) {
        return bufferedEvents == 0 ? Long.MAX_VALUE : Math.max(0, oldestNanos + flushIntervalNanos - nowNanos);
    }

    @Override
    public void onFlushed(int events, long oldestNanos, long startNanos, long endNanos) {
        // nothing to learn: the operator chose
    }

    @Override
    public long lingerNanos() {
        return flushIntervalNanos;
    }
}
