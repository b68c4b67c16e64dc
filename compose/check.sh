#!/usr/bin/env bash
# Checks of compose/ that need no Docker engine: the compose file parses as YAML with the services and settings the
# README promises, and the gateway configuration passes `nginx -t` (with a local upstream, as in scale-test.sh).
set -euo pipefail
cd "$(dirname "$0")"
python3 - <<'PY'
import yaml
doc = yaml.safe_load(open("docker-compose.yml"))
services = doc["services"]
assert set(services) == {"timescaledb", "tracerboy", "gateway"}, services.keys()
assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
assert "timescaledb-data:/var/lib/postgresql/data" in services["timescaledb"]["volumes"]
assert "ports" not in services["tracerboy"], "replicas must not publish a port, or --scale collides"
assert services["tracerboy"]["environment"]["STORAGE_ENGINE"] == "timescaledb"
assert services["gateway"]["ports"] == ["4000:4000"]
print("docker-compose.yml: ok")
PY
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
printf 'upstream tracerboy {\n    server 127.0.0.1:9090;\n    keepalive 64;\n}\n' > "$WORK/upstream.conf"
sed "s|include /etc/nginx/tracerboy-upstream.conf;|include $WORK/upstream.conf;|" nginx/tracerboy.conf > "$WORK/tracerboy.conf"
printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp { include %s/tracerboy.conf; }\n' "$WORK" "$WORK" "$WORK" > "$WORK/nginx.conf"
nginx -t -q -c "$WORK/nginx.conf" -p "$WORK" && echo "nginx/tracerboy.conf: nginx -t ok"
