#!/usr/bin/env bash
# Start a Chroma server on 127.0.0.1 for several `rag serve` processes to share.
# Usage: scripts/chroma_server.sh [data folder] [port]    (defaults: data/chroma-server 8000)
# Then, in each UI process: RAG_CHROMA_HOST=127.0.0.1 RAG_CHROMA_PORT=8000 .venv/bin/rag serve --port 786N
set -euo pipefail
cd "$(dirname "$0")/.."
path="${1:-data/chroma-server}"
port="${2:-8000}"
mkdir -p "$path"
export ANONYMIZED_TELEMETRY=False
exec .venv/bin/chroma run --path "$path" --host 127.0.0.1 --port "$port"
