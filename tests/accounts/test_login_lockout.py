"""Issue 10, point 8: failed logins count in the shared cache, per (account, client IP)."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.core.internal.ratelimit import get_cache_key, parse_rates
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, RequestFactory

from tests.conftest import PASSWORD

ATTACKER = "203.0.113.9"
RECEPTION = "198.51.100.7"


def sign_in(client: Client, password: str, ip: str):
    return client.post("/accounts/login/", {"login": "alice@a.test", "password": password}, REMOTE_ADDR=ip)


def test_wrong_passwords_from_elsewhere_do_not_lock_the_real_user_out(alice):
    attacker = Client()
    for _ in range(5):
        assert sign_in(attacker, "guess", ATTACKER).status_code == 200
    refused = sign_in(attacker, PASSWORD, ATTACKER)  # even the right password, from there
    assert refused.status_code == 200 and "Too many failed login attempts" in refused.content.decode()

    assert sign_in(Client(), PASSWORD, RECEPTION).status_code == 302  # the receptionist gets in


def test_the_failed_login_counter_lives_in_the_shared_cache(alice):
    for _ in range(3):
        sign_in(Client(), "guess", ATTACKER)

    # The key allauth counts under for (alice, attacker's IP), read by a second, separate client
    # of the "default" cache, as another worker process would.
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ATTACKER)
    login_key = get_adapter()._get_login_attempts_cache_key(request, email="alice@a.test")
    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed"])
    per_key = [rate for rate in rates if rate.per == "key"]
    cache_key = get_cache_key(
        request, app="allauth.account", action="login_failed", rate=per_key[0], key=login_key
    )
    other_worker = caches.create_connection("default")
    assert other_worker is not caches["default"]
    assert not isinstance(other_worker, LocMemCache), "per-process memory is not shared between workers"
    assert len(other_worker.get(cache_key)) == 3
    assert ATTACKER in login_key and "alice@a.test" in login_key
