"""Answer stage: extractive quotes, or an LLM answer with its citations checked."""
