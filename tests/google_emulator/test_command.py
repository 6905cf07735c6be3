"""`manage.py google_emulator` starts a server and prints where it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_command_serves_prints_the_url_and_saves_state_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "manage.py",
        "google_emulator",
        "--port",
        "0",
        "--demo",
        "--state",
        str(tmp_path / "s.json"),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Google emulator serving at http://127.0.0.1:"), process.stderr.read()
        url = first_line.split(" at ", 1)[1].strip()
        users = requests.get(url + "/_emulator/users", timeout=10).json()["items"]
        assert {u["email"] for u in users} >= {"dr.alvarez@demo-dental.test"}
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "sam.lee@demo-dental.test" in (tmp_path / "s.json").read_text()
