package io.tracerboy.ingest;

import java.util.concurrent.atomic.AtomicInteger;

/** Counts what each event's listener was told. */
final class RecordingCommitListener implements CommitListener {
    final AtomicInteger committed = new AtomicInteger();
    final AtomicInteger resends = new AtomicInteger();
    final AtomicInteger abandoned = new AtomicInteger();
    final AtomicInteger outcomeUnknown = new AtomicInteger();

    @Override
    public void onCommitted(boolean resend) {
        committed.incrementAndGet();
        if (resend) {
            resends.incrementAndGet();
        }
    }

    @Override
    public void onAbandoned() {
        abandoned.incrementAndGet();
    }

    @Override
    public void onOutcomeUnknown() {
        outcomeUnknown.incrementAndGet();
    }
}
