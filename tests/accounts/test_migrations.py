"""Migration 0004: existing users' current addresses become verified primary addresses."""

from __future__ import annotations

import importlib

from allauth.account.models import EmailAddress
from django.apps import apps

from copilot.accounts.models import User

verify_current_emails = importlib.import_module(
    "copilot.accounts.migrations.0004_verify_existing_emails"
).verify_current_emails


def test_existing_users_current_emails_become_verified_primary_addresses(db):
    plain = User.objects.create_user(email="plain@a.test", password="x")
    unproven = User.objects.create_user(email="unproven@a.test", password="x")
    EmailAddress.objects.create(user=unproven, email="old@a.test", primary=True, verified=True)
    EmailAddress.objects.create(user=unproven, email="unproven@a.test", primary=False, verified=False)

    verify_current_emails(apps, None)

    assert EmailAddress.objects.filter(user=plain, email="plain@a.test", primary=True, verified=True).exists()
    current = EmailAddress.objects.get(user=unproven, email="unproven@a.test")
    assert current.primary and current.verified
    assert not EmailAddress.objects.get(email="old@a.test").primary


def test_an_address_someone_else_proved_is_left_alone(db):
    owner = User.objects.create_user(email="owner@a.test", password="x")
    EmailAddress.objects.create(user=owner, email="shared@a.test", primary=False, verified=True)
    claimer = User.objects.create_user(email="shared@a.test", password="x")

    verify_current_emails(apps, None)

    assert not EmailAddress.objects.filter(user=claimer).exists()
