from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    """Running the service: health and readiness, metrics, request ids in logs, error reports."""

    name = "copilot.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

        from integrations.google import client

        from . import metrics, requestid
        from .schedules import install_heartbeat_schedule

        request_finished.connect(requestid.end_request, dispatch_uid="ops-end-request")
        pre_enqueue.connect(requestid.carry_into_task, dispatch_uid="ops-carry-request-id")
        pre_execute.connect(requestid.adopt_from_task, dispatch_uid="ops-adopt-request-id")
        post_execute_in_worker.connect(requestid.leave_task, dispatch_uid="ops-leave-request-id")
        client.add_request_observer(metrics.observe_google_request)
        post_migrate.connect(install_heartbeat_schedule, sender=self)
