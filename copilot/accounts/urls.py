from django.urls import path

from . import practice_settings, views

app_name = "accounts"

urlpatterns = [
    path("practice/switch/", views.practice_switch, name="practice_switch"),
    path("settings/practice/", practice_settings.practice_settings, name="practice_settings"),
    path(
        "settings/practice/calendar-privacy/",
        practice_settings.calendar_privacy,
        name="practice_calendar_privacy",
    ),
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team_invite"),
    path("team/<int:member_id>/role/", views.member_role, name="member_role"),
    path(
        "team/invitations/<int:invitation_id>/resend/",
        views.team_invitation_resend,
        name="team_invitation_resend",
    ),
    path(
        "team/invitations/<int:invitation_id>/revoke/",
        views.team_invitation_revoke,
        name="team_invitation_revoke",
    ),
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/open/<str:token>/", views.invitation_open, name="invitation_open"),
    path("invitations/<int:invitation_id>/accept/", views.invitation_accept_view, name="invitation_accept"),
    path(
        "invitations/<int:invitation_id>/decline/", views.invitation_decline_view, name="invitation_decline"
    ),
]
