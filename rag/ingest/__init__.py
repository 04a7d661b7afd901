"""Ingest stage: files -> articles with sections and offsets -> sentences -> chunks."""
