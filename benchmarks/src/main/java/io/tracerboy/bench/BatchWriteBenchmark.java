package io.tracerboy.bench;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.WriterLanes;
import io.tracerboy.storage.BinaryCopyEncoder;
import io.tracerboy.storage.CopyBatchSink;
import io.tracerboy.storage.RetentionKeeper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The batch writer against a real PostgreSQL (embedded, fsync on; or DATABASE_URL), side by side with its two
 * ceilings/baselines on the same events and table, in one run: {@code tracerboyWriter} (COPY + exact hourly aggregates
 * in one transaction, as the service does, in {@code lanes} writer lanes: {@link WriterLanes}),
 * {@code tracerboyWriterWithoutSketches} (one lane without the hourly sketches of range uniques: what they cost),
 * {@code rawCopy} (the same COPY, no aggregates: the ceiling), and
 * {@code insertPerEvent} (one autocommitted INSERT per event through HikariCP: the naive way). One operation is one
 * batch of {@code batchSize} events in the current hour, users drawn at random from {@code usersPerHour}; rows/s =
 * batchSize / time per op. {@code benchmarks/jmh-summary.py} turns the JSON result into rows/s and ratios.
 *
 * <p>{@code java -jar benchmarks/target/benchmarks.jar BatchWrite -rf json -rff batch-write.json}
 *
 * <p>Latest result (2 cores, Debian 12, OpenJDK 17.0.15, 2026-11-28; PostgreSQL 17 embedded, fsync on), as rows/s from
 * ms per batch:
 * <pre>
 * batch   users/hour  writer rows/s  raw COPY rows/s  INSERT/event rows/s  writer/COPY  writer/INSERT
 *   100      10 000         84 402          108 418                3 812         0.78            22x
 *   100   1 000 000         39 209          104 976                3 656         0.37            11x
 *  1000      10 000        284 807          339 473                3 499         0.84            81x
 *  1000   1 000 000         70 485          299 057                3 778         0.24            19x
 * 10000      10 000        889 625        1 051 370                3 903         0.85           228x
 * 10000     100 000        546 582          918 284                4 289         0.60           127x
 * 10000   1 000 000        107 707          782 476                3 616         0.14            30x
 * </pre>
 */
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class BatchWriteBenchmark {

    @Param({"100", "1000", "10000"})
    int batchSize;

    @Param({"10000", "1000000"})
    int usersPerHour;

    /** WRITER_LANES: the writer's batches are split by user into this many parts written at once. */
    @Param({"1"})
    int lanes;

    private BenchDatabase bench;
    private String[] users;
    private final SplittableRandom random = new SplittableRandom(42);
    private WriterLanes writer;
    private CopyBatchSink sinkWithoutSketches;
    private EventBatch batch;
    private final BinaryCopyEncoder encoder = new BinaryCopyEncoder();
    /** Events fall in the current hour, as 95% do in production, which is what the writer's user memory keeps. */
    private final long currentHourMs = Hours.startMs(System.currentTimeMillis());

    @Setup(Level.Trial)
    public void start() throws Exception {
        bench = new BenchDatabase(Math.max(4, lanes + 2));
        users = new String[usersPerHour];
        for (int i = 0; i < users.length; i++) {
            users[i] = "user-" + i;
        }
        batch = new EventBatch(batchSize);
    }

    @Setup(Level.Iteration)
    public void empty() throws Exception {
        bench.execute("TRUNCATE events, hourly_users, hourly_stats, hourly_sketches, written_batches");
        if (writer != null) {
            writer.close();
        }
        List<CopyBatchSink> sinks = new ArrayList<>();
        for (int lane = 0; lane < lanes; lane++) {
            sinks.add(new CopyBatchSink(bench.database.dataSource(), 1_000_000 / lanes,
                    new RetentionKeeper.Retention(168, 168, 24), System::currentTimeMillis));
        }
        writer = WriterLanes.forBenchmark(sinks, batchSize);
        sinkWithoutSketches = new CopyBatchSink(bench.database.dataSource(), 1_000_000,
                new RetentionKeeper.Retention(168, 168, 24), System::currentTimeMillis, false);
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        writer.close();
        bench.close();
    }

    private EventBatch nextBatch() {
        batch.clear();
        for (int i = 0; i < batchSize; i++) {
            batch.add(currentHourMs + random.nextInt((int) Hours.HOUR_MS), users[random.nextInt(users.length)],
                    random.nextInt(10) == 0 ? EventKind.CLICK : EventKind.IMPRESSION);
        }
        return batch;
    }

    @Benchmark
    public void tracerboyWriter() throws Exception {
        writer.write(nextBatch());
    }

    /** The writer as above but without its hourly sketch ({@code hourly_sketches}): what keeping sketches costs. */
    @Benchmark
    public void tracerboyWriterWithoutSketches() throws Exception {
        sinkWithoutSketches.write(nextBatch());
    }

    @Benchmark
    public void rawCopy() throws Exception {
        RawCopy.encode(encoder, nextBatch());
        try (Connection connection = bench.database.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(BinaryCopyEncoder.COPY_SQL);
            copy.writeToCopy(encoder.buffer(), 0, encoder.length());
            copy.endCopy();
            connection.commit();
        }
    }

    @Benchmark
    public void insertPerEvent() throws Exception {
        EventBatch events = nextBatch();
        for (int i = 0; i < events.size(); i++) {
            try (Connection connection = bench.database.dataSource().getConnection();
                 PreparedStatement insert = connection.prepareStatement(
                         "INSERT INTO events (ts, user_id, kind) VALUES (?, ?, ?)")) {
                insert.setTimestamp(1, new Timestamp(events.timestampMs(i)));
                insert.setString(2, events.userId(i));
                insert.setShort(3, events.kind(i).code());
                insert.executeUpdate();
            }
        }
    }
}
