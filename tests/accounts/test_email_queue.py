"""Issue 10, point 11: email goes out after the change is saved, from a retried task; a mail
server that is down never turns a saved change into a 500."""

from __future__ import annotations

import smtplib

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django_q.models import Schedule

from copilot.accounts.models import Invitation
from copilot.accounts.tasks import EMAIL_RETRY_DELAYS, email_send
from tests.conftest import login


class DownMailServer(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownMailServer"


def retries() -> list[Schedule]:
    return list(Schedule.objects.filter(func="copilot.accounts.tasks.email_send"))


def test_an_invitation_is_saved_and_queued_when_the_mail_server_is_down(
    client, alice, mail_server_down, django_capture_on_commit_callbacks, caplog
):
    login(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/invite/", {"email": "eve@a.test", "role": "staff"}, follow=True)
    assert response.status_code == 200
    assert "Invitation to eve@a.test queued" in response.content.decode()
    assert Invitation.objects.filter(email="eve@a.test").exists()
    assert "Email to eve@a.test failed (attempt 1)" in caplog.text
    (retry,) = retries()
    assert retry.next_run is not None


def test_allauths_add_email_is_saved_and_queued_when_the_mail_server_is_down(
    client, bob, mail_server_down, django_capture_on_commit_callbacks, caplog
):
    login(client, bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/email/", {"action_add": "", "email": "bob@home.test"}, follow=True)
    assert response.status_code == 200
    assert "queued" in response.content.decode()
    assert EmailAddress.objects.filter(user=bob.user, email="bob@home.test", verified=False).exists()
    assert "Email to bob@home.test failed" in caplog.text
    assert len(retries()) == 1


def test_a_password_reset_request_answers_when_the_mail_server_is_down(
    client, bob, mail_server_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "bob@a.test"})
    assert response.status_code == 302
    assert len(retries()) == 1


def test_the_task_retries_with_backoff_and_then_gives_up(mail_server_down, db, caplog):
    payload = {"subject": "Hi", "body": "Body", "from_email": None, "to": ["x@a.test"], "alternatives": []}
    assert email_send(payload) is False
    assert retries()[0].args == repr((payload, 2))
    assert email_send(payload, len(EMAIL_RETRY_DELAYS) + 1) is False
    assert "giving up" in caplog.text
    assert len(retries()) == 1


def test_the_task_sends_the_queued_email(db):
    payload = {
        "subject": "Hi",
        "body": "Body",
        "from_email": None,
        "to": ["x@a.test"],
        "alternatives": [["<p>Body</p>", "text/html"]],
    }
    assert email_send(payload) is True
    (message,) = mail.outbox
    assert message.to == ["x@a.test"] and message.alternatives[0][1] == "text/html"
