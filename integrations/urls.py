from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("settings/integrations/", views.settings_integrations, name="settings_integrations"),
    path("calendars/settings/connections/", views.connections, name="connections"),
    path("calendars/settings/connections/add/", views.add_connection, name="add_connection"),
    path(
        "calendars/settings/connections/<int:pk>/calendars/", views.choose_calendars, name="choose_calendars"
    ),
    path("calendars/settings/connections/<int:pk>/sync/", views.sync_now, name="sync_now"),
    path("calendars/settings/connections/<int:pk>/unlink/", views.unlink, name="unlink"),
]
