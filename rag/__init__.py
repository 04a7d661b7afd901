"""Retrieval-augmented Q&A over Swedish social-services articles, with checkable citations."""
