"""Benchmarks: our pipeline and a tutorial-style LangChain baseline, measured side by side."""
