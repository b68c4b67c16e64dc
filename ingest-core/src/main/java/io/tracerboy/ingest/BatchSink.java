package io.tracerboy.ingest;

/**
 * Where batches go: the port that {@code storage} implements, so this module knows no SQL. Called only on the
 * consumer thread, one batch at a time; a sink must not keep the batch after a call returns.
 */
public interface BatchSink {
    /**
     * Writes the whole batch atomically and answers which events were resends: when it returns, every event is durable
     * (or was already); when it throws, none is, unless it throws a {@link CommitUnknownException}. Throws
     * {@link TransientWriteException} for failures worth retrying unchanged (database unreachable, deadlock); any other
     * exception means the data itself was refused. When a retry finds the batch committed by an attempt whose reply was
     * lost, answers {@link WriteOutcome#ALREADY_COMMITTED}.
     */
    WriteOutcome write(EventBatch batch) throws Exception;

    /** Stores events the sink refused, with the reason, so the pipeline never wedges on one bad event. */
    void deadLetter(EventBatch batch, String reason) throws Exception;
}
