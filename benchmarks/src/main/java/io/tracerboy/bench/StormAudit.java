package io.tracerboy.bench;

import io.tracerboy.bench.Storm.Fault;
import io.tracerboy.bench.Storm.Verdict;
import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.EventKeys;
import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.storage.StorageEngine;
import io.tracerboy.testsupport.JarProcess;
import io.tracerboy.testsupport.Reconciler;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The storm's verdict, once the load and the faults are over and the replicas have drained: every fault kind was
 * injected; each replica wrote everything it accepted and no less than its clients saw acknowledged, and exits 0 at a
 * graceful stop; every acknowledged event is stored exactly once and every stored key was sent; {@code events} per
 * hour, user and kind is what the stored ids say; each hour's {@code hourly_stats} equals the recount;
 * {@code dead_letters} is empty; no day partition past retention survives. It adds its findings to the problems the
 * run collected, prints the summary and answers the {@link Verdict}.
 */
final class StormAudit {
    private final long seed;
    private final PrintStream out;
    private final StormDatabase database;
    private final StormReplicas replicas;
    private final StormLoad load;
    private final StormFaults faults;
    private final List<String> problems;

    StormAudit(long seed, PrintStream out, StormDatabase database, StormReplicas replicas, StormLoad load,
            StormFaults faults, List<String> problems) {
        this.seed = seed;
        this.out = out;
        this.database = database;
        this.replicas = replicas;
        this.load = load;
        this.faults = faults;
        this.problems = problems;
    }

