package io.tracerboy.storage;

import io.tracerboy.ingest.RetryBackoff;
import io.tracerboy.storage.migration.V2__Hypertables;
import io.tracerboy.storage.migration.V3__EventIds;
import io.tracerboy.storage.migration.V4__TimePartitions;
import io.tracerboy.storage.migration.V5__HourlySketches;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Migrates the schema on a thread of its own, retrying with backoff while the database is unreachable, so the service
 * can listen (and buffer events) before the database is there. Reports once: {@link Listener#onMigrated} or
 * {@link Listener#onFatal}, both on the migrator thread. Keeps retrying during a graceful stop until
 * {@link #cancel()}, so events accepted before the first migration still get written.
 */
public final class SchemaMigrator {
    /** Told how migration ended; called on the migrator thread. */
    public interface Listener {
        /** The schema is current; start writing. Not called once {@link #cancel()} has returned. */
        void onMigrated(StorageEngine.Choice choice);

        /**
         * The schema cannot be migrated for a reason retrying will not fix (wrong password, missing database, or a
         * {@link StorageEngine.UnavailableException} somewhere in the chain).
         */
        void onFatal(Exception failure);
    }

    private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);
    /** While the database stays unreachable, how often the log says so again after the first warning. */
    static final long REMINDER_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Database database;
    private final EnginePreference preference;
    private final RetryBackoff backoff;
    private final LongSupplier nanoClock;
    private final Listener listener;
    private final Thread thread;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Object lock = new Object();
    private boolean cancelled;
    private volatile boolean migrated;

    public SchemaMigrator(Database database, EnginePreference preference, RetryBackoff backoff, LongSupplier nanoClock,
                          Listener listener) {
        this.database = database;
        this.preference = preference;
        this.backoff = backoff;
        this.nanoClock = nanoClock;
        this.listener = listener;
        this.thread = new Thread(this::run, "tracerboy-migrate");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Waits until migration succeeded or failed for good; true when the schema is migrated. */
    public boolean awaitMigrated(long timeoutMs) throws InterruptedException {
        return finished.await(Math.max(0, timeoutMs), TimeUnit.MILLISECONDS) && migrated;
    }

    /**
     * Stops retrying; once this returns, {@link Listener#onMigrated} has either been called already or never will be.
     */
    public void cancel() {
        synchronized (lock) {
            cancelled = true;
        }
        thread.interrupt();
    }

    private void run() {
        try {
            migrateWithRetries();
        } finally {
            finished.countDown();
        }
    }

    private void migrateWithRetries() {
        long firstFailureNanos = 0;
        long lastWarningNanos = 0;
        for (int attempt = 0; ; attempt++) {
            try {
                StorageEngine.Choice choice = migrate(database, preference);
                synchronized (lock) {
                    if (cancelled) {
                        return;
                    }
                    migrated = true;
                    listener.onMigrated(choice);
                }
                return;
            } catch (Exception e) {
                if (isCancelled()) {
                    return;
                }
                if (SqlStates.classify(e) != SqlStates.Failure.TRANSIENT) {
                    listener.onFatal(e);
                    return;
                }
                String reason = rootMessage(e);
                long nowNanos = nanoClock.getAsLong();
                if (attempt == 0) {
                    firstFailureNanos = nowNanos;
                    lastWarningNanos = nowNanos;
                    log.warn("database unreachable while migrating the schema ({}); retrying with backoff up to {} ms",
                            reason, backoff.maxDelayMs());
                } else if (nowNanos - lastWarningNanos >= REMINDER_INTERVAL_NANOS) {
                    lastWarningNanos = nowNanos;
                    log.warn("database still unreachable after {} attempts in {} s ({}); still retrying", attempt + 1,
                            TimeUnit.NANOSECONDS.toSeconds(nowNanos - firstFailureNanos), reason);
                }
                try {
                    Thread.sleep(backoff.delayMs(attempt));
                } catch (InterruptedException interrupted) {
                    return; // only cancel() interrupts
                }
            }
        }
    }

    private boolean isCancelled() {
        synchronized (lock) {
            return cancelled;
        }
    }

    /**
     * Runs pending migrations once, now, and answers the engine in use with the reason it was chosen. The engine of a
     * fresh schema is chosen before anything is migrated, on a connection of its own, so insisting on one that cannot
     * be had stops with nothing begun.
     */
    public static StorageEngine.Choice migrate(Database database, EnginePreference preference) throws SQLException {
        AtomicReference<StorageEngine.Choice> fresh = new AtomicReference<>();
        Flyway flyway = Flyway.configure()
                .dataSource(database.dataSource())
                .locations("classpath:db/migration")
                .javaMigrations(new V2__Hypertables(fresh::get), new V3__EventIds(), new V4__TimePartitions(),
                        new V5__HourlySketches())
                .load();
        boolean engineUndecided = Arrays.stream(flyway.info().pending())
                .anyMatch(migration -> V2__Hypertables.VERSION.equals(migration.getVersion().getVersion()));
        if (engineUndecided) {
            fresh.set(StorageEngine.choose(database::openUnpooled, preference));
        }
        flyway.migrate();
        if (fresh.get() != null) {
            return fresh.get();
        }
        try (Connection connection = database.dataSource().getConnection()) {
            return new StorageEngine.Choice(StorageEngine.inUse(connection), "chosen when the schema was created");
        }
    }

    /** The first line of the innermost cause's message: what the operator needs, without a stack trace. */
    public static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.lines().findFirst().orElse(message);
    }
}
