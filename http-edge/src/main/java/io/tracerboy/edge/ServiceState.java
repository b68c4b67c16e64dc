package io.tracerboy.edge;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Lifecycle flags read by every handler, and the gate that makes stopping safe: once {@link #stopAccepting()} returns,
 * no POST is between its "accepting?" check and its publish, so draining the ring afterwards misses nothing.
 */
final class ServiceState {
    private final AtomicLong publishing = new AtomicLong();
    volatile boolean accepting = true;
    volatile boolean migrated;
    volatile String fatalError;

    /** Enters the publish section; false (and nothing to exit) when the service no longer accepts events. */
    boolean enterPublish() {
        publishing.incrementAndGet();
        if (accepting) {
            return true;
        }
        publishing.decrementAndGet();
        return false;
    }

    void exitPublish() {
        publishing.decrementAndGet();
    }

    /** Refuses new events and waits for the publishes already past the check (a few microseconds at most). */
    void stopAccepting() {
        accepting = false;
        while (publishing.get() != 0) {
            Thread.onSpinWait();
        }
    }
}
