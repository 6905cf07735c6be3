"""Google push notifications (the one CSRF-exempt view). Filled in by the pull side."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def notification_view(request):
    return HttpResponse(status=200)
