package io.tracerboy.bench;

import io.tracerboy.ingest.AnalyticsQuery;
import io.tracerboy.ingest.EventWindow;
import io.tracerboy.ingest.TrackedEvent;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Validation cost per POST on the IO thread: a plain ASCII query, and one with percent-encoded UTF-8 that takes the
 * decoding path. {@code java -jar benchmarks/target/benchmarks.jar QueryParse}
 *
 * <p>Latest result (2 cores, Debian 12, OpenJDK 17.0.15, 2026-11-28):
 * <pre>
 * Benchmark                               Mode  Cnt    Score    Error  Units
 * QueryParseBenchmark.percentEncodedUtf8  avgt    5  203.597 ± 27.346  ns/op
 * QueryParseBenchmark.plainAscii          avgt    5  119.431 ±  6.915  ns/op
 * </pre>
 */
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class QueryParseBenchmark {
    private final String plain = "timestamp=1764363600000&user=user-123456&event=impression";
    private final String encoded = "timestamp=1764363600000&user=J%C3%BCrgen%20M%C3%BCller%2B1&event=click";

    @Benchmark
    public TrackedEvent plainAscii() {
        return AnalyticsQuery.parseEvent(plain, 0, EventWindow.ANY);
    }

    @Benchmark
    public TrackedEvent percentEncodedUtf8() {
        return AnalyticsQuery.parseEvent(encoded, 0, EventWindow.ANY);
    }
}
