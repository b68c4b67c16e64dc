package io.tracerboy.ingest;

import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a batch gets into the {@link BatchSink} whatever fails, beside the consumer that gathers it (the Disruptor's
 * {@code BatchRewindStrategy} and {@code ExceptionHandler} are the model): a transient failure is retried unchanged,
 * with {@link RetryBackoff}, until it succeeds or a stop gives up; a batch the sink refuses for its data is split in
 * halves until the refused events are found, and those are dead-lettered, retried until stored. Tells a
 * {@link Settlement} what became of each part, exactly once per event. Writer thread only.
 */
final class BatchWriter {
    /** What became of each part of a batch; called on the writer thread, once per part. */
    interface Settlement {
        /** The part committed; {@code outcome} says which of its events were resends. */
        void onCommitted(EventBatch part, WriteOutcome outcome);

        /** The part, one event the database refuses, is stored in the dead letters. */
        void onDeadLettered(EventBatch part);

        /** The part was given up (a stop while the database fails); {@code inDoubt}: its COMMIT may have applied. */
        void onAbandoned(EventBatch part, boolean inDoubt);
    }

    private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);

    private final BatchSink sink;
    private final RetryBackoff backoff;
    private final BatchingConsumer.Sleeper sleeper;
    private final BooleanSupplier abandonRequested;
    private final PipelineStats stats;

    BatchWriter(BatchSink sink, RetryBackoff backoff, BatchingConsumer.Sleeper sleeper,
                BooleanSupplier abandonRequested, PipelineStats stats) {
        this.sink = sink;
        this.backoff = backoff;
        this.sleeper = sleeper;
        this.abandonRequested = abandonRequested;
        this.stats = stats;
    }

    /** Writes {@code batch}, settling every event; false when a stop gave part of it up. */
    boolean write(EventBatch batch, Settlement settlement) {
        return writeOrIsolate(batch, settlement);
    }

    private boolean writeOrIsolate(EventBatch part, Settlement settlement) {
        Attempts attempts = new Attempts();
        try {
            WriteOutcome outcome = retryWrite(part, attempts);
            if (outcome == null) {
                settlement.onAbandoned(part, attempts.inDoubt);
                return false;
            }
            settlement.onCommitted(part, outcome);
            return true;
        } catch (Exception refused) {
            if (part.size() > 1) {
                int middle = part.size() / 2;
                EventBatch right = part.slice(middle, part.size());
                if (!writeOrIsolate(part.slice(0, middle), settlement)) {
                    settlement.onAbandoned(right, false); // never attempted on its own; the whole was refused
                    return false;
                }
                return writeOrIsolate(right, settlement);
            }
            String reason = String.valueOf(refused.getMessage());
            log.warn("dead-lettering an event the database refused: {}", reason);
            if (!retryDeadLetter(part, reason)) {
                settlement.onAbandoned(part, false);
                return false;
            }
            settlement.onDeadLettered(part);
            return true;
        }
    }

    /** What the failed attempts at one part have taught: whether its COMMIT may have applied, and with what. */
    private static final class Attempts {
        boolean inDoubt;
        WriteOutcome outcomeIfCommitted;

        void learn(TransientWriteException failure) {
            if (failure instanceof CommitUnknownException unknown) {
                inDoubt = true;
                outcomeIfCommitted = unknown.outcomeIfCommitted();
            } else if (failure.provedUncommitted()) {
                inDoubt = false;
            }
        }
    }

    /**
     * Writes the part, retrying transient failures with backoff until it succeeds; null when a stop gave it up. Any
     * other failure means the data was refused and is thrown, so the caller can isolate the offending events.
     */
    private WriteOutcome retryWrite(EventBatch part, Attempts attempts) throws Exception {
        for (int attempt = 0; ; attempt++) {
            if (abandonRequested.getAsBoolean()) {
                return null;
            }
            try {
                WriteOutcome outcome = sink.write(part);
                onWriteSucceeded(attempt);
                // A retry that found the batch committed: the attempt that lost its reply did the work.
                return outcome == WriteOutcome.ALREADY_COMMITTED && attempts.outcomeIfCommitted != null
                        ? attempts.outcomeIfCommitted : outcome;
            } catch (TransientWriteException e) {
                attempts.learn(e);
                onWriteFailed(attempt, e);
            }
        }
    }

    /** Dead-letters the event, retrying every failure, since this is the last place to put it; false when given up. */
    private boolean retryDeadLetter(EventBatch part, String reason) {
        for (int attempt = 0; ; attempt++) {
            if (abandonRequested.getAsBoolean()) {
                return false;
            }
            try {
                sink.deadLetter(part, reason);
                onWriteSucceeded(attempt);
                return true;
            } catch (Exception e) {
                onWriteFailed(attempt, e);
            }
        }
    }

    private void onWriteSucceeded(int failedAttempts) {
        if (stats.onWriteSucceeded()) {
            log.info("database writes recovered after {} failed attempts", failedAttempts);
        }
    }

    private void onWriteFailed(int attempt, Exception e) {
        if (stats.onWriteFailed()) {
            log.warn("database writes failing, retrying with backoff up to {} ms: {}", backoff.maxDelayMs(),
                    e.getMessage());
        }
        try {
            sleeper.sleepMs(backoff.delayMs(attempt));
        } catch (InterruptedException interrupted) {
            // A stop interrupts only to give up; the check at the top of the retry loop sees it.
        }
    }
}
