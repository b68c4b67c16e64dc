#!/usr/bin/env bash
# A local TimescaleDB for TimescaleIT, built from TimescaleDB's public source on a Debian 12 machine with Debian's
# PostgreSQL 15. (With TimescaleDB's own packages or Docker image instead: BENCHMARKS.md, "Citus and TimescaleDB for
# the tests".)
#
#   git clone https://github.com/timescale/timescaledb
#   sudo tools/timescaledb-for-tests.sh timescaledb      # ~6 min on 2 cores
#
# Builds TimescaleDB 2.28.3 (TAG=…: another tag; 2.28 is the last line for PostgreSQL 15), installs it into PostgreSQL
# 15, and creates a cluster `15/ts` on port 5433 with TimescaleDB preloaded and a superuser role
# `tracerboy`/`tracerboy`.
# Cluster `15/main` (5432) is left without TimescaleDB preloaded: there the extension is available but not preloaded,
# the situation of many managed services, which tracerboy must also handle (TimescaleNotPreloadedIT). It restarts
# 15/main, because installing postgresql-server-dev-15 may upgrade the server. Prints the TIMESCALEDB_URL to give the
# tests.
#
# For tests only: tracerboy never depends on it, and TimescaleIT reports itself skipped without it. Found while building
# it: on PostgreSQL 15.20, TimescaleDB 2.28.3's background jobs (policies run by the scheduler) end with "cannot drop
# portal" errors, while the same job run by CALL run_job works.
set -euo pipefail
usage() {
    echo "usage: tools/timescaledb-for-tests.sh <git checkout of TimescaleDB:" \
        "git clone https://github.com/timescale/timescaledb>" >&2
    exit 2
}
[ $# -eq 1 ] || usage
SOURCE=$1
TAG="${TAG:-2.28.3}"
git -C "$SOURCE" rev-parse -q --verify "$TAG^{commit}" > /dev/null 2>&1 \
    || { echo "$SOURCE has no tag $TAG: not a clone of timescale/timescaledb, or run git -C $SOURCE fetch --tags" >&2
         exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run it as root: it installs packages and creates a PostgreSQL cluster" >&2; exit 2; }
WORK="$(mktemp -d /tmp/timescaledb-build.XXXXXX)"

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-server-dev-15 cmake build-essential \
    libssl-dev libkrb5-dev >/dev/null
pg_ctlcluster 15 main restart 2>/dev/null || pg_ctlcluster 15 main start

git -C "$SOURCE" archive "$TAG" | tar -x -C "$WORK"
cd "$WORK"
./bootstrap -DREGRESS_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DTAP_CHECKS=OFF \
    -DPG_CONFIG=/usr/lib/postgresql/15/bin/pg_config > bootstrap.log
make -C build -j"$(nproc)" > make.log
make -C build install > install.log
cd /

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx ts; then
    pg_createcluster 15 ts -p 5433 > /dev/null
fi
conf=/etc/postgresql/15/ts/postgresql.conf
grep -q "^shared_preload_libraries = 'timescaledb'" "$conf" \
    || echo "shared_preload_libraries = 'timescaledb'" >> "$conf"
pg_ctlcluster 15 ts restart 2>/dev/null || pg_ctlcluster 15 ts start
su postgres -c "psql -p 5433 -qc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tracerboy')
    THEN CREATE ROLE tracerboy LOGIN SUPERUSER PASSWORD 'tracerboy'; END IF; END \\\$\\\$\""
su postgres -c "psql -p 5433 -qAtc \"SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'\""
rm -rf "$WORK"
echo "TIMESCALEDB_URL='jdbc:postgresql://127.0.0.1:5433/postgres?user=tracerboy&password=tracerboy'"
