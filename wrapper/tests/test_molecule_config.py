"""The Molecule configuration lets scripts/test run scenarios side by side."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MOLECULE = Path(sys.executable).with_name("molecule")


@pytest.mark.skipif(not MOLECULE.exists(), reason="molecule is not installed in this environment")
def test_a_scenario_run_installs_no_copy_of_the_collection(tmp_path):
    # Two runs that each install the collection into $ANSIBLE_HOME remove each other's copy
    # mid-install ("Directory not empty: 'roles'"); the checkout is already on the path.
    home = tmp_path / "home"
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".ansible" / "collections"),
        "DJOPS_DISTRO": "ubuntu-26.04",
        "NO_COLOR": "1",
        "PATH": f"{MOLECULE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        [str(MOLECULE), "syntax", "-s", "sandbox"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    installed = home / "collections" / "ansible_collections" / "djops"
    assert not installed.exists(), "molecule installed the collection into ANSIBLE_HOME"
