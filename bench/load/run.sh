#!/usr/bin/env bash
# Load test on loopback: seed a scratch SQLite database with the demo data and provider accounts, start gunicorn
# (2 workers x 4 threads) on 127.0.0.1, run locust headless for a bounded time, then stop everything.
#   bench/load/run.sh [users] [spawn-rate] [duration]     defaults: 50 10 60s
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
USERS="${1:-50}" RATE="${2:-10}" DURATION="${3:-60s}"
WORK="$(mktemp -d /tmp/registry-load.XXXXXX)"
PORT="${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
export DATABASE_URL="sqlite:///$WORK/load.sqlite"
export REGISTRY_SECRET_KEY="load-test-$(date +%s)" REGISTRY_SESSION_COOKIE_SECURE=0 REGISTRY_REMEMBER_COOKIE_SECURE=0
export REGISTRY_STORAGE_LOCAL_DIR="$WORK/documents" REGISTRY_SERVER_BASE_URL="http://127.0.0.1:$PORT"
export LOAD_ACCOUNTS="$WORK/accounts.json" PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT"
PY=.venv/bin
echo "scratch directory: $WORK"
$PY/flask --app wsgi db upgrade heads >"$WORK/setup.log" 2>&1
$PY/flask --app wsgi registry load-demo >>"$WORK/setup.log" 2>&1
$PY/flask --app wsgi search reindex >>"$WORK/setup.log" 2>&1
$PY/python bench/load/seed.py "$LOAD_ACCOUNTS"
$PY/gunicorn --workers 2 --threads 4 --keep-alive 5 --bind "127.0.0.1:$PORT" --log-level warning wsgi:app >"$WORK/gunicorn.log" 2>&1 &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null || true; wait "$GUNICORN" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$PORT/healthcheck" >/dev/null 2>&1 && break; sleep 0.5; done
$PY/locust -f bench/load/locustfile.py --headless -u "$USERS" -r "$RATE" -t "$DURATION" --stop-timeout 10 \
  --host "http://127.0.0.1:$PORT" --csv "$WORK/locust" --only-summary
echo "CSV results: $WORK/locust_stats.csv"
