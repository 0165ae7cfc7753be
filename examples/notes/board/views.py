import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .forms import NoteForm
from .models import Note

logger = logging.getLogger(__name__)

LATEST_NOTES = 20


def index(request):
    notes = Note.objects.select_related("author")[:LATEST_NOTES]
    return render(request, "board/index.html", {"notes": notes})


@login_required
def note_create(request):
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            note = form.save(commit=False)
            note.author = request.user
            note.save()
            messages.success(request, "Note saved.")
            return redirect("board:index")
    else:
        form = NoteForm()
    return render(request, "board/note_form.html", {"form": form})


@require_GET
@never_cache
def version(request):
    # The row count makes every request touch the database, so a load test
    # against this endpoint measures the whole stack, not just the workers.
    # "interface" says which server path answered: gunicorn/uWSGI workers (WSGI) or uvicorn (ASGI).
    return JsonResponse(
        {
            "release": settings.APP_RELEASE,
            "notes": Note.objects.count(),
            "interface": "asgi" if isinstance(request, ASGIRequest) else "wsgi",
        }
    )


@require_GET
@never_cache
def address(request):
    # The caller's own address as the app sees it (REMOTE_ADDR): nothing a caller does not know.
    return JsonResponse({"address": request.META.get("REMOTE_ADDR", "")})


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache():
    # A per-request key: concurrent probes from several workers or hosts
    # must not read each other's value and report a false success.
    key = f"healthz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise RuntimeError("value written to the cache could not be read back")
    finally:
        cache.delete(key)


@require_GET
@never_cache
def healthz(request):
    body = {"status": "ok"}
    for name, check in (("database", _check_database), ("cache", _check_cache)):
        try:
            check()
        except Exception:
            # The reason goes to the log only; the endpoint is public.
            logger.exception("Health check failed: %s", name)
            body[name] = "error"
            body["status"] = "error"
        else:
            body[name] = "ok"
    body["release"] = settings.APP_RELEASE
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
