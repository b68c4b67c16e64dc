#!/usr/bin/env bash
# What one (hour, user) pair costs the database, and what cuts it (issue 21). In a scratch database on the server of
# PGURL, 100 batches of 10 000 pairs drawn at random from USERS users of one hour (the same draws for every variant)
# are inserted one committed batch at a time, as arrays bound to the statement as the writer binds them, each variant
# into a fresh table:
#   writer        the statement HourlyDeltas runs, as built: unnest(bigint[] ms, text[] users) sorted by user, to_timestamp
#                 per row, ON CONFLICT DO NOTHING RETURNING hour, counted per hour, into (hour, user_id text COLLATE "C")
#   unsorted      the same statement with the users in draw order
#   one-hour      the same rows with the hour bound once (a timestamptz) and the count from the row count
#   hash64        (hour, user_key bigint): the key a 64-bit hash of the user id, sorted by key, the one-hour statement
#   no-index      the one-hour rows into a table with no index: the heap insert alone, the floor
# It prints the server's microseconds per pair sent (clock_timestamp() around each statement; commits not counted), the
# pairs kept, and bytes per kept pair (pg_total_relation_size).
# Usage: benchmarks/pair-insert.sh [USERS]. Environment: PGURL (default: the CI role on 127.0.0.1:5432), BATCHES (100).
set -euo pipefail
USERS=${1:-1000000}
BATCHES=${BATCHES:-100}
PGURL=${PGURL:-postgresql://tracerboy:tracerboy@127.0.0.1:5432/tracerboy}
DB=pair_insert_bench
psql -X -q "$PGURL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
URL=${PGURL%/*}/$DB
psql -X -q -v ON_ERROR_STOP=1 "$URL" <<SQL
SELECT setseed(0.5);
CREATE TABLE draws AS SELECT g / 10000 AS batch, g AS n, 'user-' || floor(random() * $USERS)::bigint AS u
    FROM generate_series(0, $BATCHES * 10000 - 1) g;
CREATE TABLE batches AS SELECT batch,
    array_agg(1796292000000::bigint ORDER BY u COLLATE "C") AS ms,
    array_agg(u ORDER BY u COLLATE "C") AS sorted,
    array_agg(u ORDER BY n) AS drawn,
    array_agg(hashtextextended(u, 0) ORDER BY hashtextextended(u, 0)) AS keys
    FROM draws GROUP BY batch;
CREATE TABLE results (variant text, micros numeric, kept bigint, bytes numeric);
CREATE PROCEDURE run(variant text, ddl text, ins text, tbl text) LANGUAGE plpgsql AS \$\$
DECLARE
    started timestamptz;
    spent interval := interval '0';
    kept bigint := 0;
    n bigint;
    b record;
BEGIN
    EXECUTE ddl;
    COMMIT;
    FOR b IN SELECT * FROM batches ORDER BY batch LOOP
        started := clock_timestamp();
        EXECUTE ins INTO n USING b.ms, b.sorted, b.drawn, b.keys;
        spent := spent + (clock_timestamp() - started);
        kept := kept + n;
        COMMIT;
    END LOOP;
    INSERT INTO results VALUES (variant, round(extract(epoch FROM spent) * 1e6 / ($BATCHES * 10000), 2), kept,
        round(pg_total_relation_size(tbl::regclass)::numeric / kept, 1));
    COMMIT;
END \$\$;
CALL run('writer', 'CREATE TABLE p1 (hour timestamptz NOT NULL, user_id text COLLATE "C" NOT NULL, PRIMARY KEY (hour, user_id))',
    'WITH i AS (INSERT INTO p1 SELECT to_timestamp(h / 1000.0), u FROM unnest(\$1, \$2) AS t (h, u) ON CONFLICT DO NOTHING RETURNING hour) SELECT sum(c) FROM (SELECT count(*) AS c FROM i GROUP BY hour) g', 'p1');
CALL run('unsorted', 'CREATE TABLE p2 (hour timestamptz NOT NULL, user_id text COLLATE "C" NOT NULL, PRIMARY KEY (hour, user_id))',
    'WITH i AS (INSERT INTO p2 SELECT to_timestamp(h / 1000.0), u FROM unnest(\$1, \$3) AS t (h, u) ON CONFLICT DO NOTHING RETURNING hour) SELECT sum(c) FROM (SELECT count(*) AS c FROM i GROUP BY hour) g', 'p2');
CALL run('one-hour', 'CREATE TABLE p3 (hour timestamptz NOT NULL, user_id text COLLATE "C" NOT NULL, PRIMARY KEY (hour, user_id))',
    'WITH i AS (INSERT INTO p3 SELECT timestamptz ''2026-12-02 09:00Z'', u FROM unnest(\$2) AS t (u) ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM i', 'p3');
CALL run('hash64', 'CREATE TABLE p4 (hour timestamptz NOT NULL, user_key bigint NOT NULL, PRIMARY KEY (hour, user_key))',
    'WITH i AS (INSERT INTO p4 SELECT timestamptz ''2026-12-02 09:00Z'', k FROM unnest(\$4) AS t (k) ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM i', 'p4');
CALL run('no-index', 'CREATE TABLE p5 (hour timestamptz NOT NULL, user_id text COLLATE "C" NOT NULL)',
    'WITH i AS (INSERT INTO p5 SELECT timestamptz ''2026-12-02 09:00Z'', u FROM unnest(\$2) AS t (u) RETURNING 1) SELECT count(*) FROM i', 'p5');
\pset footer off
SELECT variant, micros AS "µs per pair sent", kept AS "pairs kept", bytes AS "bytes per kept pair" FROM results;
SQL
psql -X -q "$PGURL" -c "DROP DATABASE $DB"
