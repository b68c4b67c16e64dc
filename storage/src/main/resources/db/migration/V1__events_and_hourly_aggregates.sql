-- Raw events, append only. BRIN on ts keeps COPY fast (a btree on ts halves COPY throughput, measured);
-- reads never scan this table, it is kept for audit, reprocessing and retention by time.
CREATE TABLE events (
    ts      timestamptz NOT NULL,
    user_id text        NOT NULL,
    kind    smallint    NOT NULL CHECK (kind IN (0, 1))
);
CREATE INDEX events_ts_brin ON events USING brin (ts);

-- One row per (hour, user) ever seen: the unique index decides, across every writer, who saw a user first.
-- COLLATE "C": the index compares bytes instead of running locale-aware comparisons on every insert; user ids are
-- identifiers, never sorted for people.
CREATE TABLE hourly_users (
    hour    timestamptz NOT NULL,
    user_id text        COLLATE "C" NOT NULL,
    PRIMARY KEY (hour, user_id)
);

-- The answer to GET /analytics, maintained in the same transaction as each COPY.
CREATE TABLE hourly_stats (
    hour         timestamptz PRIMARY KEY,
    unique_users bigint NOT NULL,
    clicks       bigint NOT NULL,
    impressions  bigint NOT NULL
);

-- Batches already committed, so a batch retried after its COMMIT's outcome was lost is not written twice.
CREATE TABLE written_batches (
    batch_id     uuid        PRIMARY KEY,
    committed_at timestamptz NOT NULL DEFAULT now()
);

-- Events the database refused (should not happen: validation at the edge matches these constraints).
CREATE TABLE dead_letters (
    received_at timestamptz NOT NULL DEFAULT now(),
    ts_ms       bigint      NOT NULL,
    user_id     bytea       NOT NULL,
    kind        smallint,
    reason      text        NOT NULL
);
