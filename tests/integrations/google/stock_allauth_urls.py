"""The portal's URLconf with allauth's stock views routed first, as if our closures were forgotten.

Tests use it to prove the social account adapter itself refuses Google sign-in: the 404
routes in ``copilot/urls.py`` are one guard, the adapter is the other.
"""

from django.urls import include, path

from copilot.urls import urlpatterns as portal_urlpatterns

urlpatterns = [path("accounts/", include("allauth.urls")), *portal_urlpatterns]
