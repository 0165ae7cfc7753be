"""Local production-like servers: systemd-nspawn containers booting real systemd.

The same code gives developers `djops sandbox up` and gives Molecule its hosts.
"""
