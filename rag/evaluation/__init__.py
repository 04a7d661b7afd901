"""Evaluation: question sets, scoring, reports and retrieval legs."""
