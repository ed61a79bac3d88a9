"""Errors that end a run with exit 2: unusable input, config or arguments."""

from __future__ import annotations


class UsageError(Exception):
    """Input, config or arguments stowage cannot work with. Exit code 2, never a traceback."""

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class OutputError(UsageError):
    """The output cannot be written (a missing directory, a full disk, a closed stdout)."""
