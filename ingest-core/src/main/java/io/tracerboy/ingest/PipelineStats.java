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
    private final AtomicLong rowsWritten = new AtomicLong();
    private final AtomicLong resends = new AtomicLong();
    private final AtomicLong batchesWritten = new AtomicLong();
    private final AtomicLong writeFailures = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    private final AtomicLong abandonedInDoubt = new AtomicLong();
    private final AtomicLong[] flushesByTrigger = new AtomicLong[BatchPolicy.Trigger.values().length];
    private volatile boolean writesFailing;

    public PipelineStats() {
        for (int i = 0; i < flushesByTrigger.length; i++) {
            flushesByTrigger[i] = new AtomicLong();
        }
        for (int i = 0; i < rejected.length; i++) {
            rejected[i] = new LongAdder();
        }
    }

    /**
     * A batch committed: {@code events} acknowledged, {@code resends} of them not stored again. One call per committed
     * batch, on the writer thread.
     */
    void onBatchCommitted(int events, int resendEvents) {
        batchesWritten.incrementAndGet();
        rowsWritten.addAndGet(events - resendEvents);
        resends.addAndGet(resendEvents);
    }

    /** {@code events} the database refused were stored in the dead letters. */
    void onDeadLettered(int events) {
        deadLettered.addAndGet(events);
    }

    /** {@code events} were given up at shutdown; {@code inDoubt} when their batch's COMMIT may have been applied. */
    void onAbandoned(int events, boolean inDoubt) {
        abandoned.addAndGet(events);
        if (inDoubt) {
            abandonedInDoubt.addAndGet(events);
        }
    }

    /** A batch was flushed for {@code trigger}. */
    void onFlushed(BatchPolicy.Trigger trigger) {
        flushesByTrigger[trigger.ordinal()].incrementAndGet();
    }

    /** A write attempt failed; true when writes were not failing before (the start of an outage, logged once). */
    boolean onWriteFailed() {
        writeFailures.incrementAndGet();
        boolean wasFailing = writesFailing;
        writesFailing = true;
        return !wasFailing;
    }

    /** A write succeeded; true when writes were failing before (the end of an outage, logged once). */
    boolean onWriteSucceeded() {
        if (!writesFailing) {
            return false;
        }
        writesFailing = false;
        return true;
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
