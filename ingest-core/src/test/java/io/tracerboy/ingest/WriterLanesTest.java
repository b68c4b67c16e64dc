package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class WriterLanesTest {
    private static final long T0 = 1_700_000_000_000L;

    private final PipelineStats stats = new PipelineStats();
    private final List<RecordingBatchSink> sinks = List.of(new RecordingBatchSink(), new RecordingBatchSink(),
            new RecordingBatchSink());
    private final AtomicBoolean abandon = new AtomicBoolean();
    private final List<String> settled = Collections.synchronizedList(new ArrayList<>());
    private final List<String> settlingThreads = Collections.synchronizedList(new ArrayList<>());

    private final BatchWriter.Settlement recording = new BatchWriter.Settlement() {
        @Override
        public void onCommitted(EventBatch part, WriteOutcome outcome) {
            record("committed", part);
        }

        @Override
        public void onDeadLettered(EventBatch part) {
            record("dead-lettered", part);
        }

        @Override
        public void onAbandoned(EventBatch part, boolean inDoubt) {
            record("abandoned", part);
        }

        private void record(String what, EventBatch part) {
            settlingThreads.add(Thread.currentThread().getName());
            for (int i = 0; i < part.size(); i++) {
                settled.add(what + " " + part.userId(i));
            }
        }
    };

    private WriterLanes lanes(BatchingConsumer.Sleeper sleeper) {
        return new WriterLanes(sinks, new RetryBackoff(1, 1), sleeper, abandon::get, stats, 64);
    }

    private static EventBatch batch(int events) {
        EventBatch batch = new EventBatch(events);
        for (int i = 0; i < events; i++) {
            batch.add(T0 + i, "user-" + (i % 40), i % 2 == 0 ? EventKind.CLICK : EventKind.IMPRESSION);
        }
        return batch;
    }

    @Test
    void everyEventIsWrittenOnceByTheLaneOfItsUserAndSettledOnTheCallingThread() {
        WriterLanes lanes = lanes(delayMs -> { });
        Map<String, Integer> laneOfUser = new ConcurrentHashMap<>();
        for (int round = 0; round < 3; round++) {
            assertThat(lanes.write(batch(200), recording)).isTrue();
        }

        List<TrackedEvent> written = new ArrayList<>();
        for (int lane = 0; lane < sinks.size(); lane++) {
            for (TrackedEvent event : sinks.get(lane).written()) {
                written.add(event);
                assertThat(laneOfUser.putIfAbsent(event.userId(), lane)).as(event.userId()).isIn(null, lane);
            }
        }
        assertThat(written).hasSize(600);
        assertThat(sinks).allSatisfy(sink -> assertThat(sink.batches).hasSize(3)); // 40 users hash to all three
        assertThat(settled).hasSize(600).allMatch(line -> line.startsWith("committed "));
        assertThat(settlingThreads).containsOnly(Thread.currentThread().getName());
        lanes.close();
    }

    @Test
    void aKeyedRequestGoesWholeToOneLane() {
        WriterLanes lanes = lanes(delayMs -> { });
        RequestKey request = new RequestKey("k-1", new byte[32], 30);
        EventBatch batch = new EventBatch(30);
        IntStream.range(0, 30).forEach(i -> batch.add(T0, "user-" + i, EventKind.CLICK, null, null, 0, request));

        assertThat(lanes.write(batch, recording)).isTrue();

        assertThat(sinks.stream().filter(sink -> !sink.batches.isEmpty()).toList()).singleElement()
                .satisfies(sink -> assertThat(sink.written()).hasSize(30));
        lanes.close();
    }

    @Test
    void aLaneWhoseWritesFailIsRetriedAloneAndTheOthersCommitOnce() {
        sinks.get(1).transientFailuresLeft = 3;
        WriterLanes lanes = lanes(delayMs -> { });

        assertThat(lanes.write(batch(120), recording)).isTrue();

        assertThat(sinks).allSatisfy(sink -> assertThat(sink.batches).hasSize(1));
        assertThat(settled).hasSize(120).allMatch(line -> line.startsWith("committed "));
        assertThat(sinks.stream().mapToInt(sink -> sink.written().size()).sum()).isEqualTo(120);
        assertThat(stats.writeFailures()).isEqualTo(3);
        lanes.close();
    }

    @Test
    void aStopGivesUpTheFailingLaneAndKeepsWhatTheOthersCommitted() {
        sinks.get(2).transientFailuresLeft = Integer.MAX_VALUE;
        WriterLanes lanes = lanes(delayMs -> abandon.set(true)); // the stop comes during the first back-off

        assertThat(lanes.write(batch(120), recording)).isFalse();

        long abandoned = settled.stream().filter(line -> line.startsWith("abandoned ")).count();
        assertThat(abandoned).isPositive();
        assertThat(abandoned + sinks.get(0).written().size() + sinks.get(1).written().size()).isEqualTo(120);
        assertThat(settled).hasSize(120);
        lanes.close();
    }

    @Test
    void aStopThatInterruptsTheCallerWakesALaneSleepingInItsBackOff() throws Exception {
        sinks.get(0).transientFailuresLeft = Integer.MAX_VALUE;
        CountDownLatch sleeping = new CountDownLatch(1);
        WriterLanes lanes = lanes(delayMs -> {
            sleeping.countDown();
            new CountDownLatch(1).await(); // a back-off that only an interrupt ends
        });
        Thread caller = Thread.currentThread();
        Thread stopper = new Thread(() -> {
            try {
                sleeping.await();
            } catch (InterruptedException e) {
                return;
            }
            abandon.set(true);
            caller.interrupt(); // as BatchingConsumer.stop does to the writer thread
        });
        stopper.start();

        assertThat(lanes.write(batch(120), recording)).isFalse();

        stopper.join();
        Thread.interrupted(); // the stop's interrupt, if it came after the wait
        assertThat(settled).hasSize(120);
        assertThat(settled.stream().filter(line -> line.startsWith("abandoned ")).count())
                .isEqualTo(120 - sinks.get(1).written().size() - sinks.get(2).written().size());
        lanes.close();
    }
}
