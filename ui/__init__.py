"""Gradio web UI over the rag library."""
