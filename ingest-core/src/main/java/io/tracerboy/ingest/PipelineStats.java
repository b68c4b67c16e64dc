package io.tracerboy.ingest;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters shared by the edge and the consumer, read by metrics and readiness. Writers are lock-free; the per-event
 * counters are {@link LongAdder}s because every IO thread updates them.
 */
public final class PipelineStats {
    /** Why an event was refused at the edge; each has its own counter. */
    public enum Rejection {
        INVALID, TOO_LARGE, RING_FULL, SHUTTING_DOWN
    }

    final LongAdder accepted = new LongAdder();
    private final LongAdder[] rejected = new LongAdder[Rejection.values().length];
    final AtomicLong rowsWritten = new AtomicLong();
    final AtomicLong resends = new AtomicLong();
    final AtomicLong batchesWritten = new AtomicLong();
    final AtomicLong writeFailures = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong abandoned = new AtomicLong();
    final AtomicLong abandonedInDoubt = new AtomicLong();
    final AtomicLong[] flushesByTrigger = new AtomicLong[BatchPolicy.Trigger.values().length];
    volatile boolean writesFailing;

    public PipelineStats() {
        for (int i = 0; i < flushesByTrigger.length; i++) {
            flushesByTrigger[i] = new AtomicLong();
        }
        for (int i = 0; i < rejected.length; i++) {
            rejected[i] = new LongAdder();
        }
    }

    public long accepted() {
        return accepted.sum();
    }

    /** Counts one refused event; called on IO threads. */
    public void reject(Rejection reason) {
        rejected[reason.ordinal()].increment();
    }

    /** Counts {@code events} refused together (a batch request). */
    public void reject(Rejection reason, int events) {
        rejected[reason.ordinal()].add(events);
    }

    public long rejected(Rejection reason) {
        return rejected[reason.ordinal()].sum();
    }

    public long rowsWritten() {
        return rowsWritten.get();
    }

    /** Events acknowledged but not stored again: their id was already counted for their hour. */
    public long resends() {
        return resends.get();
    }

    public long batchesWritten() {
        return batchesWritten.get();
    }

    /**
     * A number that moves whenever this process commits a batch, for caches of aggregates: an answer read at one
     * generation is stale once the generation moves. Moves before the committed rows are counted.
     */
    public long commitGeneration() {
        return batchesWritten.get();
    }

    public long writeFailures() {
        return writeFailures.get();
    }

    public long deadLettered() {
        return deadLettered.get();
    }

    /** Events given up at shutdown because the database stayed unreachable past the shutdown timeout. */
    public long abandoned() {
        return abandoned.get();
    }

    /**
     * Of the {@link #abandoned()} events, those whose batch may have committed: a COMMIT was sent, its reply was lost,
     * and the database stayed unreachable, so nobody could check.
     */
    public long abandonedInDoubt() {
        return abandonedInDoubt.get();
    }

    public long flushes(BatchPolicy.Trigger trigger) {
        return flushesByTrigger[trigger.ordinal()].get();
    }

    /** True from a failed write until the next successful one. */
    public boolean writesFailing() {
        return writesFailing;
    }
}
