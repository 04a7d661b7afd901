"""Retrieval stage: standalone query, dense and BM25 legs, fusion."""
