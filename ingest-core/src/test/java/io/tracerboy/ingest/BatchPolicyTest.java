package io.tracerboy.ingest;

import static io.tracerboy.ingest.BatchPolicy.Trigger.INTERVAL;
import static io.tracerboy.ingest.BatchPolicy.Trigger.NONE;
import static io.tracerboy.ingest.BatchPolicy.Trigger.SHUTDOWN;
import static io.tracerboy.ingest.BatchPolicy.Trigger.SIZE;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BatchPolicyTest {
    private static final long MS = 1_000_000L;
    private final BatchPolicy policy = BatchPolicy.fixed(100, 50 * MS);

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

    /** Flushes {@code n} batches of the adaptive policy as a writer would: each lingers, then takes the write time. */
    private static long run(BatchPolicy auto, long startNanos, int n, long writeNanos, int eventsPerBatch) {
        long t = startNanos;
        for (int i = 0; i < n; i++) {
            long oldest = t;
            long flush = oldest + auto.lingerNanos();
            auto.onFlushed(eventsPerBatch, oldest, flush, flush + writeNanos);
            t = flush + writeNanos;
        }
        return t;
    }

    @Test
    void theAdaptivePolicyAimsTheOldestEventsLagAtNinetyPercentOfTheTarget() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        assertThat(auto.lingerNanos()).isEqualTo(50 * MS); // before any flush: half the target
        run(auto, 0, 50, 10 * MS, 1_000);
        assertThat(auto.lingerNanos()).isBetween(79 * MS, 80 * MS); // 90 less the 10 ms write
        long linger = auto.lingerNanos();
        assertThat(auto.decide(1_000, 0, linger - 1, false)).isEqualTo(NONE);
        assertThat(auto.decide(1_000, 0, linger, false)).isEqualTo(INTERVAL);
        assertThat(auto.decide(AdaptiveBatchPolicy.MAX_BATCH_EVENTS, 0, 0, false)).isEqualTo(SIZE);
    }

    @Test
    void theAdaptivePolicyStopsLingeringWhenWritesTakeTheWholeTargetAndComesBackWhenTheyRecover() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        long t = run(auto, 0, 5, 150 * MS, 50_000); // the database falls behind
        assertThat(auto.lingerNanos()).isZero();
        assertThat(auto.decide(1, t, t, false)).isEqualTo(INTERVAL); // take whatever waited, at once
        run(auto, t, 80, 5 * MS, 1_000); // and recovers, 2 % of the target per batch at most
        assertThat(auto.lingerNanos()).isBetween(84 * MS, 85 * MS);
    }

    @Test
    void aSingleSlowWriteCutsTheLingerByItsOvershootAtOnce() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        long t = run(auto, 0, 50, 10 * MS, 1_000);
        long before = auto.lingerNanos();
        run(auto, t, 1, 40 * MS, 1_000); // 30 ms over the aim
        assertThat(auto.lingerNanos()).isBetween(before - 30 * MS - 1, before - 30 * MS + 1);
    }

    @Test
    void theAdaptivePolicyDoesNotLingerForEventsTooSparseToShareACommit() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        for (long t = 0; t < 10_000 * MS; t += 1_000 * MS) {
            auto.onFlushed(1, t, t, t + MS); // one event a second
        }
        assertThat(auto.lingerNanos()).isZero();
    }

    @Test
    void aBatchGrowingFastIsFlushedOnceItsAgePlusItsExpectedWriteReachesTheAim() {
        BatchPolicy auto = BatchPolicy.adaptive(100 * MS);
        run(auto, 0, 50, 10 * MS, 1_000); // 10 µs per event learnt; linger settles near 80 ms
        assertThat(auto.lingerNanos()).isGreaterThan(70 * MS);
        // A burst: 5 000 events buffered (50 ms to write) when the oldest is 39 ms old: 89 ms, under the 90 ms aim.
        assertThat(auto.decide(5_000, 0, 39 * MS, false)).isEqualTo(NONE);
        assertThat(auto.decide(5_000, 0, 40 * MS, false)).isEqualTo(INTERVAL);
        assertThat(auto.nanosUntilFlush(5_000, 0, 30 * MS)).isEqualTo(10 * MS);
        // Few events: the linger decides, as before.
        assertThat(auto.decide(10, 0, 40 * MS, false)).isEqualTo(NONE);
    }
}
