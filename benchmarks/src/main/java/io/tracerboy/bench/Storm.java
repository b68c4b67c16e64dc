package io.tracerboy.bench;

import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.testsupport.TcpProxy;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A storm of combined faults against three replicas of the real jar on one PostgreSQL, with clients that retry as real
 * ones do, then an exact audit. Seeded: the fault schedule (times, kinds, targets, durations) and every event follow
 * from the seed; the interleaving with real time does not, which is the point.
 *
 * <p>The database is the harness's own embedded PostgreSQL on a fixed port (so it can be killed and restarted under the
 * replicas), each replica reaches it through its own {@link TcpProxy} (so connections can be cut). Clients send single
 * POSTs and NDJSON batches, with an id on every event, current and past hours, 500 overlapping users; a request whose
 * answer is not a success is sent again unchanged (same body, same ids) to a random replica until it succeeds or the
 * load stops. Faults: PostgreSQL killed ({@code SIGQUIT}: immediate stop, crash recovery) and restarted; PostgreSQL
 * stalled ({@code SIGSTOP}, long enough to fill a ring, then {@code SIGCONT}); connections cut; a COMMIT's reply lost
 * with every connection of that replica; a replica {@code SIGKILL}ed and restarted (committed mode only); a replica
 * {@code SIGTERM}ed and restarted; retention run under the load (a month-old empty day partition attached, then
 * detached and dropped by a retention pass while the replicas write).
 *
 * <p>The audit: every acknowledged event is stored exactly once (its key in {@code events}, and {@code events} per
 * hour, user and kind exactly what the stored ids say); nothing unacknowledged is stored twice; every hour's
 * {@code hourly_stats} equals the recount from {@code events} and {@code GET}; {@code dead_letters} is empty; each
 * surviving replica wrote everything it accepted and no less than its clients saw acknowledged; no month-old partition
 * survives.
 *
 * <p>{@code java -Dtracerboy.jar=http-edge/target/tracerboy.jar -cp benchmarks/target/benchmarks.jar
 * io.tracerboy.bench.Storm [seconds] [seed|random] [committed|buffered]}; exits 1 on any loss, duplicate or mismatch,
 * 2 on a run too short for one fault of every kind ({@link #minimumSeconds}).
 *
 * <p>This class plans the storm ({@link #schedule}) and runs it; each role has a class of its own: {@link
 * StormDatabase} (the PostgreSQL process), {@link StormReplicas} (the jars and their proxies), {@link StormLoad} (the
 * clients), {@link StormFaults} (the injector) and {@link StormAudit} (the verdict), sharing the run's list of
 * problems.
 */
public final class Storm {
    /** What the injector can do. */
    public enum Fault {
        DATABASE_KILL, DATABASE_STALL, CONNECTIONS_CUT, COMMIT_REPLY_LOST, REPLICA_KILL, REPLICA_TERM,
        /**
         * Retention at work under the load: an empty day partition of {@code events} and of {@code hourly_users},
         * long past retention, is attached, then a retention pass creates the days ahead and detaches ({@code
         * CONCURRENTLY}) and drops it while the replicas write; replicas restarted by other faults run their own
         * retention pass as they start.
         */
        RETENTION
    }

    /** How a storm ended. */
    public record Verdict(boolean passed, List<String> summary) {
    }

    /**
     * One fault of the schedule: when (ms after the injector starts), which, on which replica, for how long. The first
     * of each kind is required: when its target is busy with another fault it takes another or waits, not skipped.
     */
    public record PlannedFault(long atMs, Fault fault, int target, long durationMs, boolean required) {
    }

    static final int REPLICAS = 3;
    static final int CLIENTS = 8;
    static final RetentionKeeper.Retention STORM_RETENTION = new RetentionKeeper.Retention(24, 24, 24);
    /** Faults start after the load has, and stop this long before it ends. */
    private static final long LEAD_MS = 2_000;
    private static final long TAIL_MS = 5_000;

    private final long seed;
    private final int seconds;
    private final boolean committed;
    private final PrintStream out;
    private final Path work;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final long startNanos = System.nanoTime();
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private final StormDatabase database;
    private final StormReplicas replicas;
    private final StormLoad load;
    private final StormFaults faults;
    private final StormAudit audit;

    public Storm(long seed, int seconds, boolean committed, Path work, PrintStream out) throws IOException {
        this.seed = seed;
        this.seconds = seconds;
        this.committed = committed;
        this.work = work;
        this.out = out;
        int minimum = minimumSeconds(kinds(committed).size());
        if (seconds < minimum) {
            throw new IllegalArgumentException("a " + (committed ? "committed" : "buffered") + " storm injects "
                    + kinds(committed).size() + " fault kinds and needs at least " + minimum + " s, not " + seconds);
        }
        this.database = new StormDatabase(work, out);
        this.replicas = new StormReplicas(committed, work, out, this::elapsed, http, database, problems);
        this.load = new StormLoad(seed, this::elapsed, http, replicas, problems);
        this.faults = new StormFaults(seed, seconds, out, this::elapsed, database, replicas, load, problems);
        this.audit = new StormAudit(seed, out, database, replicas, load, faults, problems);
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        long seed = args.length > 1 && !args[1].equals("random") ? Long.parseLong(args[1])
                : new Random().nextLong() & Long.MAX_VALUE;
        boolean committed = args.length < 3 || args[2].equals("committed");
        int minimum = minimumSeconds(kinds(committed).size());
        if (seconds < minimum) {
            System.err.println("storm: a " + (committed ? "committed" : "buffered") + " storm needs at least " + minimum
                    + " s (one fault of each of its " + kinds(committed).size() + " kinds), not " + seconds);
            System.exit(2);
        }
        Path work = Files.createTempDirectory("tracerboy-storm");
        Verdict verdict = new Storm(seed, seconds, committed, work, System.out).run();
        System.exit(verdict.passed() ? 0 : 1);
    }

    /** The fault kinds of a storm in this mode: all of them, but kill -9 only in committed mode. */
    public static List<Fault> kinds(boolean committed) {
        List<Fault> kinds = new ArrayList<>(List.of(Fault.values()));
        if (!committed) {
            kinds.remove(Fault.REPLICA_KILL); // buffered mode promises nothing across kill -9
        }
        return kinds;
    }

    /** The mean gap between two faults of a run. */
    private static long gapMs(int seconds, int kinds) {
        return Math.max(500, Math.min(5_000, seconds * 1_000L / (kinds * 2L)));
    }

    /** The shortest run whose schedule holds one fault of every kind whatever the seed: every gap at its longest. */
    public static int minimumSeconds(int kinds) {
        for (int seconds = 1; ; seconds++) {
            long gap = gapMs(seconds, kinds);
            if (LEAD_MS + (kinds - 1) * (gap / 2 + gap - 1) < seconds * 1_000L - TAIL_MS) {
                return seconds;
            }
        }
    }

    /**
     * The seeded schedule: the first fault of each kind in a seeded order, then seeded random kinds, at seeded gaps
     * (half to one and a half times the mean) from {@code LEAD_MS} until {@code TAIL_MS} before the end.
     */
    public static List<PlannedFault> schedule(long seed, int seconds, List<Fault> kinds) {
        Random random = new Random(seed);
        List<Fault> order = new ArrayList<>(kinds);
        Collections.shuffle(order, random);
        long gapMs = gapMs(seconds, kinds.size());
        List<PlannedFault> plan = new ArrayList<>();
        for (long atMs = LEAD_MS; atMs < seconds * 1_000L - TAIL_MS; atMs += gapMs / 2 + random.nextInt((int) gapMs)) {
            int n = plan.size();
            Fault fault = n < order.size() ? order.get(n) : kinds.get(random.nextInt(kinds.size()));
            int target = random.nextInt(REPLICAS);
            long durationMs = 1_000 + random.nextInt(3_000);
            plan.add(new PlannedFault(atMs, fault, target, durationMs, n < order.size()));
        }
        return plan;
    }

    /** Runs the storm and the audit; prints the summary and answers the verdict. */
    public Verdict run() throws Exception {
        List<Fault> kinds = kinds(committed);
        out.printf("storm: seed %d, %d s, ACK_MODE=%s, %d replicas, %d clients, faults %s%n", seed, seconds,
                committed ? "committed" : "buffered", REPLICAS, CLIENTS, kinds);
        database.start();
        try {
            replicas.startAll();
            load.start();
            faults.inject(kinds);
            load.stop();
            faults.awaitUndone();
            replicas.settle();
            return audit.verdict(kinds);
        } finally {
            replicas.closeAndKeepLogs();
            out.println("storm: logs in " + work);
            replicas.closeProxies();
            database.stop();
        }
    }

    /** The time since the storm was built, for its output lines. */
    private String elapsed() {
        return String.format("%.1f s", (System.nanoTime() - startNanos) / 1e9);
    }

    /** Sleeps; an interrupt ends the sleep early and stays set for the caller's loop to see. */
    static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
