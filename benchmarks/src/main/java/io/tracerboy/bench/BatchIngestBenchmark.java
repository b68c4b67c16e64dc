package io.tracerboy.bench;

import io.tracerboy.edge.TracerboyConfig;
import io.tracerboy.edge.TracerboyServer;
import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.BinaryCopyEncoder;
import io.tracerboy.testsupport.Reconciler;
import io.tracerboy.testsupport.TestDatabase;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Batch ingest end to end against raw COPY, in one run on one database server: HTTP clients POST 1 000-event NDJSON
 * bodies (generated before the run, so the clients cost only their HTTP) to {@code /analytics/batch} of a tracerboy
 * in this JVM (buffered, {@code BATCH_SIZE} as given, 100 ms), events of the current hour from {@code usersPerHour}
 * users, until every acknowledged event is written and reconciled; then the same number of events, generated the same
 * way, is COPYed raw (binary, as many rows per COPY as {@code BATCH_SIZE}, one connection) into the events table of a
 * fresh database. Reports both rates and their ratio; with {@code ids}, every event carries a unique id. Needs
 * {@code DATABASE_URL} or runs on an embedded PostgreSQL.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar io.tracerboy.bench.BatchIngestBenchmark [seconds] [clients]
 * [ids|noids] [usersPerHour] [batchSize]}; {@code … BatchIngestBenchmark rawcopy EVENTS [usersPerHour] [batchSize]}
 * prints the raw COPY rate alone, and {@code … servercopy EVENTS [usersPerHour]} the physical limit: one server-side
 * {@code COPY … FROM '<file>'} of as many such rows from a binary file on the server's machine (needs a superuser, as
 * the embedded PostgreSQL's is), both for {@code benchmarks/batch-ingest.sh}, which loads the real jar with wrk.
 */
public final class BatchIngestBenchmark {
    private static final int EVENTS_PER_REQUEST = 1_000;
    /** Bodies generated before the run; a run never sends more (a cap, not a target: ~120 MB of bodies per 1 000). */
    private static final int MAX_BODIES = 12_000;

