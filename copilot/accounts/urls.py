from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("practice/switch/", views.practice_switch, name="practice_switch"),
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team_invite"),
    path("team/<int:member_id>/role/", views.member_role, name="member_role"),
]
