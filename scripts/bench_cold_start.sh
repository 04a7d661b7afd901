#!/usr/bin/env bash
# Time `rag serve` from launch until the UI answers HTTP, on the index in RAG_DATA_DIR (or data/).
# Usage: scripts/bench_cold_start.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-7871}"
start=$(date +%s.%N)
.venv/bin/rag serve --port "$port" > /tmp/rag-cold-start.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
    if ! kill -0 $pid 2>/dev/null; then cat /tmp/rag-cold-start.log; exit 1; fi
    sleep 0.1
done
ready=$(date +%s.%N)
echo "cold start to UI ready: $(echo "$ready - $start" | bc) s"
