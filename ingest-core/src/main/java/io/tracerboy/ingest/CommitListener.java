package io.tracerboy.ingest;

/**
 * Told what became of one event once its batch is settled; used by {@code ACK_MODE=committed} to answer the request.
 * Called on the consumer thread, so implementations must only hand off (e.g. resume a suspended exchange).
 */
public interface CommitListener {
    /**
     * The transaction holding the event has committed. {@code resend} is true when the event carried an id already
     * stored for its hour: acknowledged again, stored and counted once.
     */
    void onCommitted(boolean resend);

    /** The event was not written and will not be by this process (shutdown with the database unreachable). */
    void onAbandoned();

    /**
     * The event may or may not be stored: its batch's COMMIT was sent, the reply was lost, and the process stopped
     * before the database could be asked. Sending it again may count it twice.
     */
    void onOutcomeUnknown();
}
