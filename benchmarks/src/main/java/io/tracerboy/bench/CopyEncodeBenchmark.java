package io.tracerboy.bench;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.storage.BinaryCopyEncoder;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding a 10 000-event batch as binary COPY data (the only encoding tracerboy has: binary needs no escaping, and
 * skips formatting timestamps as text), with ASCII user ids and with non-ASCII ones.
 * {@code java -jar benchmarks/target/benchmarks.jar CopyEncode}
 *
 * <p>Latest result (2 cores, Debian 12, OpenJDK 17.0.15, 2026-11-28):
 * <pre>
 * Benchmark                              Mode  Cnt    Score    Error  Units
 * CopyEncodeBenchmark.binaryAscii10k     avgt    5  157.425 ±  3.627  us/op
 * CopyEncodeBenchmark.binaryNonAscii10k  avgt    5  470.956 ± 25.615  us/op
 * </pre>
 */
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class CopyEncodeBenchmark {
    private final BinaryCopyEncoder encoder = new BinaryCopyEncoder();
    private final EventBatch ascii = new EventBatch(10_000);
    private final EventBatch nonAscii = new EventBatch(10_000);

    @Setup
    public void fill() {
        for (int i = 0; i < 10_000; i++) {
            ascii.add(1_764_370_800_000L + i, "user-" + i, i % 10 == 0 ? EventKind.CLICK : EventKind.IMPRESSION);
            nonAscii.add(1_764_370_800_000L + i, "Jürgen-Müller-" + i, EventKind.IMPRESSION);
        }
    }

    @Benchmark
    public int binaryAscii10k() {
        RawCopy.encode(encoder, ascii);
        return encoder.length();
    }

    @Benchmark
    public int binaryNonAscii10k() {
        RawCopy.encode(encoder, nonAscii);
        return encoder.length();
    }
}
