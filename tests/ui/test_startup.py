"""What makes `rag serve` start sooner: Gradio without its stub writer, matplotlib headless."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_ui_loads_gradio_with_the_stub_writer_off() -> None:
    code = (
        "import sys, ui.app, gradio.component_meta as meta, gradio.blocks_events as events\n"
        "print(meta.create_or_modify_pyi.__name__, events.create_or_modify_pyi.__name__,\n"
        "      any('StubWriter' in type(f).__name__ for f in sys.meta_path))"
    )
    assert _run(code) == "_no_stub _no_stub False"


def test_gradio_loaded_before_the_ui_is_left_as_it_is() -> None:
    code = (
        "import sys, gradio, ui.app, gradio.component_meta as meta\n"
        "print(meta.create_or_modify_pyi.__name__,\n"
        "      any('StubWriter' in type(f).__name__ for f in sys.meta_path))"
    )
    assert _run(code) == "create_or_modify_pyi False"


def test_matplotlib_which_gradio_loads_for_every_event_is_told_it_has_no_screen() -> None:
    """Without a named backend, matplotlib's first import probes GUI toolkits (0.8 s)."""
    code = (
        "import os\nos.environ.pop('MPLBACKEND', None)\nimport ui.app, matplotlib\n"
        "print(os.environ['MPLBACKEND'], matplotlib.get_backend())"
    )
    assert _run(code).lower() == "agg agg"
