package io.tracerboy.bench;

import io.tracerboy.ingest.BatchParser;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.EventWindow;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.TrackedEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The batch endpoint's CPU per event, without HTTP: parsing and validating a 1 000-event NDJSON body (with and without
 * an id on every event), and publishing the parsed events into the ring in one claim of 1 000 slots (a full ring is
 * replaced by an empty one between invocations, outside the measurement).
 * {@code java -jar benchmarks/target/benchmarks.jar BatchParse}
 *
 * <p>Latest result: see BENCHMARKS.md (Batch ingest).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BatchParseBenchmark {
    private static final int EVENTS = 1_000;
    private static final long HOUR_START_MS = 1_764_363_600_000L;

    private final BatchParser parser = new BatchParser(10_000, 16_384, EventWindow.ANY);
    private byte[] plain;
    private byte[] withIds;
    private List<TrackedEvent> parsed;
    private EventRing ring;

    @Setup(Level.Trial)
    public void bodies() {
        plain = body(false);
        withIds = body(true);
        parsed = parser.parse(plain, plain.length, BatchParser.Format.NDJSON, HOUR_START_MS).events();
        ring = new EventRing(1 << 12, System::nanoTime, new PipelineStats());
    }

    private static byte[] body(boolean ids) {
        SplittableRandom random = new SplittableRandom(3);
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < EVENTS; i++) {
            body.append("{\"timestamp\":").append(HOUR_START_MS + random.nextInt(3_600_000)).append(",\"user\":\"user-")
                    .append(random.nextInt(100_000)).append("\",\"event\":\"impression\"");
            if (ids) {
                body.append(",\"id\":\"01JD").append(Long.toHexString(random.nextLong())).append('"');
            }
            body.append("}\n");
        }
        return body.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Setup(Level.Invocation)
    public void roomInTheRing() {
        if (ring.depthSlots() > ring.capacitySlots() - EVENTS) {
            ring = new EventRing(1 << 12, System::nanoTime, new PipelineStats());
        }
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public Object parseAndValidate() {
        return parser.parse(plain, plain.length, BatchParser.Format.NDJSON, HOUR_START_MS);
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public Object parseAndValidateWithIds() {
        return parser.parse(withIds, withIds.length, BatchParser.Format.NDJSON, HOUR_START_MS);
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public boolean publishAllInOneClaim() {
        return ring.tryPublishAll(parsed, null);
    }
}
