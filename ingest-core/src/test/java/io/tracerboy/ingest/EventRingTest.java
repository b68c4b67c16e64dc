package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EventRingTest {
    private static final long T0 = 1_700_000_000_000L;

    private final PipelineStats stats = new PipelineStats();
    private final EventRing ring = new EventRing(64, () -> 0L, stats);

    private static List<TrackedEvent> events(int n) {
        return IntStream.range(0, n).mapToObj(i -> new TrackedEvent(T0, "u" + i, EventKind.CLICK, "id-" + i)).toList();
    }

    @Test
    void aBatchEntersWholeOrNotAtAll() {
        assertThat(ring.tryPublishAll(events(60), null)).isTrue();
        assertThat(ring.depthSlots()).isEqualTo(60);

        assertThat(ring.tryPublishAll(events(5), null)).as("5 do not fit in the 4 slots left").isFalse();
        assertThat(ring.depthSlots()).isEqualTo(60);
        assertThat(stats.accepted()).isEqualTo(60);
        assertThat(stats.rejected(PipelineStats.Rejection.RING_FULL)).isEqualTo(5);

        assertThat(ring.tryPublishAll(events(4), null)).isTrue();
        assertThat(ring.depthSlots()).isEqualTo(64);
    }

    @Test
    void theConsumerSeesABatchsEventsInOrderWithTheirIds() throws InterruptedException {
        RecordingBatchSink sink = new RecordingBatchSink();
        BatchingConsumer consumer = new BatchingConsumer(ring, new BatchPolicy(100, 0), sink,
                new RetryBackoff(1, 1), () -> 0L, delayMs -> { }, stats);
        assertThat(ring.tryPublishAll(events(3), null)).isTrue();
        consumer.start();
        assertThat(consumer.stop(10_000)).isZero();
        assertThat(sink.written()).extracting(TrackedEvent::userId).containsExactly("u0", "u1", "u2");
        assertThat(sink.written()).extracting(TrackedEvent::eventId).containsExactly("id-0", "id-1", "id-2");
    }
}
