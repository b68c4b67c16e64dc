package io.tracerboy.storage;

import io.tracerboy.ingest.Hours;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the time-partitioned tables by the clock, off the write path, on a thread of its own: creates the next days'
 * partitions ahead of the events, and drops whole the days past their retention — raw events
 * ({@code EVENT_RETENTION_HOURS}), per-hour user sets ({@code USER_RETENTION_HOURS}), request keys and the legacy ids
 * ({@code EVENT_ID_RETENTION_HOURS}) — and the ids of batches committed more than a day ago. Runs once when started (so
 * a restarted or quiet replica keeps them too), then every {@link #INTERVAL_MS}; never inside a batch's transaction.
 * The writer does not rely on it for correctness: it ignores ids past their retention whether or not they are dropped
 * yet ({@link #eventIdsRememberedAfterMs}), and creates a missing day itself.
 */
public final class RetentionKeeper {
    /** How often the keeper runs: partitions are days, so a few minutes late costs nothing. */
    public static final long INTERVAL_MS = TimeUnit.MINUTES.toMillis(5);
    /**
     * How long past its retention a day is kept: the edge refuses events older than the retention, but one accepted
     * just inside it may still wait in the ring (a database outage) before it is written.
     */
    public static final long GRACE_MS = Hours.HOUR_MS;
    /** How many days ahead of today partitions exist. */
    static final int DAYS_AHEAD = 2;

    /** How long each kind of data is kept, in hours. */
    public record Retention(int eventHours, int userHours, int eventIdHours) {
    }

    /** What the keeper last saw: each table's partitions, when it ran, and whether its last run failed. */
    public record Status(List<PartitionStatus> tables, long ranAtMs, boolean failing) {
        public static final Status NONE = new Status(List.of(), 0, false);
    }

    private static final Logger log = LoggerFactory.getLogger(RetentionKeeper.class);
    private static final String FORGET_BATCHES_SQL =
            "DELETE FROM written_batches WHERE committed_at < now() - interval '1 day'";

    private final DataSource dataSource;
    private final TimePartitions partitions;
    private final TimePartitions requestKeyPartitions = TimePartitions.declarative();
    private final Retention retention;
    private final LongSupplier millisClock;
    private final Thread thread;
    private volatile Status status = Status.NONE;

    public RetentionKeeper(DataSource dataSource, StorageEngine engine, Retention retention, LongSupplier millisClock) {
        this.dataSource = dataSource;
        this.partitions = TimePartitions.forEngine(engine);
        this.retention = retention;
        this.millisClock = millisClock;
        this.thread = new Thread(this::loop, "tracerboy-retention");
        this.thread.setDaemon(true);
    }

    /**
     * The instant at or before which an event's hour must have begun for its id to be forgotten: an id is remembered
     * while its event's hour began less than {@code retentionHours} hours before {@code nowMs}.
     */
    public static long eventIdsRememberedAfterMs(long nowMs, int retentionHours) {
        return nowMs - retentionHours * Hours.HOUR_MS;
    }

    /** Runs now and then every {@link #INTERVAL_MS} until {@link #stop()}. */
    public void start() {
        thread.start();
    }

    public void stop() {
        thread.interrupt();
    }

    /** What the last run saw; {@link Status#NONE} before the first. Read by metrics and the status page. */
    public Status status() {
        return status;
    }

    private void loop() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                runOnce();
            } catch (SQLException e) {
                if (!status.failing()) {
                    log.warn("retention: cannot keep the partitions now, retrying every {} s: {}",
                            TimeUnit.MILLISECONDS.toSeconds(INTERVAL_MS), SchemaMigrator.rootMessage(e));
                }
                status = new Status(status.tables(), status.ranAtMs(), true);
            }
            try {
                Thread.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Creates, drops and forgets, now by the clock, what is due. Called on the keeper's thread, and by tests. */
    public void runOnce() throws SQLException {
        long nowMs = millisClock.getAsLong();
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            createAhead(connection, partitions, "events", nowMs);
            createAhead(connection, partitions, "hourly_users", nowMs);
            createAhead(connection, requestKeyPartitions, "request_keys", nowMs);
            List<String> dropped = new ArrayList<>();
            dropped.addAll(partitions.dropEndedBy(connection, "events", pastRetention(nowMs, retention.eventHours())));
            dropped.addAll(partitions.dropEndedBy(connection, "hourly_users",
                    pastRetention(nowMs, retention.userHours())));
            dropped.addAll(requestKeyPartitions.dropEndedBy(connection, "request_keys",
                    pastRetention(nowMs, retention.eventIdHours())));
            if (dropLegacyIds(connection, pastRetention(nowMs, retention.eventIdHours()))) {
                dropped.add("legacy_event_ids");
            }
            try (Statement statement = connection.createStatement()) {
                statement.executeUpdate(FORGET_BATCHES_SQL);
            }
            if (!dropped.isEmpty()) {
                log.info("retention: dropped {}", String.join(", ", dropped));
            }
            List<PartitionStatus> tables = List.of(partitions.status(connection, "events"),
                    partitions.status(connection, "hourly_users"),
                    requestKeyPartitions.status(connection, "request_keys"));
            if (status.failing()) {
                log.info("retention: keeping the partitions again");
            }
            status = new Status(tables, nowMs, false);
        }
    }

    private static long pastRetention(long nowMs, int retentionHours) {
        return nowMs - retentionHours * Hours.HOUR_MS - GRACE_MS;
    }

    /** Creates today's and the next {@link #DAYS_AHEAD} days' partitions of {@code table}, each in a transaction. */
    private static void createAhead(Connection connection, TimePartitions of, String table, long nowMs)
            throws SQLException {
        for (int day = 0; day <= DAYS_AHEAD; day++) {
            connection.setAutoCommit(false);
            try {
                of.createDay(connection, table, TimePartitions.dayStartMs(nowMs) + day * TimePartitions.DAY_MS);
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }

    /** Drops the ids kept from before the upgrade once the newest of them is past retention; true if it did. */
    private static boolean dropLegacyIds(Connection connection, long beforeMs) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet exists = statement.executeQuery("SELECT to_regclass('legacy_event_ids') IS NOT NULL")) {
            exists.next();
            if (!exists.getBoolean(1)) {
                return false;
            }
        }
        try (PreparedStatement newest = connection.prepareStatement(
                "SELECT coalesce(max(hour) < to_timestamp(? / 1000.0) - interval '1 hour', true)"
                        + " FROM legacy_event_ids")) {
            newest.setLong(1, beforeMs);
            try (ResultSet rs = newest.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return false;
                }
            }
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("DROP TABLE legacy_event_ids");
        }
        return true;
    }
}
