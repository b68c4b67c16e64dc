package io.tracerboy.storage;

import io.tracerboy.ingest.Hours;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forgets by time what is past its retention: event ids whose hour began {@code EVENT_ID_RETENTION_HOURS} or more ago,
 * and the ids of batches committed more than a day ago. Runs off the write path, on a thread of its own: once when
 * started (so a restarted or quiet replica forgets too) and then every {@link #INTERVAL_MS}; never inside a batch's
 * transaction. The writer does not rely on it: it ignores ids past their retention whether or not they are deleted yet
 * ({@link #eventIdsRememberedAfterMs}), so the keeper only gives the space back.
 */
public final class RetentionKeeper {
    /** How often the keeper runs: ids are kept by whole hours, so a few minutes late costs nothing. */
    public static final long INTERVAL_MS = TimeUnit.MINUTES.toMillis(5);

    private static final Logger log = LoggerFactory.getLogger(RetentionKeeper.class);
    private static final String FORGET_BATCHES_SQL =
            "DELETE FROM written_batches WHERE committed_at < now() - interval '1 day'";
    private static final String FORGET_IDS_SQL = "DELETE FROM event_ids WHERE hour <= to_timestamp(?)";
    // Chunks whose whole range is before the instant: an hour chunk goes once every id in it is past retention.
    private static final String DROP_ID_CHUNKS_SQL = "SELECT drop_chunks('event_ids', older_than => to_timestamp(?))";

    private final DataSource dataSource;
    private final StorageEngine engine;
    private final int eventIdRetentionHours;
    private final LongSupplier millisClock;
    private final Thread thread;
    private volatile boolean failing;

    public RetentionKeeper(DataSource dataSource, StorageEngine engine, int eventIdRetentionHours,
                           LongSupplier millisClock) {
        this.dataSource = dataSource;
        this.engine = engine;
        this.eventIdRetentionHours = eventIdRetentionHours;
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

    private void loop() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                runOnce();
                if (failing) {
                    failing = false;
                    log.info("retention: forgetting old event ids again");
                }
            } catch (SQLException e) {
                if (!failing) {
                    failing = true;
                    log.warn("retention: cannot forget old event ids now, retrying every {} s: {}",
                            TimeUnit.MILLISECONDS.toSeconds(INTERVAL_MS), SchemaMigrator.rootMessage(e));
                }
            }
            try {
                Thread.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Forgets, now by the clock, everything past its retention. Called on the keeper's thread, and by tests. */
    public void runOnce() throws SQLException {
        long forgetUpToSeconds = eventIdsRememberedAfterMs(millisClock.getAsLong(), eventIdRetentionHours) / 1000;
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            try (Statement statement = connection.createStatement()) {
                statement.executeUpdate(FORGET_BATCHES_SQL);
            }
            try (PreparedStatement forget = connection.prepareStatement(engine == StorageEngine.TIMESCALEDB
                    ? DROP_ID_CHUNKS_SQL : FORGET_IDS_SQL)) {
                forget.setLong(1, forgetUpToSeconds);
                forget.execute();
            }
        }
    }
}
