"""Exceptions that carry the exit code the CLI ends with.

Library code raises these; only the Click layer prints them and exits.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class DjopsError(Exception):
    """An error whose message is meant for the user, as one line."""

    exit_code = EXIT_FAILED


class OperationFailed(DjopsError):
    """Something djops tried to do did not work (exit 1)."""

    exit_code = EXIT_FAILED


class UsageError(DjopsError):
    """The user asked for something that cannot be done as asked (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file has problems; each one is a line of its own (exit 2)."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))
