#!/bin/sh
# Runs the tracerboy.js tests with Node's built-in runner (no npm install); called by Maven in the test phase.
# Without Node.js they are skipped, saying so, and the build goes on.
if ! command -v node >/dev/null 2>&1; then
    echo "[tracerboy.js] SKIPPED: the queue and backoff tests of tracerboy.js need Node.js 18+ on the PATH" \
        "(apt-get install nodejs); none of them ran"
    exit 0
fi
cd "$(dirname "$0")" && exec node --test tracerboy.test.js
