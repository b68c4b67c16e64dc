package io.tracerboy.ingest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.Predicate;

/** A sink that keeps what it is given, fails transiently a set number of times, and refuses chosen events. */
final class RecordingBatchSink implements BatchSink {
    final List<List<TrackedEvent>> batches = new ArrayList<>();
    final List<TrackedEvent> deadLetters = new ArrayList<>();
    final List<String> deadLetterReasons = new ArrayList<>();
    int transientFailuresLeft;
    int deadLetterFailuresLeft;
    Predicate<TrackedEvent> refused = event -> false;
    /** How long a write takes, told to {@link #clock} (a test's fake clock) after each successful write. */
    long writeNanos;
    LongConsumer clock = nanos -> { };

    @Override
    public WriteOutcome write(EventBatch batch) throws Exception {
        if (transientFailuresLeft > 0) {
            transientFailuresLeft--;
            throw new TransientWriteException("connection refused", null);
        }
        List<TrackedEvent> events = events(batch);
        for (TrackedEvent event : events) {
            if (refused.test(event)) {
                throw new IllegalArgumentException("refused " + event.userId());
            }
        }
        batches.add(events);
        clock.accept(writeNanos);
        return WriteOutcome.NO_RESENDS;
    }

    @Override
    public void deadLetter(EventBatch batch, String reason) {
        if (deadLetterFailuresLeft > 0) {
            deadLetterFailuresLeft--;
            throw new IllegalStateException("dead_letters: relation does not exist");
        }
        deadLetters.addAll(events(batch));
        deadLetterReasons.add(reason);
    }

    List<TrackedEvent> written() {
        return batches.stream().flatMap(List::stream).toList();
    }

    private static List<TrackedEvent> events(EventBatch batch) {
        List<TrackedEvent> events = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            events.add(new TrackedEvent(batch.timestampMs(i), batch.userId(i), batch.kind(i), batch.eventId(i)));
        }
        return events;
    }
}
