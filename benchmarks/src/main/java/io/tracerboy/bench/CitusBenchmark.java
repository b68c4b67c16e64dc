package io.tracerboy.bench;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.CopyBatchSink;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.EnginePreference;
import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.storage.SchemaMigrator;
import io.tracerboy.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.SplittableRandom;

/**
 * The batch writer ({@link CopyBatchSink}: claim, COPY, new users, hourly upsert, commit, as the service runs it) on
 * plain PostgreSQL and on Citus, in one run, for docs/SCALING.md. For each engine, batch size (1 000, 10 000) and user
 * population (100 000 users in the hour, or every event a new user), writes for the given seconds from one writer and
 * reports rows/s and ms per batch; two batch sizes give the fixed cost per batch and the cost per row. On Citus, also
 * with the default 32 shards. Plain: {@code DATABASE_URL}'s server (or the embedded one) in a fresh database; Citus:
 * {@code CITUS_URL} (a coordinator's database, whose tracerboy tables it drops and recreates).
 *
 * <p>{@code CITUS_URL=jdbc:postgresql://127.0.0.1:5440/tracerboy?user=postgres java -cp
 * benchmarks/target/benchmarks.jar io.tracerboy.bench.CitusBenchmark [seconds per case] [stats-layout]}; with
 * {@code stats-layout}, only {@code hourly_stats} distributed by hour against a reference table, one and two writers.
 * Results: docs/SCALING.md.
 */
