package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class BatchingConsumerTest {
    private static final long MS = 1_000_000L;
    private static final long T0 = 1_700_000_000_000L;

    private long nowNanos = 5_000 * MS;
    private final List<Long> sleptMs = new ArrayList<>();
    private final PipelineStats stats = new PipelineStats();
    private final RecordingBatchSink sink = new RecordingBatchSink();
    private final EventRing ring = new EventRing(64, () -> nowNanos, stats);

    private BatchingConsumer consumer(int batchSizeEvents, long flushIntervalMs) {
        return new BatchingConsumer(ring, BatchPolicy.fixed(batchSizeEvents, flushIntervalMs * MS), sink,
                new RetryBackoff(100, 1_000), () -> nowNanos, sleptMs::add, stats);
    }

    private void publish(String... users) {
        for (String user : users) {
            assertThat(ring.tryPublish(T0, user, EventKind.CLICK)).isTrue();
        }
    }

    @Test
    void flushesAsSoonAsTheBatchIsFull() {
        BatchingConsumer consumer = consumer(3, 1_000);
        publish("a", "b", "c", "d");
        consumer.step();
        assertThat(sink.batches).hasSize(1);
        assertThat(sink.batches.get(0)).extracting(TrackedEvent::userId).containsExactly("a", "b", "c");
        assertThat(stats.flushes(BatchPolicy.Trigger.SIZE)).isEqualTo(1);
    }

    @Test
    void aKeyedRequestIsNeverSplitAcrossBatchesEvenPastTheBatchSize() {
        BatchingConsumer consumer = consumer(3, 1_000);
        List<TrackedEvent> request = List.of("a", "b", "c", "d", "e").stream()
                .map(user -> new TrackedEvent(T0, user, EventKind.CLICK)).toList();
        assertThat(ring.tryPublishAll(request, null, new RequestKey("k-1", new byte[32], 5))).isTrue();
        publish("f");
        consumer.step();
        assertThat(sink.batches).hasSize(1);
        assertThat(sink.batches.get(0)).extracting(TrackedEvent::userId).containsExactly("a", "b", "c", "d", "e");
        consumer.step();
        nowNanos += 1_000 * MS;
        consumer.step();
        assertThat(sink.batches).hasSize(2);
        assertThat(sink.batches.get(1)).extracting(TrackedEvent::userId).containsExactly("f");
    }

    @Test
    void aBatchKnowsWhenItEndsInsideAKeyedRequestWhoseOtherEventsAreStillToCome() {
        EventBatch batch = new EventBatch(4);
        RequestKey three = new RequestKey("k-3", new byte[32], 3);
        batch.add(T0, "a", EventKind.CLICK, null, null, 0, three);
        batch.add(T0, "b", EventKind.CLICK, null, null, 0, three);
        assertThat(batch.endsInsideARequest()).isTrue();
        batch.add(T0, "c", EventKind.CLICK, null, null, 0, three);
        assertThat(batch.endsInsideARequest()).isFalse();
        batch.add(T0, "d", EventKind.CLICK, null, null, 0, new RequestKey("k-3", new byte[32], 3));
        assertThat(batch.endsInsideARequest()).as("another request with the same key").isTrue();
    }

    @Test
    void holdsAPartialBatchUntilItsOldestEventHasWaitedTheFlushInterval() {
        BatchingConsumer consumer = consumer(100, 50);
        publish("a");
        nowNanos += 30 * MS;
        publish("b");
        assertThat(consumer.step()).isEqualTo(BatchingConsumer.Step.BUSY);
        nowNanos += 19 * MS;
        assertThat(consumer.step()).isEqualTo(BatchingConsumer.Step.IDLE);
        assertThat(sink.batches).isEmpty();

        nowNanos += 1 * MS;
        consumer.step();
        assertThat(sink.written()).extracting(TrackedEvent::userId).containsExactly("a", "b");
        assertThat(stats.flushes(BatchPolicy.Trigger.INTERVAL)).isEqualTo(1);
    }

    @Test
    void retriesATransientFailureWithBackoffAndWritesTheBatchOnce() {
        BatchingConsumer consumer = consumer(2, 1_000);
        sink.transientFailuresLeft = 3;
        publish("a", "b");
        consumer.step();
        assertThat(sleptMs).containsExactly(100L, 200L, 400L);
        assertThat(sink.written()).extracting(TrackedEvent::userId).containsExactly("a", "b");
        assertThat(stats.writeFailures()).isEqualTo(3);
        assertThat(stats.rowsWritten()).isEqualTo(2);
        assertThat(stats.writesFailing()).isFalse();
    }

    @Test
    void deadLettersOnlyTheEventTheSinkRefusesAndWritesItsNeighbours() {
        BatchingConsumer consumer = consumer(8, 1_000);
        sink.refused = event -> event.userId().equals("poison");
        publish("a", "b", "c", "poison", "e", "f", "g", "h");
        consumer.step();
        assertThat(sink.deadLetters).extracting(TrackedEvent::userId).containsExactly("poison");
        assertThat(sink.deadLetterReasons).containsExactly("refused poison");
        assertThat(sink.written()).extracting(TrackedEvent::userId).containsExactly("a", "b", "c", "e", "f", "g", "h");
        assertThat(stats.deadLettered()).isEqualTo(1);
        assertThat(stats.rowsWritten()).isEqualTo(7);
    }

    @Test
    void stopWritesEverythingPublishedBeforeIt() throws InterruptedException {
        BatchingConsumer consumer = consumer(1_000, 60_000);
        consumer.start();
        publish("a", "b", "c");
        assertThat(consumer.stop(10_000)).isZero();
        assertThat(sink.written()).extracting(TrackedEvent::userId).containsExactly("a", "b", "c");
        assertThat(stats.flushes(BatchPolicy.Trigger.SHUTDOWN)).isEqualTo(1);
    }

    @Test
    void stoppingAConsumerThatNeverStartedAbandonsTheRingWithoutWriting() throws InterruptedException {
        BatchingConsumer consumer = consumer(1_000, 60_000);
        RecordingCommitListener listener = new RecordingCommitListener();
        ring.tryPublish(T0, "a", EventKind.CLICK, listener);
        ring.tryPublish(T0, "b", EventKind.CLICK, listener);
        assertThat(consumer.stop(1_000)).isEqualTo(2);
        assertThat(listener.abandoned).hasValue(2);
        assertThat(listener.committed).hasValue(0);
        assertThat(listener.outcomeUnknown).hasValue(0);
        assertThat(sink.batches).isEmpty();
    }

    @Test
    void aBatchWhoseCommitReplyWasLostIsAbandonedAsOutcomeUnknownNeverAsNotWritten() throws InterruptedException {
        CountDownLatch commitReplyLost = new CountDownLatch(1);
        BatchSink replyAlwaysLost = new BatchSink() {
            @Override
            public WriteOutcome write(EventBatch batch) throws TransientWriteException {
                commitReplyLost.countDown();
                // as CopyBatchSink does when the connection dies after COMMIT was sent
                throw new CommitUnknownException("connection reset during COMMIT", null, WriteOutcome.NO_RESENDS);
            }

            @Override
            public void deadLetter(EventBatch batch, String reason) {
                throw new AssertionError("nothing is dead-lettered");
            }
        };
        BatchingConsumer consumer = new BatchingConsumer(ring, BatchPolicy.fixed(10, 0), replyAlwaysLost,
                new RetryBackoff(1, 1), () -> nowNanos, Thread::sleep, stats);
        RecordingCommitListener listener = new RecordingCommitListener();
        ring.tryPublish(T0, "a", EventKind.CLICK, listener);
        ring.tryPublish(T0, "b", EventKind.CLICK, listener);
        consumer.start();
        commitReplyLost.await();

        assertThat(consumer.stop(0)).isEqualTo(2);
        assertThat(listener.outcomeUnknown).hasValue(2);
        assertThat(listener.abandoned).hasValue(0);
        assertThat(stats.abandonedInDoubt()).isEqualTo(2);
    }

    @Test
    void aFailingDeadLetterWriteIsRetriedRatherThanDropped() {
        BatchingConsumer consumer = consumer(1, 1_000);
        sink.refused = event -> true;
        sink.deadLetterFailuresLeft = 2;
        publish("poison");
        consumer.step();
        assertThat(sink.deadLetters).extracting(TrackedEvent::userId).containsExactly("poison");
        assertThat(sleptMs).containsExactly(100L, 200L);
    }

    @Test
    void tellsEachListenerOnceItsBatchHasCommitted() {
        BatchingConsumer consumer = consumer(2, 1_000);
        RecordingCommitListener listener = new RecordingCommitListener();
        ring.tryPublish(T0, "a", EventKind.CLICK, listener);
        assertThat(consumer.step()).isEqualTo(BatchingConsumer.Step.BUSY);
        assertThat(listener.committed).hasValue(0);
        ring.tryPublish(T0, "b", EventKind.IMPRESSION, listener);
        consumer.step();
        assertThat(listener.committed).hasValue(2);
        assertThat(listener.abandoned).hasValue(0);
    }

    @Test
    void aFullRingRefusesInsteadOfBlocking() {
        consumer(1_000, 1_000);
        for (int i = 0; i < 64; i++) {
            assertThat(ring.tryPublish(T0, "u" + i, EventKind.CLICK)).isTrue();
        }
        assertThat(ring.tryPublish(T0, "one too many", EventKind.CLICK)).isFalse();
        assertThat(ring.depthSlots()).isEqualTo(64);
        assertThat(stats.accepted()).isEqualTo(64);
    }

    @Test
    void theWriterThreadDrainsOnStopAndTheRingHasRoomAgain() throws InterruptedException {
        BatchingConsumer consumer = consumer(10, 60_000);
        consumer.start();
        for (int i = 0; i < 500; i++) {
            while (!ring.tryPublish(T0, "u" + i, EventKind.CLICK)) {
                Thread.onSpinWait();
            }
        }
        assertThat(consumer.stop(10_000)).isZero();
        assertThat(sink.written()).hasSize(500);
        assertThat(ring.depthSlots()).isZero();
    }

    @Test
    void aPolicyChangedMidStreamAppliesFromTheNextBatchAndKeepsEveryEventInOrder() {
        BatchingConsumer consumer = consumer(3, 1_000);
        publish("a", "b", "c", "d", "e");
        consumer.step(); // a, b, c: full at 3
        consumer.step(); // d, e wait for the interval
        assertThat(sink.batches).hasSize(1);

        consumer.setPolicy(BatchPolicy.fixed(2, 10 * MS));
        publish("f");
        consumer.step(); // d, e in hand: full under the new size
        consumer.step(); // f taken
        nowNanos += 10 * MS;
        consumer.step(); // f has waited the new, shorter interval
        consumer.setPolicy(BatchPolicy.fixed(10, 1_000 * MS));
        publish("g", "h", "i");
        nowNanos += 999 * MS;
        consumer.step();
        assertThat(sink.batches).hasSize(3); // g, h, i linger: the new interval is longer again
        nowNanos += MS;
        consumer.step();

        assertThat(sink.batches).extracting(batch -> batch.stream().map(TrackedEvent::userId).toList())
                .containsExactly(List.of("a", "b", "c"), List.of("d", "e"), List.of("f"), List.of("g", "h", "i"));
        assertThat(consumer.policy().batchSizeEvents()).isEqualTo(10);
    }

    @Test
    void theAdaptivePolicyBatchesSparseEventsAtOnceAndLingersWhenMoreAreComing() {
        BatchingConsumer consumer = consumer(1, 1);
        consumer.setPolicy(BatchPolicy.adaptive(100 * MS));
        sink.writeNanos = 5 * MS;
        sink.clock = nanos -> nowNanos += nanos;
        // One event a second: none would join a linger, so once the policy has seen that, each is written at once.
        for (int i = 0; i < 15; i++) {
            publish("sparse" + i);
            consumer.step();
            nowNanos += 1_000 * MS;
            consumer.step();
        }
        assertThat(consumer.policy().lingerNanos()).isZero();
        publish("sparse-last");
        consumer.step();
        assertThat(sink.batches).hasSize(16).allSatisfy(batch -> assertThat(batch).hasSize(1));

        // Then 60 events every 10 ms: the writer lingers and batches them.
        int before = sink.batches.size();
        for (int tick = 0; tick < 3_000; tick++) {
            for (int i = 0; i < 60 && tick % 10 == 0 || i < 6 && tick % 10 != 0; i++) {
                publish("busy" + tick + "-" + i);
            }
            consumer.step();
            nowNanos += MS;
        }
        List<List<TrackedEvent>> busy = sink.batches.subList(before, sink.batches.size());
        assertThat(busy.get(busy.size() - 1).size()).isGreaterThan(100);
        assertThat(consumer.policy().lingerNanos()).isBetween(75 * MS, 90 * MS);
    }
}
