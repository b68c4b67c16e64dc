# Sourced by the benchmark scripts (benchmarks/*.sh, compose/scale-test.sh): the ports they listen on, one way for all
# (BENCHMARKS.md, "Ports"). TB_PORT is tracerboy's (the scale test's three replicas take it and the next two),
# BARE_PORT the bare 204 server's, GATEWAY_PORT the scale test's nginx; each one not set is a port free right now.
# Not TRACERBOY_PORT: the scripts' environment reaches the jar, which refuses unknown TRACERBOY_* variables.

# free_ports N: N distinct ports that are free on 127.0.0.1 (held together while chosen, so never the same twice).
free_ports() {
    python3 -c 'import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}

read -r FREE_TB FREE_REPLICA_2 FREE_REPLICA_3 FREE_BARE FREE_GATEWAY <<< "$(free_ports 5)"
BARE_PORT=${BARE_PORT:-$FREE_BARE}
GATEWAY_PORT=${GATEWAY_PORT:-$FREE_GATEWAY}
if [ -n "${TB_PORT:-}" ]; then
    REPLICA_PORTS=("$TB_PORT" "$((TB_PORT + 1))" "$((TB_PORT + 2))")
else
    TB_PORT=$FREE_TB
    REPLICA_PORTS=("$FREE_TB" "$FREE_REPLICA_2" "$FREE_REPLICA_3")
fi
unset FREE_TB FREE_REPLICA_2 FREE_REPLICA_3 FREE_BARE FREE_GATEWAY
