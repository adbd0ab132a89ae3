"""Exceptions of the store; callers never need to catch sqlite3 errors."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer edgectl; opening it could corrupt it."""

    def __init__(self, db_version: int, code_version: int) -> None:
        super().__init__(f"database schema version {db_version} is newer than this edgectl ({code_version})")
        self.db_version = db_version
        self.code_version = code_version


class NotFoundError(StoreError, KeyError):
    """The row a write refers to does not exist."""


class AlreadyExistsError(StoreError):
    """A create met an existing key (e.g. a username)."""
