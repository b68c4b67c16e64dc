package io.tracerboy.ingest;

/** Told about every batch the writer has written, for metrics. Called on the writer thread; must not block. */
@FunctionalInterface
public interface FlushListener {
    /**
     * A batch of {@code events} was written (committed or dead-lettered) in {@code durationNanos}, retries included.
     */
    void onFlush(int events, BatchPolicy.Trigger trigger, long durationNanos);

    FlushListener NONE = (events, trigger, durationNanos) -> { };
}
