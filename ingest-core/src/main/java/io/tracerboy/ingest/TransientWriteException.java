package io.tracerboy.ingest;

/** A write failed for a reason that a retry of the same batch may cure (connection lost, server shutting down). */
public final class TransientWriteException extends Exception {
    private static final long serialVersionUID = 1L;

    public TransientWriteException(String message, Throwable cause) {
        super(message, cause);
    }
}
