"""ASGI entry point, served by uvicorn as ``notes.asgi:application``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notes.settings")
# Tells the settings to turn off persistent database connections, which
# Django does not support under ASGI.
os.environ.setdefault("DJANGO_ASGI", "true")

application = get_asgi_application()
