"""Background work for accounts (django-q2): sending email, with retries."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.utils import timezone
from django_q.tasks import schedule

from .mail import email_message

logger = logging.getLogger(__name__)

# Seconds to wait before the 2nd, 3rd and 4th attempt; after the last one the email is given up.
EMAIL_RETRY_DELAYS = (60, 600, 3600)


def email_send(payload: dict, attempt: int = 1) -> bool:
    """Send one queued email (``mail.email_payload``); True when the mail server took it.

    A failure is logged (recipients and error, never the body) and the same email is scheduled
    again after ``EMAIL_RETRY_DELAYS[attempt - 1]`` seconds; it never raises, so a caller running
    tasks inline (``Q_SYNC``) never fails with the mail server. django-q2 itself does not retry a
    task that raised (``ack_failures``), hence the schedule.
    """
    try:
        email_message(payload).send()
    except (smtplib.SMTPException, OSError) as exc:
        to = ", ".join(payload["to"])
        if attempt > len(EMAIL_RETRY_DELAYS):
            logger.error("Email to %s failed %d times, giving up: %r", to, attempt, exc)
            return False
        delay = EMAIL_RETRY_DELAYS[attempt - 1]
        logger.warning("Email to %s failed (attempt %d), retrying in %d s: %r", to, attempt, delay, exc)
        schedule(
            "copilot.accounts.tasks.email_send",
            payload,
            attempt + 1,
            next_run=timezone.now() + timedelta(seconds=delay),
        )
        return False
    return True
