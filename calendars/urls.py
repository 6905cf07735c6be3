from django.urls import path

from . import inbox_views, type_views, views

app_name = "calendars"

urlpatterns = [
    path("", views.week),  # the section's landing page is the week
    path("week/", views.week, name="week"),
    path("team/", views.team, name="team"),
    path("team/filter/", views.team_filter, name="team_filter"),
    path("list/", views.appointment_list, name="list"),
    path("staff-options/", views.staff_options, name="staff_options"),
    path("appointments/new/", views.appointment_new, name="appointment_new"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/edit/", views.appointment_edit, name="appointment_edit"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("working-hours/<int:member_id>/", views.working_hours, name="working_hours"),
    path("types/", type_views.type_list, name="type_list"),
    path("types/new/", type_views.type_edit, name="type_new"),
    path("types/<int:pk>/", type_views.type_edit, name="type_edit"),
    path("changes/", inbox_views.changes, name="changes"),
    path("changes/<int:pk>/keep/", inbox_views.change_keep, name="change_keep"),
    path("changes/<int:pk>/undo/", inbox_views.change_undo, name="change_undo"),
    path("settings/google-deletions/", inbox_views.google_deletion_setting, name="google_deletion_setting"),
]
