"""djops: take a Django project from a laptop to a hardened server, and keep it running."""

__version__ = "0.1.0"
