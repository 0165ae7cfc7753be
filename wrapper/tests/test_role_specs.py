"""Each role's meta/argument_specs.yml agrees with its defaults/main.yml.

Same names, types and defaults: the spec is what validates users' variables and what the role
READMEs document, so it must not drift from what the role actually uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
ROLE_DIRS = sorted(p for p in ROLES.iterdir() if (p / "tasks").is_dir()) if ROLES.is_dir() else []
TYPES = {
    "str": str,
    "int": int,
    "bool": bool,
    "list": list,
    "dict": dict,
    "float": (int, float),
    "path": str,
    "raw": object,
}


@pytest.mark.parametrize("role", ROLE_DIRS, ids=[p.name for p in ROLE_DIRS])
def test_argument_specs_match_defaults(role: Path):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"].get("options", {}) or {}
    defaults_file = role / "defaults" / "main.yml"
    defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}

    assert sorted(set(defaults) - set(options)) == [], "defaults without a spec"
    assert (
        sorted(n for n in set(options) - set(defaults) if not options[n].get("required")) == []
    ), "optional specs without a default"
    for name, spec in options.items():
        assert name.startswith(f"{role.name}_"), f"{name}: public variables carry the role prefix"
        assert spec.get("description"), f"{name}: no description"
        if name not in defaults:
            continue
        value = defaults[name]
        assert spec.get("default") == value, f"{name}: spec default differs from defaults/main.yml"
        kind = spec.get("type", "str")
        if value is not None and not (isinstance(value, str) and "{{" in value):
            assert isinstance(value, TYPES[kind]), f"{name}: default is not a {kind}"
            if kind == "int":
                assert not isinstance(value, bool), f"{name}: default is a bool, spec says int"
