package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.PipelineStats.Rejection;
import io.tracerboy.ingest.TrackedEvent;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The gate counts each refused event once, under the reason it answers with, whichever way it was refused. */
class PublishGateTest {
    private static final long T0 = 1_700_000_000_000L;
    private final PipelineStats stats = new PipelineStats();
    private final ServiceState state = new ServiceState();
    private final EventRing ring = new EventRing(4, () -> 0L, stats, () -> state.accepting);
    private final PublishGate gate = new PublishGate(ring, stats, state);

    private static List<TrackedEvent> events(int n) {
        return IntStream.range(0, n).mapToObj(i -> new TrackedEvent(T0, "u" + i, EventKind.CLICK)).toList();
    }

    @Test
    void aFullRingIsCountedOncePerRefusedEventAndAnsweredWithItsReason() {
        assertThat(gate.publishAll(events(3), null, null)).isNull();

        assertThat(gate.publishAll(events(2), null, null)).isEqualTo(PublishGate.Refusal.RING_FULL);
        assertThat(gate.refusalFor(5)).isEqualTo(PublishGate.Refusal.RING_FULL);
        assertThat(gate.refusalFor(1)).as("one slot is left").isNull();
        assertThat(gate.publish(new TrackedEvent(T0, "last", EventKind.CLICK), null)).isNull();
        assertThat(gate.publish(new TrackedEvent(T0, "over", EventKind.CLICK), null))
                .isEqualTo(PublishGate.Refusal.RING_FULL);

        assertThat(stats.accepted()).isEqualTo(4);
        assertThat(stats.rejected(Rejection.RING_FULL)).isEqualTo(2 + 5 + 1);
        assertThat(stats.rejected(Rejection.SHUTTING_DOWN)).isZero();
        assertThat(PublishGate.Refusal.RING_FULL.reason())
                .isEqualTo("buffer full: the database is not keeping up; retry later");
    }

    @Test
    void onceStoppedEveryRefusalIsShuttingDownEvenWithRoomInTheRing() {
        state.stopAccepting();

        assertThat(gate.publish(new TrackedEvent(T0, "late", EventKind.CLICK), null))
                .isEqualTo(PublishGate.Refusal.SHUTTING_DOWN);
        assertThat(gate.refusalFor(3)).isEqualTo(PublishGate.Refusal.SHUTTING_DOWN);
        assertThat(gate.publishAll(events(2), null, null)).isEqualTo(PublishGate.Refusal.SHUTTING_DOWN);

        assertThat(stats.accepted()).isZero();
        assertThat(ring.depthSlots()).isZero();
        assertThat(stats.rejected(Rejection.SHUTTING_DOWN)).isEqualTo(1 + 3 + 2);
        assertThat(stats.rejected(Rejection.RING_FULL)).isZero();
        assertThat(PublishGate.Refusal.SHUTTING_DOWN.reason())
                .isEqualTo("shutting down: not accepting events; send them to another replica");
    }
}
