"""Email leaves after the change is saved, from a background task that retries."""

from __future__ import annotations

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django_q.tasks import async_task


def email_payload(message: EmailMessage) -> dict:
    """``message`` as plain data a task can carry."""
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "alternatives": [[str(body), mimetype] for body, mimetype in getattr(message, "alternatives", [])],
        # (filename, text, mimetype) attachments, e.g. a booking's .ics file
        "attachments": [[name, str(content), mimetype] for name, content, mimetype in message.attachments],
    }


def email_message(payload: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        payload["subject"], payload["body"], payload.get("from_email"), payload["to"]
    )
    for content, mimetype in payload.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    for name, content, mimetype in payload.get("attachments", []):
        message.attach(name, content, mimetype)
    return message


def email_queue(message: EmailMessage) -> None:
    """Send ``message`` once the current transaction commits (at once outside one), in the background.

    A mail server that is down never fails the request that saved the change: the task logs the
    error and tries again later (``copilot.accounts.tasks.email_send``).
    """
    payload = email_payload(message)
    transaction.on_commit(lambda: async_task("copilot.accounts.tasks.email_send", payload, group="email"))
