"""Import Gradio without its import-time type-stub writer: half of `rag serve`'s wait.

Every Gradio component class, as it is defined, reads its own source file, parses it and
rewrites the matching `.pyi` type stub beside it in site-packages
(`gradio.component_meta.create_or_modify_pyi`, an aid for Gradio's developers' type
checkers). Over Gradio's hundred-odd classes that is about half of `import gradio`:
5.4-6.8 s → 2.7-3.1 s on this project's 2-core machine, paid by every `rag serve` start.
Nothing reads the stubs at run time, so the UI makes the writer a no-op before Gradio
loads. Should Gradio rename or drop it, the hook finds nothing to replace and Gradio
imports as it always did.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

STUB_WRITER_MODULE = "gradio.component_meta"
STUB_WRITER = "create_or_modify_pyi"


def skip_stub_writer() -> None:
    """Have the next import of Gradio skip writing type stubs (no effect once it is loaded)."""
    if STUB_WRITER_MODULE in sys.modules:
        return
    if not any(isinstance(finder, _StubWriterOff) for finder in sys.meta_path):
        sys.meta_path.insert(0, _StubWriterOff())


def _no_stub(*_args: Any, **_kwargs: Any) -> None:
    """Stands in for `create_or_modify_pyi`: writes nothing."""


class _StubWriterOff(importlib.abc.MetaPathFinder):
    """Finds Gradio's component metaclass module and loads it with the stub writer off."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != STUB_WRITER_MODULE:
            return None
        sys.meta_path.remove(self)  # once is enough
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _WithoutStubs(spec.loader)
        return spec


class _WithoutStubs(importlib.abc.Loader):
    """Runs the module as its own loader would, then replaces the stub writer."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        if hasattr(module, STUB_WRITER):
            setattr(module, STUB_WRITER, _no_stub)
