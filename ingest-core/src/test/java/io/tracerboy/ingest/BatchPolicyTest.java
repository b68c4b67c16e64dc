package io.tracerboy.ingest;

import static io.tracerboy.ingest.BatchPolicy.Trigger.INTERVAL;
import static io.tracerboy.ingest.BatchPolicy.Trigger.NONE;
import static io.tracerboy.ingest.BatchPolicy.Trigger.SHUTDOWN;
import static io.tracerboy.ingest.BatchPolicy.Trigger.SIZE;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BatchPolicyTest {
    private static final long MS = 1_000_000L;
    private final BatchPolicy policy = new BatchPolicy(100, 50 * MS);

    @Test
    void doesNotFlushBeforeTheBatchIsFullOrTheIntervalHasPassed() {
        assertThat(policy.decide(99, 1_000 * MS, 1_049 * MS, false)).isEqualTo(NONE);
    }

    @Test
    void flushesWhenTheBatchReachesTheBatchSize() {
        assertThat(policy.decide(100, 1_000 * MS, 1_000 * MS, false)).isEqualTo(SIZE);
    }

    @Test
    void flushesWhenTheOldestEventHasWaitedTheFlushInterval() {
        assertThat(policy.decide(1, 1_000 * MS, 1_050 * MS, false)).isEqualTo(INTERVAL);
    }

    @Test
    void flushesWhatIsLeftWhenTheRingIsDrainedForShutdown() {
        assertThat(policy.decide(1, 1_000 * MS, 1_000 * MS, true)).isEqualTo(SHUTDOWN);
    }

    @Test
    void neverFlushesAnEmptyBatch() {
        assertThat(policy.decide(0, 0, Long.MAX_VALUE, true)).isEqualTo(NONE);
    }

    @Test
    void answersHowLongTheConsumerMayWaitBeforeItMustFlush() {
        assertThat(policy.nanosUntilFlush(0, 0, 5 * MS)).isEqualTo(Long.MAX_VALUE);
        assertThat(policy.nanosUntilFlush(3, 1_000 * MS, 1_020 * MS)).isEqualTo(30 * MS);
        assertThat(policy.nanosUntilFlush(3, 1_000 * MS, 1_090 * MS)).isZero();
    }

    @Test
    void toleratesAClockThatWrapsAroundLongMaxValue() {
        long oldest = Long.MAX_VALUE - 10 * MS;
        assertThat(policy.decide(1, oldest, oldest + 49 * MS, false)).isEqualTo(NONE);
        assertThat(policy.decide(1, oldest, oldest + 50 * MS, false)).isEqualTo(INTERVAL);
    }

    @Test
    void theAdaptivePolicyLingersForTheTargetLessTheRecentWriteTime() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        for (long t = 0; t < 1_000 * MS; t += 50 * MS) {
            auto.onFlushed(1_000, t, t, t + 10 * MS); // 1 000 events every 50 ms, written in 10 ms
        }
        assertThat(auto.lingerNanos()).isEqualTo(85 * MS); // 100 less 5 (margin) less 10 (write)
        assertThat(auto.decide(1_000, 0, 84 * MS, false)).isEqualTo(NONE);
        assertThat(auto.decide(1_000, 0, 85 * MS, false)).isEqualTo(INTERVAL);
        assertThat(auto.decide(BatchPolicy.AUTO_MAX_BATCH_EVENTS, 0, 0, false)).isEqualTo(SIZE);
    }

    @Test
    void theAdaptivePolicyStopsLingeringWhenWritesTakeTheWholeTargetAndComesBackWhenTheyRecover() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        long t = 0;
        for (int i = 0; i < 5; i++, t += 200 * MS) {
            auto.onFlushed(50_000, t, t, t + 150 * MS); // the database falls behind
        }
        assertThat(auto.lingerNanos()).isZero();
        assertThat(auto.decide(1, t, t, false)).isEqualTo(INTERVAL); // take whatever waited, at once
        for (int i = 0; i < 40; i++, t += 50 * MS) {
            auto.onFlushed(1_000, t, t, t + 5 * MS); // and recovers: the estimate decays back
        }
        assertThat(auto.lingerNanos()).isBetween(85 * MS, 90 * MS);
    }

    @Test
    void theAdaptivePolicyDoesNotLingerForEventsTooSparseToShareACommit() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        for (long t = 0; t < 10_000 * MS; t += 1_000 * MS) {
            auto.onFlushed(1, t, t, t + MS); // one event a second
        }
        assertThat(auto.lingerNanos()).isZero();
    }
}
