package io.tracerboy.bench;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.storage.BinaryCopyEncoder;

/** The raw-COPY baselines' encoding: a whole batch in one buffer, as the writer encodes it chunk by chunk. */
final class RawCopy {
    private RawCopy() {
    }

    /** Encodes every event of {@code batch}; read the result with {@code buffer()} and {@code length()}. */
    static void encode(BinaryCopyEncoder encoder, EventBatch batch) {
        encoder.start();
        for (int i = 0; i < batch.size(); i++) {
            encoder.row(batch, i);
        }
        encoder.finish();
    }
}