    private BatchIngestBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 1 && (args[0].equals("createdb") || args[0].equals("dropdb"))) {
            // For benchmarks/batch-ingest.sh: a database of its own on DATABASE_URL's server, and its removal.
            try (Connection connection = DriverManager.getConnection(System.getenv("DATABASE_URL"))) {
                connection.createStatement().execute(args[0].equals("createdb") ? "CREATE DATABASE " + args[1]
                        : "DROP DATABASE IF EXISTS " + args[1] + " WITH (FORCE)");
            }
            return;
        }
        if (args.length > 0 && args[0].equals("servercopy")) {
            // For benchmarks/batch-ingest.sh: servercopy EVENTS [usersPerHour] prints the server-side COPY rate alone.
            long events = Long.parseLong(args[1]);
            int users = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
            System.out.printf("%.0f%n", serverCopy(events, Hours.startMs(System.currentTimeMillis()), users));
            return;
        }
        if (args.length > 0 && args[0].equals("rawcopy")) {
            // For benchmarks/batch-ingest.sh: rawcopy EVENTS [usersPerHour] [batchSize] prints the raw COPY rate alone.
            long events = Long.parseLong(args[1]);
            int users = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
            int eventsPerCopy = args.length > 3 ? Integer.parseInt(args[3]) : 10_000;
            System.out.printf("%.0f%n", rawCopy(events, Hours.startMs(System.currentTimeMillis()), users,
                    eventsPerCopy));
            return;
        }
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        boolean ids = args.length > 2 && args[2].equals("ids");
        int usersPerHour = args.length > 3 ? Integer.parseInt(args[3]) : 100_000;
        int batchSize = args.length > 4 ? Integer.parseInt(args[4]) : 10_000;
        long hourStartMs = Hours.startMs(System.currentTimeMillis());
        byte[][] bodies = bodies(hourStartMs, usersPerHour, ids);

        double httpRate;
        long acknowledged;
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = TracerboyServer.start(TracerboyConfig.load(new String[0], new Properties(),
                     Map.of("DATABASE_URL", database.url(), "PORT", "0", "BIND_ADDRESS", "127.0.0.1",
                             "BATCH_SIZE", Integer.toString(batchSize))))) {
            server.awaitReady(60_000);
            String url = "http://127.0.0.1:" + server.port() + "/analytics/batch";
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            AtomicLong accepted = new AtomicLong();
            AtomicLong sequence = new AtomicLong();
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> threads = new ArrayList<>();
            long start = System.nanoTime();
            for (int c = 0; c < clients; c++) {
                Thread client = new Thread(() -> {
                    for (long n; running.get() && (n = sequence.getAndIncrement()) < bodies.length; ) {
                        try {
                            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(url))
                                    .header("Content-Type", "application/x-ndjson")
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(bodies[(int) n])).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (answer.statusCode() == 200) {
                                accepted.addAndGet(EVENTS_PER_REQUEST);
                            }
                        } catch (Exception e) {
                            return;
                        }
                    }
                });
                threads.add(client);
                client.start();
            }
            TimeUnit.SECONDS.sleep(seconds);
            running.set(false);
            for (Thread client : threads) {
                client.join();
            }
            acknowledged = accepted.get();
            while (server.stats().rowsWritten() < acknowledged) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            httpRate = acknowledged / ((System.nanoTime() - start) / 1e9); // until the last one is committed
            try (Connection connection = DriverManager.getConnection(database.url())) {
                Reconciler.Counts stored = Reconciler.recount(connection, hourStartMs);
                Reconciler.Counts aggregates = Reconciler.aggregates(connection, hourStartMs);
                if (stored.events() != acknowledged || !stored.equals(aggregates)) {
                    System.out.println("RECONCILIATION FAILED: acknowledged " + acknowledged + ", recount " + stored
                            + ", hourly_stats " + aggregates);
                    System.exit(2);
                }
            }
        }
        double copyRate = rawCopy(acknowledged, hourStartMs, usersPerHour, batchSize);
        System.out.printf("batch ingest over HTTP (%d clients, %d events per request%s): %,.0f events/s, %,d events, "
                + "reconciled%n", clients, EVENTS_PER_REQUEST, ids ? ", an id on every event" : "", httpRate,
                acknowledged);
        System.out.printf("raw binary COPY of as many events, %d per COPY, one connection: %,.0f rows/s%n",
                batchSize, copyRate);
        System.out.printf("ratio: %.2f%n", httpRate / copyRate);
    }

    /** NDJSON bodies of {@value #EVENTS_PER_REQUEST} events; with ids, every event of every body has its own. */
    private static byte[][] bodies(long hourStartMs, int usersPerHour, boolean ids) {
        SplittableRandom random = new SplittableRandom(7);
        byte[][] bodies = new byte[MAX_BODIES][];
        StringBuilder body = new StringBuilder(EVENTS_PER_REQUEST * 110);
        for (int b = 0; b < bodies.length; b++) {
            body.setLength(0);
            for (int i = 0; i < EVENTS_PER_REQUEST; i++) {
                body.append("{\"timestamp\":").append(hourStartMs + random.nextInt((int) Hours.HOUR_MS))
                        .append(",\"user\":\"user-").append(random.nextInt(usersPerHour))
                        .append(random.nextInt(10) == 0 ? "\",\"event\":\"click\"" : "\",\"event\":\"impression\"");
                if (ids) {
                    body.append(",\"id\":\"").append(hourStartMs).append('-').append(b).append('-').append(i)
                            .append('"');
                }
                body.append("}\n");
            }
            bodies[b] = body.toString().getBytes(StandardCharsets.UTF_8);
        }
        return bodies;
    }

    /**
     * Rows per second for one server-side {@code COPY raw_events FROM '<file>'} of {@code events} such events, into a
     * fresh database on the same server and a table like the migrated {@code events} (as {@link #rawCopy}): the file is
     * written first, in PostgreSQL's binary format, and only the COPY, which reads it without any client, is timed.
     */
    private static double serverCopy(long events, long hourStartMs, int usersPerHour) throws Exception {
        Path file = Files.createTempFile("tracerboy-servercopy", ".bin");
        try (BenchDatabase bench = new BenchDatabase(2)) {
            file.toFile().setReadable(true, false); // the server process reads it
            String copySql = rawEventsTable(bench).replace("FROM STDIN", "FROM '" + file.toAbsolutePath() + "'");
            SplittableRandom random = new SplittableRandom(42);
            EventBatch one = new EventBatch(1);
            BinaryCopyEncoder encoder = new BinaryCopyEncoder();
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
                encoder.start();
                for (long i = 0; i < events; i++) {
                    one.clear();
                    addRandomEvent(one, random, hourStartMs, usersPerHour);
                    encoder.row(one, 0);
                    if (encoder.length() >= 1 << 16) {
                        out.write(encoder.buffer(), 0, encoder.length());
                        encoder.clear();
                    }
                }
                encoder.finish();
                out.write(encoder.buffer(), 0, encoder.length());
            }
            try (Connection connection = bench.database.dataSource().getConnection()) {
                long start = System.nanoTime();
                connection.createStatement().execute(copySql);
                return events / ((System.nanoTime() - start) / 1e9);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * Rows per second for a raw COPY of {@code events} such events into a fresh database on the same server, into
     * {@code raw_events} ({@link #rawEventsTable}), as many rows per COPY as {@code eventsPerCopy}, one connection.
     */
    private static double rawCopy(long events, long hourStartMs, int usersPerHour, int eventsPerCopy)
            throws Exception {
        try (BenchDatabase bench = new BenchDatabase(2)) {
            String copySql = rawEventsTable(bench);
            try (Connection connection = bench.database.dataSource().getConnection()) {
                SplittableRandom random = new SplittableRandom(42);
                EventBatch batch = new EventBatch(eventsPerCopy);
                BinaryCopyEncoder encoder = new BinaryCopyEncoder();
                connection.setAutoCommit(false);
                long start = System.nanoTime();
                for (long done = 0; done < events; done += batch.size()) {
                    batch.clear();
                    for (int i = 0; i < eventsPerCopy && done + i < events; i++) {
                        addRandomEvent(batch, random, hourStartMs, usersPerHour);
                    }
                    RawCopy.encode(encoder, batch);
                    CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI()
                            .copyIn(copySql);
                    copy.writeToCopy(encoder.buffer(), 0, encoder.length());
                    copy.endCopy();
                    connection.commit();
                }
                return events / ((System.nanoTime() - start) / 1e9);
            }
        }
    }

    /**
     * Makes {@code raw_events} {@code LIKE} the migrated {@code events} table (its columns, checks and indexes, without
     * the day partitions the writer makes as it goes), so the ceilings follow the real schema; answers the binary
     * {@code COPY raw_events … FROM STDIN}.
     */
    private static String rawEventsTable(BenchDatabase bench) throws SQLException {
        bench.execute("CREATE TABLE raw_events (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                + "INCLUDING INDEXES)");
        return BinaryCopyEncoder.COPY_SQL.replace("COPY events ", "COPY raw_events ");
    }

    /** One event of the hour from {@code usersPerHour} users, 10 % clicks: the ceilings' events, the same each run. */
    private static void addRandomEvent(EventBatch batch, SplittableRandom random, long hourStartMs, int usersPerHour) {
        batch.add(hourStartMs + random.nextInt((int) Hours.HOUR_MS), "user-" + random.nextInt(usersPerHour),
                random.nextInt(10) == 0 ? EventKind.CLICK : EventKind.IMPRESSION);
    }
}
