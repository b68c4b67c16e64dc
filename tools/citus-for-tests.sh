#!/usr/bin/env bash
# A local Citus cluster (coordinator + 2 workers) for CitusIT and CitusBenchmark, built from Citus's public source on a
# Debian 12 machine with Debian's PostgreSQL 15. (With Citus's own packages or Docker image instead: BENCHMARKS.md,
# "Citus and TimescaleDB for the tests".)
#
#   git clone https://github.com/citusdata/citus
#   sudo tools/citus-for-tests.sh citus             # ~5 min on 2 cores
#
# Builds Citus 13.2.2 (TAG=…: another tag; 13.x is the line for PostgreSQL 15), installs it into PostgreSQL 15, and
# creates three clusters: citus0 (coordinator, port 5440), citus1 (5441) and citus2 (5442), trust authentication on
# 127.0.0.1, each with a database `tracerboy` holding the citus extension, the workers registered with the coordinator.
# Prints the CITUS_URL to give the tests (the coordinator's `tracerboy` database; a test drops its own tables first).
# Other clusters (15/main, 15/ts) are not touched.
#
# For tests only: tracerboy never depends on it, and tests that need Citus report themselves skipped without it.
# Found while building it: Citus 13.2.2 does not compile against PostgreSQL 15.20 as shipped (15.20 exports
# have_createdb_privilege, which Citus declares static); the rename below fixes it.
set -euo pipefail
usage() {
    echo "usage: tools/citus-for-tests.sh <git checkout of Citus: git clone https://github.com/citusdata/citus>" >&2
    exit 2
}
[ $# -eq 1 ] || usage
SOURCE=$1
TAG="${TAG:-v13.2.2}"
git -C "$SOURCE" rev-parse -q --verify "$TAG^{commit}" > /dev/null 2>&1 \
    || { echo "$SOURCE has no tag $TAG: not a clone of citusdata/citus, or run git -C $SOURCE fetch --tags" >&2
         exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run it as root: it installs packages and creates PostgreSQL clusters" >&2; exit 2; }
WORK="$(mktemp -d /tmp/citus-build.XXXXXX)"

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-server-dev-15 build-essential autoconf \
    flex bison libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libssl-dev >/dev/null

git -C "$SOURCE" archive "$TAG" | tar -x -C "$WORK"
cd "$WORK"
compat=src/include/pg_version_compat.h
if grep -q "^have_createdb_privilege(void)" "$compat" \
        && grep -q "have_createdb_privilege" /usr/include/postgresql/15/server/commands/dbcommands.h; then
    perl -0pi -e 's/\nstatic inline bool\nhave_createdb_privilege\(void\)/\n#define have_createdb_privilege citus_compat_have_createdb_privilege\nstatic inline bool\nhave_createdb_privilege(void)/' "$compat"
fi
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config ./configure > configure.log
make -j"$(nproc)" > make.log
make install > install.log
cd /

for n in 0 1 2; do
    port=$((5440 + n))
    if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "citus$n"; then
        pg_createcluster 15 "citus$n" -p "$port" > /dev/null
    fi
    conf=/etc/postgresql/15/citus$n
    grep -q "^shared_preload_libraries = 'citus'" "$conf/postgresql.conf" \
        || echo "shared_preload_libraries = 'citus'" >> "$conf/postgresql.conf"
    grep -q "^host all all 127.0.0.1/32 trust" "$conf/pg_hba.conf" \
        || sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
    pg_ctlcluster 15 "citus$n" restart 2>/dev/null || pg_ctlcluster 15 "citus$n" start
    su postgres -c "psql -p $port -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'tracerboy'\"" | grep -q 1 \
        || su postgres -c "psql -p $port -qc 'CREATE DATABASE tracerboy'"
    su postgres -c "psql -p $port -d tracerboy -qc 'CREATE EXTENSION IF NOT EXISTS citus'"
done
su postgres -c "psql -p 5440 -d tracerboy -qAt" <<'SQL'
SELECT citus_set_coordinator_host('127.0.0.1', 5440);
SELECT citus_add_node('127.0.0.1', 5441);
SELECT citus_add_node('127.0.0.1', 5442);
SELECT extversion FROM pg_extension WHERE extname = 'citus';
SQL
rm -rf "$WORK"
echo "CITUS_URL='jdbc:postgresql://127.0.0.1:5440/tracerboy?user=postgres'"
