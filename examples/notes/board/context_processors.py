from django.conf import settings


def release(request):
    return {"release": settings.APP_RELEASE}
