from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        # The appointment book knows nothing of Google: it is told about Google here.
        from calendars.busy import register_busy_source
        from calendars.hooks import register_appointment_listener
        from calendars.sync_status import register_sync_status_provider
        from copilot.accounts.member_status import register_member_status_provider
        from copilot.accounts.practice_hooks import register_display_listener

        from .busy import GoogleBusySource
        from .google.outbox import on_appointment_changed, on_practice_display_changed
        from .member_status import GoogleConnectionStatus
        from .schedules import install_schedules
        from .sync_status import GoogleSyncStatus

        register_appointment_listener(on_appointment_changed)
        register_display_listener(on_practice_display_changed)
        register_busy_source(GoogleBusySource())
        register_member_status_provider(GoogleConnectionStatus())
        register_sync_status_provider(GoogleSyncStatus())
        post_migrate.connect(install_schedules, sender=self)