    /** Audits the storm of these fault kinds; stops the replicas gracefully on the way. */
    Verdict verdict(List<Fault> kinds) throws Exception {
        List<String> summary = new ArrayList<>();
        for (Fault fault : kinds) {
            summary.add(String.format("fault %-18s %d injected", fault, faults.injected(fault)));
            if (faults.injected(fault) == 0) {
                problems.add("fault " + fault + " was never injected");
            }
        }
        // Each surviving replica: everything accepted was written, and no less than its clients saw acknowledged.
        for (int i = 0; i < Storm.REPLICAS; i++) {
            StormReplicas.Incarnation incarnation = replicas.replica(i).current;
            Map<String, Double> m = replicas.metrics(incarnation);
            if (m == null) {
                problems.add("replica " + i + ": /metrics unreachable");
                continue;
            }
            double accepted = m.getOrDefault("tracerboy_events_accepted_total", -1.0);
            double written = m.getOrDefault("tracerboy_rows_written_total", 0.0)
                    + m.getOrDefault("tracerboy_events_resent_total", 0.0);
            if (accepted != written || m.getOrDefault("tracerboy_events_abandoned_total", 0.0) != 0) {
                problems.add("replica " + i + ": accepted " + accepted + " but wrote " + written);
            }
            if (incarnation.acknowledged.get() > written) {
                problems.add("replica " + i + ": clients saw " + incarnation.acknowledged.get()
                        + " acknowledged, it wrote " + written);
            }
        }
        // Graceful stops: every replica exits 0 (nothing abandoned).
        for (int i = 0; i < Storm.REPLICAS; i++) {
            JarProcess process = replicas.replica(i).current.process;
            process.signal(false);
            int status = process.awaitExit();
            if (status != 0) {
                problems.add("replica " + i + " exited " + status + " at the final stop");
            }
        }
        long sent = 0;
        long acknowledged = 0;
        long stored = 0;
        long lost = 0;
        long duplicated = 0;
        TreeSet<Long> hours = new TreeSet<>();
        try (Connection db = DriverManager.getConnection(database.jdbcUrl())) {
            BitSet[] storedIds = new BitSet[Storm.CLIENTS];
            for (int c = 0; c < Storm.CLIENTS; c++) {
                storedIds[c] = new BitSet();
            }
            // The ids counted: each (timestamp, user, id) at most once by events' unique (ts, event_key); every key
            // stored must be one sent, at the timestamp it was sent with.
            Map<String, Long> sentKeys = new HashMap<>();
            for (int c = 0; c < Storm.CLIENTS; c++) {
                StormLoad.ClientLog log = load.log(c);
                for (int seq = 0; seq < log.sent; seq++) {
                    long key = EventKeys.of("u" + StormLoad.user(c, seq), StormLoad.eventId(c, seq));
                    sentKeys.put(log.timestamps[seq] + "/" + key, (long) c << 32 | seq);
                }
            }
            Map<String, Long> expected = new HashMap<>();
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery("SELECT (extract(epoch FROM ts) * 1000)::bigint, event_key "
                         + "FROM events WHERE event_key IS NOT NULL")) {
                while (rs.next()) {
                    Long sentAs = sentKeys.get(rs.getLong(1) + "/" + rs.getLong(2));
                    if (sentAs == null) {
                        problems.add("events holds key " + rs.getLong(2) + " at " + rs.getLong(1)
                                + ", which was never sent");
                        continue;
                    }
                    int client = (int) (sentAs >>> 32);
                    int seq = (int) (long) sentAs;
                    if (storedIds[client].get(seq)) {
                        duplicated++;
                    }
                    storedIds[client].set(seq);
                    long hour = Hours.startMs(rs.getLong(1));
                    hours.add(hour);
                    expected.merge(hour + "/u" + StormLoad.user(client, seq) + "/"
                            + (StormLoad.click(client, seq) ? 0 : 1), 1L, Long::sum);
                }
            }
            // events holds exactly what the counted ids say: per hour, user and kind.
            Map<String, Long> actual = new HashMap<>();
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery("SELECT extract(epoch FROM date_trunc('hour', ts))::bigint * 1000,"
                         + " user_id, kind, count(*) FROM events GROUP BY 1, 2, 3")) {
                while (rs.next()) {
                    actual.put(rs.getLong(1) + "/" + rs.getString(2) + "/" + rs.getInt(3), rs.getLong(4));
                    stored += rs.getLong(4);
                }
            }
            for (String key : union(expected.keySet(), actual.keySet())) {
                long want = expected.getOrDefault(key, 0L);
                long have = actual.getOrDefault(key, 0L);
                if (have > want) {
                    duplicated += have - want;
                    problems.add("events " + key + ": " + have + " stored, " + want + " counted ids");
                } else if (have < want) {
                    problems.add("events " + key + ": " + have + " stored, " + want + " counted ids");
                }
            }
            for (int c = 0; c < Storm.CLIENTS; c++) {
                StormLoad.ClientLog log = load.log(c);
                sent += log.sent;
                acknowledged += log.acknowledged.cardinality();
                BitSet missing = (BitSet) log.acknowledged.clone();
                missing.andNot(storedIds[c]);
                lost += missing.cardinality();
                if (!missing.isEmpty()) {
                    int firstMissing = missing.nextSetBit(0);
                    String answer = null;
                    for (int k = firstMissing; k >= 0 && answer == null; k--) {
                        answer = log.answeredBy.get(k);
                    }
                    problems.add("client " + c + ": " + missing.cardinality() + " acknowledged events not stored, "
                            + "first " + StormLoad.eventId(c, firstMissing) + ", acknowledged by " + answer);
                }
            }
            for (long hour : hours) {
                Reconciler.Counts aggregates = Reconciler.aggregates(db, hour);
                Reconciler.Counts recount = Reconciler.recount(db, hour);
                if (!aggregates.equals(recount)) {
                    problems.add("hour " + hour + ": hourly_stats " + aggregates + " but events recount " + recount);
                }
            }
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery("SELECT count(*) FROM dead_letters")) {
                rs.next();
                if (rs.getLong(1) != 0) {
                    problems.add("dead_letters holds " + rs.getLong(1) + " rows");
                }
            }
            // Every day partition the storm attached is past retention: once everything is restored, none is left.
            try (Database retention = new Database(database.jdbcUrl(), null, null, 1)) {
                new RetentionKeeper(retention.dataSource(), StorageEngine.POSTGRESQL, Storm.STORM_RETENTION,
                        System::currentTimeMillis).runOnce();
            }
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery(
                         "SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_p\\_storm\\_%'")) {
                rs.next();
                if (rs.getLong(1) != 0) {
                    problems.add(rs.getLong(1) + " day partitions past retention were not dropped");
                }
            }
        } catch (SQLException e) {
            problems.add("audit query failed: " + e.getMessage());
        }
        summary.add(String.format("events sent %d, acknowledged %d, stored %d, lost %d, duplicated %d, hours "
                + "checked %d, replica incarnations %d", sent, acknowledged, stored, lost, duplicated, hours.size(),
                replicas.incarnations()));
        summary.add("answers to clients (-1: reset, refused or timed out, then sent again): " + new TreeMap<>(
                load.answers()));
        boolean passed = problems.isEmpty() && lost == 0 && duplicated == 0 && acknowledged > 0;
        for (String problem : problems.subList(0, Math.min(20, problems.size()))) {
            summary.add("problem: " + problem);
        }
        summary.add("verdict: " + (passed ? "PASS" : "FAIL") + " (seed " + seed + ")");
        summary.forEach(out::println);
        return new Verdict(passed, summary);
    }

    private static TreeSet<String> union(Set<String> a, Set<String> b) {
        TreeSet<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }
}
