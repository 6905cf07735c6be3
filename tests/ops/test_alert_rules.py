"""The example alert rules in docs/alerts/ name only metrics that /metrics exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from copilot.ops import metrics

pytestmark = pytest.mark.django_db

ALERTS = Path(__file__).resolve().parents[2] / "docs" / "alerts"
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def exported() -> set[str]:
    body, _ = metrics.render()
    names = set()
    for family in text_string_to_metric_families(body.decode()):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def test_every_metric_an_alert_uses_is_exported(client):
    from integrations.google.client import Retryable

    client.get("/healthz")  # labelled series appear once counted
    metrics.observe_google_request(Retryable("Google answered 503", status=503))
    names = exported()
    rules = list(ALERTS.glob("*.yml"))
    assert rules
    for path in rules:
        text = path.read_text()
        used = set(re.findall(r"\bcopilot_[a-z0-9_]+", text))
        assert used, f"{path.name} uses no copilot metric"
        unknown = {name for name in used if name not in names}
        assert not unknown, f"{path.name} names metrics /metrics does not export: {sorted(unknown)}"
        for alert in re.findall(r"- alert: (\w+)", text):
            assert f"#{alert.lower()}" in text, f"{alert} has no runbook link"
