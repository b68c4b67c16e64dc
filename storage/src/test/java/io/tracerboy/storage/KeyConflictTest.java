package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Which refusals are a resend meeting the unique (ts, event_key) index, as PostgreSQL and Citus report them. */
class KeyConflictTest {
    /** A server error as the protocol carries it: one-letter field codes, each ended by a NUL. */
    private static PSQLException error(String state, String message, String constraint) {
        return new PSQLException(new ServerErrorMessage("SERROR\0C" + state + "\0M" + message + "\0"
                + (constraint == null ? "" : "n" + constraint + "\0")));
    }

    @Test
    void postgresqlNamesTheConstraint() {
        assertThat(CopyBatchSink.isKeyConflict(error("23505", "duplicate key value violates unique constraint "
                + "\"events_p2026_12_03_ts_event_key_idx\"", "events_p2026_12_03_ts_event_key_idx"))).isTrue();
        assertThat(CopyBatchSink.isKeyConflict(error("23505", "duplicate key value violates unique constraint "
                + "\"written_batches_pkey\"", "written_batches_pkey"))).isFalse();
    }

    @Test
    void citusPassesTheShardsRefusalOnAsAnInternalErrorWithoutTheConstraintField() {
        // As CitusIT saw it from Citus 13.2 when a resend through another replica met a shard's index.
        assertThat(CopyBatchSink.isKeyConflict(error("XX000", "duplicate key value violates unique constraint "
                + "\"events_p2026_12_03_ts_event_key_user_id_idx_102032\"", null))).isTrue();
        assertThat(CopyBatchSink.isKeyConflict(error("XX000", "duplicate key value violates unique constraint "
                + "\"hourly_users_p2026_12_03_pkey_102040\"", null))).isFalse();
        assertThat(CopyBatchSink.isKeyConflict(error("XX000", "could not connect to node event_key", null)))
                .isFalse();
    }
}
