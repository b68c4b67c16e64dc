package io.tracerboy.bench.gatling;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.Reconciler;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the 204s the virtual users received per UTC hour and kind, and after the run compares them with what
 * {@code GET /analytics} reports (and, given {@code -Djdbc=…}, with the events table), each as the difference from a
 * baseline taken before the run. Prints every hour; exits the JVM with status 2 on a loss so the build fails.
 * Assumes nothing else writes to those hours during the run.
 */
final class Reconciliation {
    private static final Map<Long, LongAdder[]> ACKNOWLEDGED = new ConcurrentHashMap<>();
    private static final Map<Long, long[]> BASELINE_GET = new TreeMap<>();
    private static final Map<Long, long[]> BASELINE_DB = new TreeMap<>();

    private Reconciliation() {
    }

    static long hourOf(long timestampMs) {
        return Hours.startMs(timestampMs);
    }

    /** Records one 204 for an event of {@code kind} (0 click, 1 impression) at {@code timestampMs}. */
    static void acknowledged(long timestampMs, int kind) {
        ACKNOWLEDGED.computeIfAbsent(hourOf(timestampMs), h -> new LongAdder[] {new LongAdder(), new LongAdder()})[kind]
                .increment();
    }

    /** {@link #before}, for a simulation's {@code before()} hook. */
    static void beforeRun(String baseUrl, Set<Long> hours) {
        try {
            before(baseUrl, hours);
        } catch (Exception e) {
            throw new IllegalStateException("cannot take the baseline from " + baseUrl, e);
        }
    }

    /** {@link #after}, for a simulation's {@code after()} hook. */
    static void afterRun(String baseUrl) {
        try {
            after(baseUrl);
        } catch (Exception e) {
            throw new IllegalStateException("reconciliation failed", e);
        }
    }

    /** Takes the baseline of every hour the run may touch. */
    static void before(String baseUrl, Set<Long> hours) throws Exception {
        for (long hour : hours) {
            BASELINE_GET.put(hour, viaGet(baseUrl, hour));
            if (jdbc() != null) {
                BASELINE_DB.put(hour, viaDatabase(hour));
            }
        }
    }

    /**
     * Whether every event counted must equal every event acknowledged (events with ids, resent or not), rather than
     * at least (events without ids, where a request whose answer was lost may be counted unseen).
     */
    static volatile boolean exact;

    /** Waits for the writers to catch up, then compares; exits with status 2 on a loss (or any excess when exact). */
    static void after(String baseUrl) throws Exception {
        Set<Long> hours = new TreeSet<>(ACKNOWLEDGED.keySet());
        long deadline = System.nanoTime() + 60_000_000_000L;
        boolean lost;
        StringBuilder report;
        do {
            lost = false;
            report = new StringBuilder(String.format("%n%-22s %-8s %12s %12s %12s%n", "hour (UTC)", "kind", "204s",
                    "GET delta", "DB delta"));
            for (long hour : hours) {
                LongAdder[] acks = ACKNOWLEDGED.get(hour);
                long[] get = viaGet(baseUrl, hour);
                long[] baseGet = BASELINE_GET.getOrDefault(hour, new long[2]);
                long[] db = jdbc() == null ? null : viaDatabase(hour);
                long[] baseDb = BASELINE_DB.getOrDefault(hour, new long[2]);
                for (int kind = 0; kind < 2; kind++) {
                    long acked = acks[kind].sum();
                    long seen = get[kind] - baseGet[kind];
                    String dbDelta = db == null ? "-" : Long.toString(db[kind] - baseDb[kind]);
                    if (seen < acked || db != null && db[kind] - baseDb[kind] < acked) {
                        lost = true;
                    }
                    if (exact && (seen != acked || db != null && db[kind] - baseDb[kind] != acked)) {
                        lost = true;
                    }
                    report.append(String.format("%-22s %-8s %12d %12d %12s%n", java.time.Instant.ofEpochMilli(hour),
                            kind == 0 ? "click" : "impression", acked, seen, dbDelta));
                }
            }
            if (lost) {
                Thread.sleep(200);
            }
        } while (lost && System.nanoTime() < deadline);
        System.out.println(report);
        if (lost) {
            System.out.println("RECONCILIATION FAILED: acknowledged events are missing" + (exact ? " or counted "
                    + "twice" : "") + " (see the rows above)");
            System.exit(2);
        }
        System.out.println("reconciled: every 204 is counted by GET" + (jdbc() == null ? ""
                : " and stored in the database")
                + " (a delta above the 204s means the server counted requests whose answer the client did not see)");
    }

    private static String jdbc() {
        return System.getProperty("jdbc");
    }

    /** Clicks and impressions of the hour as GET answers them (the shared {@link Reconciler}). */
    private static long[] viaGet(String baseUrl, long hour) throws Exception {
        Reconciler.Counts counts = Reconciler.viaGet(baseUrl, hour);
        return new long[] {counts.clicks(), counts.impressions()};
    }

    /** Clicks and impressions of the hour recounted from the events table (the shared {@link Reconciler}). */
    private static long[] viaDatabase(long hour) throws Exception {
        try (Connection connection = DriverManager.getConnection(jdbc())) {
            Reconciler.Counts counts = Reconciler.recount(connection, hour);
            return new long[] {counts.clicks(), counts.impressions()};
        }
    }
}
