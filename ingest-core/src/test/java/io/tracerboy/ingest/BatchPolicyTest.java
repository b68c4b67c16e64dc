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
}
