package io.tracerboy.ingest;

/**
 * A write failed for a reason that a retry of the same batch may cure (connection lost, server shutting down). It
 * also says what the failed attempt learned about earlier attempts: whether it proved that none of them committed
 * (it claimed the batch's id before failing). A COMMIT whose reply was lost is a {@link CommitUnknownException}.
 */
public class TransientWriteException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean provedUncommitted;

    /** A failure that proves nothing about earlier attempts (e.g. the connection was refused). */
    public TransientWriteException(String message, Throwable cause) {
        this(message, cause, false);
    }

    /** {@code provedUncommitted}: the attempt got far enough to know that no attempt before it committed. */
    public TransientWriteException(String message, Throwable cause, boolean provedUncommitted) {
        super(message, cause);
        this.provedUncommitted = provedUncommitted;
    }

    /** True when no attempt so far committed the batch: it is certainly not stored. */
    public boolean provedUncommitted() {
        return provedUncommitted;
    }
}
