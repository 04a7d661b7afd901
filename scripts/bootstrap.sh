#!/usr/bin/env bash
# Create .venv and install the project into it; safe to re-run (skips when up to date).
# Usage: scripts/bootstrap.sh [run|dev]
#   torch==2.13.0 is installed first: pip then takes the CPU build from this machine's
#   disk; an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-run}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
    echo "==> Creating virtual environment in .venv" >&2
    "$python" -m venv .venv
fi
digest="$(sha256sum < pyproject.toml | cut -c1-16)"
stamp=".venv/.installed-$extras-$digest"
# A development install holds everything the run needs: it counts for `run` too.
if [ "$extras" = "run" ] && [ -f ".venv/.installed-dev-$digest" ]; then stamp=".venv/.installed-dev-$digest"; fi
if [ ! -f "$stamp" ]; then
    echo "==> Installing torch 2.13.0 (CPU), then the project ($extras)" >&2
    .venv/bin/pip install --disable-pip-version-check -q "torch==2.13.0"
    if [ "$extras" = "dev" ]; then target=".[dev]"; else target="."; fi
    .venv/bin/pip install --disable-pip-version-check -q -e "$target"
    touch "$stamp"
fi
