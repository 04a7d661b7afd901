"""Index stage: embedders, the Chroma store, index generations and the lexical cache."""
