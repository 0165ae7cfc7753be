# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Documentation of the djops.django.apt_present action (plugins/action/apt_present.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apt_present
short_description: Install Debian packages; one dpkg query when they are installed already
description:
  - Makes sure the given packages are installed, like M(ansible.builtin.apt) with
    O(ansible.builtin.apt#module:state=present).
  - The apt module opens the whole package cache before anything else, which costs about a
    second per task even when every package is installed. This action first asks C(dpkg-query),
    in one command on the host, which of the packages are installed; when all are, it reports
    ok without running apt.
  - Otherwise, or when a name is not a plain package name (a version, a wildcard, a C(.deb)),
    it runs M(ansible.builtin.apt) with the same options, which does the work and reports as it
    always does.
version_added: 1.0.0
author: djops maintainers (@djops)
options:
  name:
    description:
      - The packages, as a list or a string of comma-separated names.
    type: list
    elements: str
    required: true
  update_cache:
    description: Passed to M(ansible.builtin.apt) when a package is missing.
    type: bool
  cache_valid_time:
    description: Passed to M(ansible.builtin.apt) when a package is missing.
    type: int
  install_recommends:
    description: Passed to M(ansible.builtin.apt) when a package is missing.
    type: bool
  default_release:
    description: Passed to M(ansible.builtin.apt) when a package is missing.
    type: str
  lock_timeout:
    description: Passed to M(ansible.builtin.apt) when a package is missing.
    type: int
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: The dpkg query only reads; apt runs in check mode.
  diff_mode:
    support: full
    details: As M(ansible.builtin.apt).
  platform:
    support: full
    platforms: debian
notes:
  - Only installs. Use M(ansible.builtin.apt) to remove, upgrade or pin versions.
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Install nginx
  djops.django.apt_present:
    name: [nginx, logrotate]
    update_cache: true
    cache_valid_time: 3600
"""

RETURN = r"""
missing:
  description:
    - The packages that were not installed before the task.
    - All of them when dpkg could not tell.
  returned: always
  type: list
  elements: str
  sample: [nginx]
"""
