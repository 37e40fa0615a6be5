"""The few named errors of the index layer; each message says the command that fixes it."""


class GistIndexError(Exception):
    """Base class: the index cannot be used as it is."""


class IndexMissing(GistIndexError):
    """No index has been built in this folder yet."""


class IndexStale(GistIndexError):
    """The index was built from another corpus or with another embedding model."""


class IndexCorrupt(GistIndexError):
    """A file of the index is missing, truncated or does not match its manifest."""


class ModelUnavailable(Exception):
    """The embedding model could not be loaded from disk (nothing is downloaded at run time)."""


def rebuild_command(index_dir, model: str | None = None) -> str:
    """The exact command that rebuilds this index."""
    command = f"python -m indexer --index {index_dir}"
    return f"{command} --model {model}" if model else command


FIX_PREFIX = " Rebuild with: "


def reason(error: Exception) -> str:
    """The message without its fix, for callers that apply the fix themselves."""
    return str(error).split(FIX_PREFIX)[0]
