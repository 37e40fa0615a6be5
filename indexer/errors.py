"""The few named errors of the index layer; each carries the command that fixes it."""


class GistIndexError(Exception):
    """Base class: the index cannot be used as it is.

    `reason` says what is wrong, `fix` is the command that repairs it (set where the error is
    raised); the message is made from both: "<reason> Rebuild with: <fix>".
    """

    fix_label = "Rebuild with"

    def __init__(self, reason: str, fix: str):
        self.reason = reason
        self.fix = fix
        super().__init__(f"{reason} {self.fix_label}: {fix}")

    def __reduce__(self):  # picklable (e.g. across processes) despite the two arguments
        return type(self), (self.reason, self.fix)


class IndexMissing(GistIndexError):
    """No index has been built in this folder yet."""

    fix_label = "Build it with"


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
