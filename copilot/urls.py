from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="calendars:week", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("copilot.accounts.urls")),
    path("calendars/", include("calendars.urls")),
    path("", include("integrations.urls")),
]
