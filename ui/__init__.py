"""Gradio web UI over the rag library."""

from ui.gradio_import import skip_stub_writer

skip_stub_writer()  # before any module of this package imports Gradio
