from django.http import HttpResponse, JsonResponse
from django.shortcuts import render


def home(request):
    return render(request, "portal/home.html")


def address(request):
    """The visitor's address as the app sees it (what rate limits and audit logs read)."""
    return JsonResponse({"remote_addr": request.META.get("REMOTE_ADDR")})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
