package io.tracerboy.bench;

import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.HourlyCounts;
import io.tracerboy.storage.HourlyStats;
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
 * The GET path's database work: one primary-key lookup in {@code hourly_stats} (a year of hours present) through the
 * pool, from 1 and 2 threads. The HTTP-level figure, with the cache, is in BENCHMARKS.md.
 * {@code java -jar benchmarks/target/benchmarks.jar HourlyLookup}
 *
 * <p>Latest result (2 cores, Debian 12, OpenJDK 17.0.15, 2026-11-28; embedded PostgreSQL 17 on the same cores; the
 * 1-thread run was noisy):
 * <pre>
 * Benchmark                             Mode  Cnt    Score     Error  Units
 * HourlyLookupBenchmark.lookup1Thread   avgt    3  130.176 ± 160.716  us/op
 * HourlyLookupBenchmark.lookup2Threads  avgt    3   24.352 ±   3.503  us/op
 * </pre>
 */
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class HourlyLookupBenchmark {
    private static final long FIRST_HOUR_START_MS = 1_735_689_600_000L; // 2025-01-01T00:00Z

    private BenchDatabase bench;
    private HourlyStats stats;

    @Setup(Level.Trial)
    public void start() throws Exception {
        bench = new BenchDatabase(4);
        bench.execute("INSERT INTO hourly_stats SELECT to_timestamp(" + FIRST_HOUR_START_MS / 1000
                + " + h * 3600), h, 2 * h, 3 * h"
                + " FROM generate_series(0, 8759) AS h");
        stats = new HourlyStats(bench.database.dataSource());
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        bench.close();
    }

    @Benchmark
    @Threads(1)
    public HourlyCounts lookup1Thread() throws Exception {
        return stats.read(FIRST_HOUR_START_MS + 4_000 * Hours.HOUR_MS);
    }

    @Benchmark
    @Threads(2)
    public HourlyCounts lookup2Threads() throws Exception {
        return stats.read(FIRST_HOUR_START_MS + 4_000 * Hours.HOUR_MS);
    }
}
