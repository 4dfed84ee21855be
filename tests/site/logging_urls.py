"""A URLconf for tests/site/test_logging.py: the service's URLs plus a view that logs."""

import logging

from django.http import JsonResponse
from django.urls import path

from procurement_site.urls import urlpatterns as service_urlpatterns

logger = logging.getLogger("tests.site.view")


def logging_view(request):
    logger.info("inside the view", extra={"order": 7})
    return JsonResponse({"ok": True})


urlpatterns = [path("test-logging", logging_view), *service_urlpatterns]
