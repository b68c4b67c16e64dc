package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

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

        assertThat(ring.tryPublishAll(events(4), null)).isTrue();
        assertThat(ring.depthSlots()).isEqualTo(64);
    }

    /** What the ring logs while a full ring is drained by half, with the service accepting events or not. */
    private static List<String> drainingLog(boolean accepting) throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        Logger logger = (Logger) LoggerFactory.getLogger(EventRing.class);
        logger.addAppender(logged);
        try {
            EventRing ring = new EventRing(64, () -> 0L, new PipelineStats(), () -> accepting);
            assertThat(ring.tryPublishAll(events(64), null)).isTrue();
            assertThat(ring.tryPublishAll(events(1), null)).as("full").isFalse();
            ring.poller().poll((slot, sequence, endOfBatch) -> sequence < 40);
            ring.onConsumerProgress();
            ring.onConsumerProgress();
        } finally {
            logger.detachAppender(logged);
        }
        return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aFullRingWithRoomAgainSaysWhetherTheServiceAcceptsEventsOnceEach() throws Exception {
        assertThat(drainingLog(true)).containsExactly(
                "ring full (64 events waiting): answering 503 until the writer catches up",
                "ring draining: 23 of 64 slots in use, accepting again");
        assertThat(drainingLog(false)).containsExactly(
                "ring full (64 events waiting): answering 503 until the writer catches up",
                "ring draining: 23 of 64 slots in use; not accepting events: shutting down");
    }

    @Test
    void theConsumerSeesABatchsEventsInOrderWithTheirIds() throws InterruptedException {
        RecordingBatchSink sink = new RecordingBatchSink();
        BatchingConsumer consumer = new BatchingConsumer(ring, BatchPolicy.fixed(100, 0), sink,
                new RetryBackoff(1, 1), () -> 0L, delayMs -> { }, stats);
        assertThat(ring.tryPublishAll(events(3), null)).isTrue();
        consumer.start();
        assertThat(consumer.stop(10_000)).isZero();
        assertThat(sink.written()).extracting(TrackedEvent::userId).containsExactly("u0", "u1", "u2");
        assertThat(sink.written()).extracting(TrackedEvent::eventId).containsExactly("id-0", "id-1", "id-2");
    }
}
