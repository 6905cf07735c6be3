"""The emulator and the product stay apart: neither imports the other, production leaves it out."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import copilot.settings as product_settings
from google_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("copilot", "calendars", "integrations")


def _imported_modules(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports stay inside their package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _imports_of(package: str, *, skip: tuple[str, ...] = ()) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if not any(part in relative for part in skip):
            found[relative] = _imported_modules(path)
    return found


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def test_the_emulator_imports_nothing_of_the_product() -> None:
    imports = _imports_of("google_emulator")
    assert "google_emulator/store.py" in imports  # the walk really covers the package
    offending = {module: sorted(n for n in names if _top(n) in PRODUCT) for module, names in imports.items()}
    assert {m: n for m, n in offending.items() if n} == {}


def test_only_the_management_command_knows_django() -> None:
    imports = _imports_of("google_emulator", skip=("/management/",))
    assert {m: sorted(n) for m, n in imports.items() if any(_top(x) == "django" for x in n)} == {}


def test_the_product_never_imports_the_emulator() -> None:
    for package in PRODUCT:
        imports = _imports_of(package, skip=("/migrations/",))
        assert imports, package
        offending = {m: sorted(n) for m, n in imports.items() if any(_top(x) == "google_emulator" for x in n)}
        assert offending == {}, package


def test_settings_default_client_is_the_emulators() -> None:
    assert product_settings._EMULATOR_CLIENT_ID == DEFAULT_CLIENT_ID
    assert product_settings._EMULATOR_CLIENT_SECRET == DEFAULT_CLIENT_SECRET


def _installed_apps(**overrides: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "GOOGLE_EMULATOR_URL")}
    env.update(SECRET_KEY="boundary-test-key", DJANGO_SETTINGS_MODULE="copilot.settings", **overrides)
    script = "from django.conf import settings; print(','.join(settings.INSTALLED_APPS))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split(",")


def test_production_settings_leave_the_emulator_out() -> None:
    assert "google_emulator" not in _installed_apps()
    assert "google_emulator" in _installed_apps(DEBUG="1")
    assert "google_emulator" in _installed_apps(GOOGLE_EMULATOR_URL="http://127.0.0.1:8765")
