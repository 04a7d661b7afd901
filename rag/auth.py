"""Web UI login: the users of RAG_AUTH_USERS, for Gradio's `auth=`; passwords never leave here."""

from __future__ import annotations

from pydantic import SecretStr

from rag.errors import ConfigError


def parse_users(users: SecretStr | None) -> list[tuple[str, str]] | None:
    """The (user, password) pairs of "anna:secret,bo:pw", or None when no login is set.

    Raises:
        ConfigError: a pair has no user name or no password (the message never shows one).

    """
    if users is None or not users.get_secret_value().strip():
        return None
    pairs: list[tuple[str, str]] = []
    for position, item in enumerate(users.get_secret_value().split(","), start=1):
        name, _, password = item.strip().partition(":")
        if not name.strip() or not password:
            raise ConfigError(
                f"RAG_AUTH_USERS: entry {position} is not user:password; "
                'write it as "anna:lösenord,bo:lösenord2".'
            )
        pairs.append((name.strip(), password))
    return pairs
