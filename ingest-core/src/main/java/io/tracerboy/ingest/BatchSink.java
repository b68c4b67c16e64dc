package io.tracerboy.ingest;

/**
 * Where batches go: the port that {@code storage} implements, so this module knows no SQL. Called only on the
 * consumer thread, one batch at a time.
 */
public interface BatchSink {
    /**
     * Writes the whole batch atomically: when it returns, every event is durable; when it throws, none is. Throws
     * {@link TransientWriteException} for failures worth retrying unchanged (database unreachable, deadlock); any other
     * exception means the data itself was refused.
     */
    void write(EventBatch batch) throws Exception;

    /** Stores events the sink refused, with the reason, so the pipeline never wedges on one bad event. */
    void deadLetter(EventBatch batch, String reason) throws Exception;
}
