package io.tracerboy.bench;

import io.tracerboy.ingest.BatchPolicy;
import io.tracerboy.ingest.BatchSink;
import io.tracerboy.ingest.BatchingConsumer;
import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.WriteOutcome;
import io.tracerboy.ingest.RetryBackoff;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code tryPublish} into the ring with 1, 2 and 4 producer threads while the real consumer drains it into a sink
 * that discards, so the figure is the ring plus batching, without a database. A full ring counts as a refused publish
 * and is reported separately by the stats, not hidden. {@code java -jar benchmarks/target/benchmarks.jar RingPublish}
 *
 * <p>Latest result (2 cores, Debian 12, OpenJDK 17.0.15, 2026-11-28; 4 producers and the consumer share 2 cores):
 * <pre>
 * Benchmark                        Mode  Cnt  Score   Error   Units
 * RingPublishBenchmark.producers1  thrpt   5  3.392 ± 0.752  ops/us
 * RingPublishBenchmark.producers2  thrpt   5  4.460 ± 0.428  ops/us
 * RingPublishBenchmark.producers4  thrpt   5  4.769 ± 0.770  ops/us
 * </pre>
 */
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class RingPublishBenchmark {
    private EventRing ring;
    private BatchingConsumer consumer;
    private final String[] users = new String[1024];

    @Setup(Level.Trial)
    public void start() {
        for (int i = 0; i < users.length; i++) {
            users[i] = "user-" + i;
        }
        PipelineStats stats = new PipelineStats();
        ring = new EventRing(1 << 18, System::nanoTime, stats);
        BatchSink discard = new BatchSink() {
            @Override
            public WriteOutcome write(EventBatch batch) {
                return WriteOutcome.NO_RESENDS;
            }

            @Override
            public void deadLetter(EventBatch batch, String reason) {
            }
        };
        consumer = new BatchingConsumer(ring, BatchPolicy.fixed(10_000, TimeUnit.MILLISECONDS.toNanos(100)), discard,
                new RetryBackoff(100, 5_000), System::nanoTime, Thread::sleep, stats);
        consumer.start();
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        consumer.stop(10_000);
    }

    @State(Scope.Thread)
    public static class Counter {
        int next;
    }

    private boolean publish(Counter counter) {
        int i = counter.next++;
        return ring.tryPublish(1_764_363_600_000L, users[i & 1023], (i & 7) == 0 ? EventKind.CLICK
                : EventKind.IMPRESSION);
    }

    @Benchmark
    @Threads(1)
    public boolean producers1(Counter counter) {
        return publish(counter);
    }

    @Benchmark
    @Threads(2)
    public boolean producers2(Counter counter) {
        return publish(counter);
    }

    @Benchmark
    @Threads(4)
    public boolean producers4(Counter counter) {
        return publish(counter);
    }
}
