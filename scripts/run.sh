#!/usr/bin/env bash
# Run the chatbot on the seeds: install if needed, index new or changed articles, serve the UI.
# Extra arguments go to `rag serve` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh run
export GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False HF_HUB_DISABLE_TELEMETRY=1
exec .venv/bin/rag serve "$@"
