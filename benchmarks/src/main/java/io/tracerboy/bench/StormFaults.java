package io.tracerboy.bench;

import io.tracerboy.bench.Storm.Fault;
import io.tracerboy.bench.Storm.PlannedFault;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.storage.StorageEngine;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The storm's injector: follows {@link Storm#schedule}, each fault at its time in a thread of its own (so faults
 * overlap), on its target or, for the first of a kind whose target is busy, another; does each {@link Fault} kind to
 * the database, a replica's proxy or a replica, and undoes it; keeps the database's lock (one database fault at a
 * time) and counts what was injected, by kind, for the audit.
 */
final class StormFaults {
    private final long seed;
    private final int seconds;
    private final PrintStream out;
    private final Supplier<String> elapsed;
    private final StormDatabase database;
    private final StormReplicas replicas;
    private final StormLoad load;
    private final List<String> problems;
    private final Map<Fault, AtomicLong> injected = new EnumMap<>(Fault.class);
    private final ReentrantLock databaseLock = new ReentrantLock();
    private final List<Thread> threads = new ArrayList<>();

    StormFaults(long seed, int seconds, PrintStream out, Supplier<String> elapsed, StormDatabase database,
            StormReplicas replicas, StormLoad load, List<String> problems) {
        this.seed = seed;
        this.seconds = seconds;
        this.out = out;
        this.elapsed = elapsed;
        this.database = database;
        this.replicas = replicas;
        this.load = load;
        this.problems = problems;
        for (Fault fault : Fault.values()) {
            injected.put(fault, new AtomicLong());
        }
    }

    /** How many faults of this kind were injected (done on some target, not skipped). */
    long injected(Fault fault) {
        return injected.get(fault).get();
    }

    /**
     * Injects the faults of {@link Storm#schedule} until the time is up, each at its time in its own thread (so faults
     * overlap), each undoing itself; {@link #awaitUndone()} waits for those threads.
     */
    void inject(List<Fault> kinds) throws InterruptedException {
        long injectorStartNanos = System.nanoTime();
        for (PlannedFault planned : Storm.schedule(seed, seconds, kinds)) {
            long waitNanos = injectorStartNanos + TimeUnit.MILLISECONDS.toNanos(planned.atMs()) - System.nanoTime();
            if (waitNanos > 0) {
                TimeUnit.NANOSECONDS.sleep(waitNanos);
            }
            Thread t = new Thread(() -> {
                try {
                    String at = elapsed.get();
                    int target = injectSomewhere(planned);
                    if (target >= 0) {
                        injected.get(planned.fault()).incrementAndGet();
                        out.printf("storm: %s %s on replica %d for %d ms, done at %s%n", at, planned.fault(), target,
                                planned.durationMs(), elapsed.get());
                    }
                } catch (Exception e) {
                    problems.add("fault " + planned.fault() + " failed: " + e);
                }
            }, "storm-fault-" + threads.size());
            threads.add(t);
            t.start();
        }
        long left = injectorStartNanos + TimeUnit.SECONDS.toNanos(seconds) - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** Waits until every fault injected has been undone (a required one waiting its turn gives up with the load). */
    void awaitUndone() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
    }

    /**
     * Does a planned fault on its target; when that is busy with another fault, a random one is skipped, but the first
     * of its kind tries the other replicas, then again, while the load lasts. Answers the replica, or -1 if none.
     */
    private int injectSomewhere(PlannedFault planned) throws Exception {
        if (injectAndUndo(planned.fault(), planned.target(), planned.durationMs())) {
            return planned.target();
        }
        while (planned.required() && load.loading()) {
            for (int k = 1; k <= Storm.REPLICAS; k++) {
                int target = (planned.target() + k) % Storm.REPLICAS;
                if (injectAndUndo(planned.fault(), target, planned.durationMs())) {
                    return target;
                }
            }
            Storm.pause(200);
        }
        return -1;
    }

    /** Does one fault and undoes it; false when its target was busy with another fault (then it did nothing). */
    private boolean injectAndUndo(Fault fault, int target, long durationMs) throws Exception {
        switch (fault) {
            case DATABASE_KILL, DATABASE_STALL -> {
                if (!databaseLock.tryLock()) {
                    return false;
                }
                try {
                    long pid = database.postmasterPid();
                    if (fault == Fault.DATABASE_KILL) {
                        // what pg_ctl stop -m immediate sends: no checkpoint, crash recovery
                        StormDatabase.signal("QUIT", pid);
                        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
                        Thread.sleep(durationMs);
                        database.start();
                    } else {
                        List<Long> pids = new ArrayList<>();
                        pids.add(pid);
                        ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> pids.add(d.pid())));
                        for (long p : pids) {
                            StormDatabase.signal("STOP", p);
                        }
                        Thread.sleep(durationMs + 2_000); // committed clients wait, batches pile up: the rings fill
                        for (long p : pids) {
                            StormDatabase.signal("CONT", p);
                        }
                    }
                } finally {
                    databaseLock.unlock();
                }
            }
            case CONNECTIONS_CUT -> replicas.proxy(target).dropAll();
            case RETENTION -> {
                // Straight to the database, not through a replica's proxy, while the replicas write and restart.
                long daysAgo = 30 + injected.get(fault).get(); // a day of its own each time
                long dayMs = (System.currentTimeMillis() / 86_400_000L - daysAgo) * 86_400_000L;
                try (Database db = new Database(database.jdbcUrl(), null, null, 1)) {
                    try (Connection connection = db.dataSource().getConnection();
                         Statement ddl = connection.createStatement()) {
                        for (String table : List.of("events", "hourly_users")) {
                            String day = table + "_p_storm_" + dayMs;
                            ddl.execute("CREATE TABLE " + day + " (LIKE " + table + " INCLUDING DEFAULTS"
                                    + " INCLUDING CONSTRAINTS)");
                            ddl.execute("ALTER TABLE " + table + " ATTACH PARTITION " + day + " FOR VALUES FROM ('"
                                    + Instant.ofEpochMilli(dayMs) + "') TO ('"
                                    + Instant.ofEpochMilli(dayMs + 86_400_000L) + "')");
                        }
                    }
                    new RetentionKeeper(db.dataSource(), StorageEngine.POSTGRESQL, Storm.STORM_RETENTION,
                            System::currentTimeMillis).runOnce();
                } catch (SQLException e) {
                    out.println("retention pass failed (the next one finishes it): " + e.getMessage());
                }
            }
            case COMMIT_REPLY_LOST -> {
                replicas.proxy(target).loseReplyTo("COMMIT");
                boolean lost = replicas.proxy(target).awaitReplyLost(durationMs);
                replicas.proxy(target).disarm(); // when no COMMIT came in time
                Thread.sleep(500);
                replicas.proxy(target).restore();
                return lost;
            }
            case REPLICA_KILL, REPLICA_TERM -> {
                StormReplicas.Replica replica = replicas.replica(target);
                if (!replica.lock.tryLock()) {
                    return false;
                }
                try {
                    StormReplicas.Incarnation old = replica.current;
                    replica.current = null; // clients go elsewhere meanwhile
                    old.process.signal(fault == Fault.REPLICA_KILL);
                    int status = old.process.awaitExit();
                    if (fault == Fault.REPLICA_TERM && status != 0) {
                        problems.add("replica " + target + " exited " + status + " on SIGTERM");
                    }
                    Thread.sleep(durationMs / 2);
                    replica.current = replicas.start(target, false);
                } finally {
                    replica.lock.unlock();
                }
            }
            default -> throw new IllegalStateException(fault.name());
        }
        return true;
    }
}
