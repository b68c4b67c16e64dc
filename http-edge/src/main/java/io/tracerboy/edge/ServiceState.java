package io.tracerboy.edge;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Lifecycle flags read by every handler, and the gate that makes stopping safe: once {@link #stopAccepting()} returns,
 * no POST is between its "accepting?" check and its publish, so draining the ring afterwards misses nothing.
 */
final class ServiceState {
    private final AtomicLong publishing = new AtomicLong();
    volatile boolean accepting = true;
    volatile boolean migrated;
    volatile String fatalError;

    /** What became of a publish through the gate. */
    enum Publish {
        PUBLISHED, RING_FULL, SHUTTING_DOWN
    }

    /**
     * Runs {@code tryPublish} (true when the ring took the events) inside the gate, or not at all once the service has
     * stopped accepting events. Only {@link PublishGate} calls it: it counts and words the refusals.
     */
    Publish publish(BooleanSupplier tryPublish) {
        publishing.incrementAndGet();
        try {
            if (!accepting) {
                return Publish.SHUTTING_DOWN;
            }
            return tryPublish.getAsBoolean() ? Publish.PUBLISHED : Publish.RING_FULL;
        } finally {
            publishing.decrementAndGet();
        }
    }

    /** Refuses new events and waits for the publishes already past the check (a few microseconds at most). */
    void stopAccepting() {
        accepting = false;
        while (publishing.get() != 0) {
            Thread.onSpinWait();
        }
    }
}
