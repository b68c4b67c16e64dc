package io.tracerboy.ingest;

import com.lmax.disruptor.EventPoller.PollState;
import com.lmax.disruptor.EventPoller;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single consumer of the {@link EventRing}: copies events into an {@link EventBatch}, asks the {@link BatchPolicy}
 * when to flush, hands each batch to the {@link WriterLanes} (one {@link BatchWriter} per lane: retries, isolation of
 * refused events) and settles what they answer: the events' listeners and the stats, once per part. Runs on its own
 * thread, {@code tracerboy-writer}; {@link #stop} is the stop sequence.
 */
public final class BatchingConsumer implements Runnable {
    /** How the consumer waits between retries; tests pass one that records instead of sleeping. */
    @FunctionalInterface
    public interface Sleeper {
        void sleepMs(long delayMs) throws InterruptedException;
    }

    /** What one {@link #step} did. */
    enum Step {
        BUSY, GATING, IDLE, DONE
    }

    private static final Logger log = LoggerFactory.getLogger(BatchingConsumer.class);
    /**
     * The longest the idle writer parks without looking at the clock and the stop flag: a bound on how late it can
     * notice a policy whose deadline moved without a wake-up (a lost unpark); producers and stop() unpark it at once.
     */
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final EventRing ring;
    /** The policy to use from the next step; {@link #policy} is the one in use, read by the writer only. */
    private volatile BatchPolicy nextPolicy;
    private BatchPolicy policy;
    private final LongSupplier nanoClock;
    private final PipelineStats stats;
    private volatile FlushListener flushListener = FlushListener.NONE;
    private final WriterLanes writer;
    private final Settling settlement = new Settling();
    private final EventBatch batch;
    private final EventPoller<EventSlot> poller;
    private final EventPoller.Handler<EventSlot> copyIntoBatch;
    private final Thread thread;
    private volatile boolean stopRequested;
    private volatile boolean abandonRequested;

    public BatchingConsumer(EventRing ring, BatchPolicy policy, BatchSink sink, RetryBackoff backoff,
                            LongSupplier nanoClock, Sleeper sleeper, PipelineStats stats) {
        this(ring, policy, List.of(sink), backoff, nanoClock, sleeper, stats);
    }

    /** A consumer whose batches are written in {@code laneSinks.size()} lanes, one per sink ({@link WriterLanes}). */
    public BatchingConsumer(EventRing ring, BatchPolicy policy, List<? extends BatchSink> laneSinks,
                            RetryBackoff backoff, LongSupplier nanoClock, Sleeper sleeper, PipelineStats stats) {
        this.ring = ring;
        this.policy = policy;
        this.nextPolicy = policy;
        this.nanoClock = nanoClock;
        this.stats = stats;
        this.batch = new EventBatch(Math.min(policy.batchSizeEvents(), 1 << 16));
        this.poller = ring.poller();
        this.copyIntoBatch = (slot, sequence, endOfBatch) -> {
            batch.add(slot.timestampMs, slot.userId, slot.kind, slot.eventId, slot.listener, slot.publishedNanos,
                    slot.request);
            slot.clear();
            // Never split a keyed request (its key is recorded with all its events or not at all).
            return batch.size() < this.policy.batchSizeEvents() || batch.endsInsideARequest();
        };
        this.writer = new WriterLanes(laneSinks, backoff, sleeper, () -> abandonRequested, stats, batch.capacity());
        this.thread = new Thread(this, "tracerboy-writer");
        this.thread.setDaemon(true);
    }

    /** Tells {@code listener} about every batch written from now on (metrics); call before {@link #start()}. */
    public void setFlushListener(FlushListener listener) {
        this.flushListener = listener;
    }

    /**
     * Replaces the batch policy (a setting changed at runtime). The writer takes it at its next step: the batch in hand
     * is kept and flushed under the new policy, so no event is lost, reordered or held back longer than the new
     * policy allows.
     */
    public void setPolicy(BatchPolicy next) {
        nextPolicy = next;
        ring.wakeConsumer();
    }

    /** The policy in force (or about to be): for metrics and the settings API. */
    public BatchPolicy policy() {
        return nextPolicy;
    }

    /** Starts the writer thread. */
    public void start() {
        thread.start();
    }

    @Override
    public void run() {
        try {
            for (;;) {
                Step step = step();
                if (step == Step.DONE) {
                    writer.close();
                    return;
                }
                if (step == Step.IDLE) {
                    long waitNanos = policy.nanosUntilFlush(batch.size(), batch.oldestPublishedNanos(),
                            nanoClock.getAsLong());
                    ring.parkConsumer(Math.min(waitNanos, MAX_PARK_NANOS));
                } else if (step == Step.GATING) {
                    Thread.onSpinWait();
                }
            }
        } catch (RuntimeException | Error e) {
            log.error("writer thread died; events still in the ring will not be written", e);
            throw e;
        }
    }

    /**
     * Polls the ring once, flushes if the policy says so, and tells what happened. Package-private so tests can drive
     * the consumer with a fake clock and no thread.
     */
    Step step() {
        policy = nextPolicy;
        boolean stopping = stopRequested;
        PollState state;
        // A claim's slots become visible one by one as its producer publishes them: the rest of a keyed request the
        // batch ends inside is about to be; wait for it rather than flush half of it.
        boolean insideARequest = batch.endsInsideARequest();
        if (batch.size() >= policy.batchSizeEvents() && !insideARequest) {
            state = PollState.PROCESSING; // full already: the batch size was lowered, flush before taking more
        } else {
            try {
                state = poller.poll(copyIntoBatch);
            } catch (Exception e) {
                throw new IllegalStateException("polling the ring failed", e);
            }
        }
        insideARequest = batch.endsInsideARequest();
        boolean drainedForShutdown = stopping && state == PollState.IDLE && !insideARequest;
        BatchPolicy.Trigger trigger = insideARequest ? BatchPolicy.Trigger.NONE : policy.decide(batch.size(),
                batch.oldestPublishedNanos(), nanoClock.getAsLong(), drainedForShutdown);
        if (trigger != BatchPolicy.Trigger.NONE) {
            flush(trigger);
        }
        if (drainedForShutdown && batch.isEmpty()) {
            return Step.DONE;
        }
        return switch (state) {
            case PROCESSING -> Step.BUSY;
            case GATING -> Step.GATING;
            case IDLE -> Step.IDLE;
        };
    }

    private void flush(BatchPolicy.Trigger trigger) {
        int events = batch.size();
        long oldestNanos = batch.oldestPublishedNanos();
        long startNanos = nanoClock.getAsLong();
        if (writer.write(batch, settlement)) {
            long endNanos = nanoClock.getAsLong();
            stats.onFlushed(trigger);
            policy.onFlushed(events, oldestNanos, startNanos, endNanos);
            flushListener.onFlush(events, trigger, endNanos - startNanos);
        }
        batch.clear();
        ring.onConsumerProgress();
    }

    /**
     * When the oldest event not yet written was published (the batch in hand, else the ring's head), or
     * {@code Long.MAX_VALUE} when everything is written. Racy by design: read by metrics from any thread.
     */
    public long oldestUnwrittenNanos() {
        long inHand = batch.oldestPublishedNanos();
        return inHand != Long.MAX_VALUE ? inHand : ring.headPublishedNanos(); // the batch in hand is the older
    }

    /** How long the oldest event not yet written has waited; 0 when everything is written. Racy, as above. */
    public long oldestUnwrittenAgeNanos() {
        long oldest = oldestUnwrittenNanos();
        return oldest == Long.MAX_VALUE ? 0 : Math.max(0, nanoClock.getAsLong() - oldest);
    }

    /** Tells each event's listener and the stats what became of it; one call per part of a batch. */
    private final class Settling implements BatchWriter.Settlement {
        @Override
        public void onCommitted(EventBatch part, WriteOutcome outcome) {
            stats.onBatchCommitted(part.size(), outcome.resendCount());
            for (int i = 0; i < part.size(); i++) {
                CommitListener listener = part.listener(i);
                if (listener != null) {
                    listener.onCommitted(outcome.isResend(i));
                }
            }
        }

        @Override
        public void onDeadLettered(EventBatch part) {
            stats.onDeadLettered(part.size());
            for (int i = 0; i < part.size(); i++) {
                CommitListener listener = part.listener(i);
                if (listener != null) {
                    listener.onCommitted(false); // stored, in the dead letters: not a resend
                }
            }
        }

        /** A COMMIT sent and its reply lost: the listeners hear "outcome unknown", never "not written". */
        @Override
        public void onAbandoned(EventBatch part, boolean inDoubt) {
            stats.onAbandoned(part.size(), inDoubt);
            for (int i = 0; i < part.size(); i++) {
                CommitListener listener = part.listener(i);
                if (listener == null) {
                    continue;
                }
                if (inDoubt) {
                    listener.onOutcomeUnknown();
                } else {
                    listener.onAbandoned();
                }
            }
        }
    }

    /**
     * Stops the consumer after it has written everything published so far; call once producers have stopped. Waits up
     * to {@code timeoutMs}; past that (the database still failing) the unwritten events are abandoned and counted.
     * Answers how many events were abandoned, 0 on a clean stop.
     */
    public long stop(long timeoutMs) throws InterruptedException {
        stopRequested = true;
        ring.wakeConsumer();
        if (thread.getState() == Thread.State.NEW) {
            // Never started (the schema was never migrated): nothing can be written, so count what is in the ring.
            abandonRequested = true;
            while (step() != Step.DONE) {
                Thread.onSpinWait();
            }
            writer.close();
            return stats.abandoned();
        }
        thread.join(Math.max(1, timeoutMs)); // join(0) would wait forever
        if (thread.isAlive()) {
            // From now on every batch, the one being retried and all still in the ring, is counted and dropped at once.
            abandonRequested = true;
            thread.interrupt();
            thread.join();
        }
        return stats.abandoned();
    }
}
