"""Errors of the library; each message says what is wrong and how to fix it."""


class RagError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(RagError):
    """A setting is missing or has a value that cannot work."""


class CorpusError(RagError):
    """The seeds folder is missing, empty or unreadable."""


class EmbedderError(RagError):
    """An embedding model cannot be loaded or used."""


class IndexMissingError(RagError):
    """There is no index to query yet."""


class EmbedderMismatchError(RagError):
    """The index was built with a different embedder than the one configured."""


class StoreError(RagError):
    """The vector store cannot be reached or used."""


class LlmError(RagError):
    """The language model failed to answer: unreachable, too slow, refused or empty."""


class FeedbackError(RagError):
    """The feedback file cannot be written or read."""


class CommentError(RagError):
    """A feedback comment cannot be stored as given: too long."""


class QuestionError(RagError):
    """The question cannot be asked as typed: empty or too long."""


class IndexBuildError(RagError):
    """An ingest could not complete; the previous index is unchanged."""
