package io.tracerboy.ingest;

/**
 * A COMMIT was sent and its reply lost: the batch may be stored. It carries the outcome the attempt would have had,
 * for when a later attempt finds the batch committed ({@link WriteOutcome} of that attempt's resends).
 */
public final class CommitUnknownException extends TransientWriteException {
    private static final long serialVersionUID = 1L;

    private final transient WriteOutcome outcomeIfCommitted;

    public CommitUnknownException(String message, Throwable cause, WriteOutcome outcomeIfCommitted) {
        super(message, cause, false);
        this.outcomeIfCommitted = outcomeIfCommitted;
    }

    /** Which events were resends, should the lost COMMIT have been applied. */
    public WriteOutcome outcomeIfCommitted() {
        return outcomeIfCommitted;
    }
}
