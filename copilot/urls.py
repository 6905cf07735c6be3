from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from booking import settings_views as booking_settings
from integrations.google import oauth, webhooks

urlpatterns = [
    path("", require_safe(RedirectView.as_view(pattern_name="calendars:week", permanent=False))),
    path("admin/", admin.site.urls),
    # Our Google adapter keeps the granted scopes; it must be routed ahead of allauth's own.
    path("accounts/google/login/", oauth.login_view, name="google_login"),
    path("accounts/google/login/callback/", oauth.callback_view, name="google_callback"),
    # Google never signs anyone in or up, and only our Unlink removes a Google account: allauth's
    # One Tap, social signup and third-party accounts pages are closed (docs/SECURITY.md).
    path("accounts/google/login/token/", oauth.closed_view),
    path("accounts/3rdparty/signup/", oauth.closed_view),
    path("accounts/social/signup/", oauth.closed_view),
    path("accounts/3rdparty/", oauth.third_party_accounts_view),
    path("accounts/", include("allauth.urls")),
    path(
        "integrations/google/notifications/",
        login_not_required(webhooks.notification_view),
        name="google_webhook",
    ),
    path("", include("copilot.accounts.urls")),
    path("calendars/", include("calendars.urls")),
    path("patients/", include("patients.urls")),
    path("book/", include("booking.urls")),  # public: patients book themselves (booking/views.py)
    path("settings/online-booking/", booking_settings.online_booking_settings, name="booking_settings"),
    path("", include("integrations.urls")),
    # Operations: /healthz, /readyz, /metrics (docs/OPERATIONS.md).
    path("", include("copilot.ops.urls")),
]