public final class CitusBenchmark {
    private CitusBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        String citus = System.getenv("CITUS_URL");
        if (args.length > 1 && args[1].equals("stats-layout")) {
            statsLayout(citus, seconds);
            return;
        }
        System.out.println("| engine | shards | batch | users in the hour | rows/s | ms per batch | new users/s |");
        System.out.println("|---|---|---|---|---|---|---|");
        try (TestDatabase plain = TestDatabase.create()) {
            for (int batch : new int[] {1_000, 10_000}) {
                for (int users : new int[] {100_000, Integer.MAX_VALUE}) {
                    run("PostgreSQL", "—", plain.url(), batch, users, seconds, EnginePreference.POSTGRESQL);
                }
            }
        }
        if (citus == null) {
            System.out.println("CITUS_URL unset: Citus skipped");
            return;
        }
        for (int shards : new int[] {4, 32}) {
            for (int batch : shards == 4 ? new int[] {1_000, 10_000} : new int[] {10_000}) {
                for (int users : new int[] {100_000, Integer.MAX_VALUE}) {
                    reset(citus, shards);
                    run("Citus, 2 workers", Integer.toString(shards), citus, batch, users, seconds,
                            EnginePreference.CITUS);
                }
            }
        }
    }

    private static void reset(String url, int shards) throws Exception {
        try (Connection db = DriverManager.getConnection(url); Statement statement = db.createStatement()) {
            statement.execute("DROP TABLE IF EXISTS events, hourly_users, hourly_stats, written_batches, dead_letters,"
                    + " event_ids, legacy_event_ids, events_legacy, hourly_users_legacy, request_keys,"
                    + " flyway_schema_history CASCADE");
            statement.execute("DROP FUNCTION IF EXISTS prune_event_ids(interval)");
            statement.execute("ALTER DATABASE " + db.getCatalog() + " SET citus.shard_count = " + shards);
        }
    }

    private static void run(String engine, String shards, String url, int batchSize, int users, int seconds,
                            EnginePreference preference) throws Exception {
        try (Database database = new Database(url, null, null, 2)) {
            SchemaMigrator.migrate(database, preference);
            try (Connection db = database.dataSource().getConnection(); Statement statement = db.createStatement()) {
                statement.execute("TRUNCATE events, hourly_users, hourly_stats, written_batches");
            }
            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 1_000_000,
                    new RetentionKeeper.Retention(168, 168, 24), System::currentTimeMillis);
            SplittableRandom random = new SplittableRandom(7);
            long hourMs = Hours.startMs(System.currentTimeMillis());
            EventBatch batch = new EventBatch(batchSize);
            long next = 0;
            // Warm up for a second, then measure.
            long warmEnd = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < warmEnd) {
                next = fill(batch, random, hourMs, users, next);
                sink.write(batch);
            }
            long rows = 0;
            long batches = 0;
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                next = fill(batch, random, hourMs, users, next);
                sink.write(batch);
                rows += batchSize;
                batches++;
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            System.out.printf("| %s | %s | %,d | %s | %,.0f | %.1f | %s |%n", engine, shards, batchSize,
                    users == Integer.MAX_VALUE ? "all new" : String.format("%,d", users), rows / elapsed,
                    elapsed * 1000 / batches, users == Integer.MAX_VALUE ? String.format("%,.0f", rows / elapsed)
                            : "—");
        }
    }

    /** The next batch: users drawn from {@code users}, or (all new) a fresh user per event. */
    private static long fill(EventBatch batch, SplittableRandom random, long hourMs, int users, long next) {
        batch.clear();
        int size = batch.capacity();
        for (int i = 0; i < size; i++) {
            String user = users == Integer.MAX_VALUE ? "new-" + next++ : "user-" + random.nextInt(users);
            batch.add(hourMs + random.nextInt((int) Hours.HOUR_MS), user,
                    random.nextInt(10) == 0 ? EventKind.CLICK : EventKind.IMPRESSION);
        }
        return next;
    }

    /**
     * {@code hourly_stats} distributed by hour against a reference table, on Citus with 4 shards, 10 000-event batches,
     * 100 000 users: one writer, then two writers at once (as two replicas), both writing the current hour.
     */
    private static void statsLayout(String url, int seconds) throws Exception {
        System.out.println("| hourly_stats | writers | rows/s in all | ms per batch |");
        System.out.println("|---|---|---|---|");
        for (String layout : new String[] {"distributed by hour", "reference table"}) {
            for (int writers : new int[] {1, 2}) {
                reset(url, 4);
                try (Database database = new Database(url, null, null, 2 * writers + 1)) {
                    SchemaMigrator.migrate(database, EnginePreference.CITUS);
                    if (layout.startsWith("reference")) {
                        try (Connection db = database.dataSource().getConnection();
                             Statement statement = db.createStatement()) {
                            statement.execute("SELECT undistribute_table('hourly_stats')");
                            statement.execute("SELECT create_reference_table('hourly_stats')");
                        }
                    }
                    long[] rows = new long[writers];
                    long[] batches = new long[writers];
                    Thread[] threads = new Thread[writers];
                    long end = System.nanoTime() + (seconds + 1) * 1_000_000_000L;
                    long measureFrom = System.nanoTime() + 1_000_000_000L;
                    for (int w = 0; w < writers; w++) {
                        int writer = w;
                        threads[w] = new Thread(() -> {
                            try {
                                CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 1_000_000,
                                        new RetentionKeeper.Retention(168, 168, 24),
                                        System::currentTimeMillis);
                                SplittableRandom random = new SplittableRandom(writer);
                                EventBatch batch = new EventBatch(10_000);
                                long hourMs = Hours.startMs(System.currentTimeMillis());
                                while (System.nanoTime() < end) {
                                    fill(batch, random, hourMs, 100_000, 0);
                                    sink.write(batch);
                                    if (System.nanoTime() > measureFrom) {
                                        rows[writer] += 10_000;
                                        batches[writer]++;
                                    }
                                }
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        });
                        threads[w].start();
                    }
                    for (Thread t : threads) {
                        t.join();
                    }
                    long allRows = java.util.Arrays.stream(rows).sum();
                    long allBatches = java.util.Arrays.stream(batches).sum();
                    System.out.printf("| %s | %d | %,.0f | %.1f |%n", layout, writers, allRows / (double) seconds,
                            seconds * 1000.0 * writers / Math.max(1, allBatches));
                }
            }
        }
    }
}
