"""Who may use Django admin's pages of practice data: superusers, never other staff accounts.

Rows of the book, the Google integration, practices, people and queued email span every practice
(appointment titles are patient names; queued email carries sign-in and invitation links), so a
staff account given view or change permissions must still see none of them. ``SuperuserOnly`` goes
first in an admin class's bases; ``superusers_only`` re-registers a third-party app's admin with it.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model


def _is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


class SuperuserOnly:
    """Admin of rows that span practices: visible to superusers, never to other staff accounts.

    Every permission is refused to anyone else (not only viewing: Django lets a change permission
    open a page too); for superusers the admin class's own rules still apply.
    """

    def has_module_permission(self, request) -> bool:
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_superuser(request)

    def has_add_permission(self, request, *args) -> bool:
        return _is_superuser(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _is_superuser(request) and super().has_delete_permission(request, obj)


def superusers_only(*models: type[Model], site: admin.AdminSite = admin.site) -> None:
    """Register the admin of each of ``models`` (another app's) again, with ``SuperuserOnly`` first."""
    for model in models:
        if not site.is_registered(model):
            continue
        model_admin = type(site.get_model_admin(model))
        site.unregister(model)
        site.register(model, type(model_admin.__name__, (SuperuserOnly, model_admin), {}))
