"""How a problem with the file is told: where it is (a path into the data) and what to do.

Every validator raises through `_fail`. `_clip` and `_show` keep the values that messages echo
short, and `_suggest` finds the word the user probably meant.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where (a path into the data) and what to do about it."""

    loc: Loc
    message: str

    def __str__(self) -> str:
        path = format_loc(self.loc)
        return f"{path}: {self.message}" if path else self.message


def format_loc(loc: Sequence[str | int]) -> str:
    """``("environments", "production", "domains", 0)`` → ``environments.production.domains[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _fail(message: str) -> NoReturn:
    # A custom error type keeps pydantic's "Value error, " prefix out of the message.
    raise PydanticCustomError("djops", "{message}", {"message": message})


# Values echoed in messages are cut to this length: a message names the value, it does not dump it
# (a list built from aliases can be megabytes long).
_SHOWN_LENGTH = 80


def _clip(text: str, limit: int = _SHOWN_LENGTH) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return _clip(repr(value))


def _suggest(word: str, choices: Sequence[str]) -> str | None:
    """The choice the user probably meant: a close spelling, or the one word abbreviates."""
    lowered = {choice.lower(): choice for choice in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    longer = [c for c in lowered if len(word) >= 2 and c.startswith(word.lower())]
    return lowered[longer[0]] if len(longer) == 1 else None
