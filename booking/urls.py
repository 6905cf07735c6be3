from django.urls import path

from . import views

app_name = "booking"

urlpatterns = [
    path("<slug:practice>/", views.booking_page, name="page"),
    path("<slug:practice>/confirm/", views.booking_confirm, name="confirm"),
    path("<slug:practice>/appointment/<str:token>/", views.booking_manage, name="manage"),
    path("<slug:practice>/<slug:staff>/", views.booking_page, name="staff_page"),
]
