"""A view that fails with patient data all around it (for the Sentry scrubbing test)."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger("integrations.google.push")


@csrf_exempt
@login_not_required
def boom(request):
    title = request.POST.get("title")  # a local variable holding a patient name
    logger.error(
        "Push failed for %s", "bob@a.test", extra={"title": title, "notes": request.POST.get("notes")}
    )
    raise RuntimeError("No free slot for alice@a.test")


urlpatterns = [path("boom/", boom)]
