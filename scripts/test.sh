#!/usr/bin/env bash
# Run every check: lint, format, types and the full test suite (real models, Chroma, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev

# Debian's chromium (browser tests) and tesseract with Swedish (OCR of scanned PDFs)
missing=""
if [ ! -x /usr/bin/chromium ]; then missing="chromium"; fi
if [ ! -f /usr/share/tesseract-ocr/5/tessdata/swe.traineddata ]; then
    missing="$missing tesseract-ocr tesseract-ocr-swe"
fi
if [ -n "$missing" ]; then
    echo "==> Installing Debian packages for the tests:$missing" >&2
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False
.venv/bin/ruff check rag ui bench tests
.venv/bin/ruff format --check rag ui bench tests
.venv/bin/mypy
.venv/bin/python -m pytest --durations=15 "$@"
