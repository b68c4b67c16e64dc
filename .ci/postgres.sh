# Sourced by .ci/run and compose/scale-test.sh: start this machine's PostgreSQL 15 cluster, create the role
# "tracerboy" (password "tracerboy", CREATEDB) and its database, and export DATABASE_URL.
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "no pg_ctlcluster on this machine" >&2
    return 1
fi
pg_ctlcluster 15 main start 2>/dev/null || pg_ctlcluster 15 main status >/dev/null
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.5
done
su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tracerboy') THEN
        CREATE ROLE tracerboy LOGIN CREATEDB PASSWORD 'tracerboy';
    END IF;
END
$$;
SELECT 'CREATE DATABASE tracerboy OWNER tracerboy'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tracerboy')\gexec
SQL
export DATABASE_URL="jdbc:postgresql://127.0.0.1:5432/tracerboy?user=tracerboy&password=tracerboy"
