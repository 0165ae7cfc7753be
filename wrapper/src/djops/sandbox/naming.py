"""The rule for sandbox host names: `djops sandbox` and the config file's `sandbox:NAME` hosts.

This module imports nothing of djops, so the config package can use it without the sandbox's
own machinery.
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,30}")
NAME_RULE = "lowercase letters, digits and -, starting with a letter, at most 31 characters"
