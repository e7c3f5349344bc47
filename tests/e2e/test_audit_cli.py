"""`reel audit` as a subprocess: registered in the command table, exit codes
(0 intact or nothing recorded, 2 usage), and a damaged log reported with
exit 1. The tamper matrix itself is in tests/unit/region/test_audit.c."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL = os.environ.get("REEL_BIN", str(ROOT / "build" / "reel"))
CONFIG = str(ROOT / "config" / "reel.ini")


def reel(*args):
    return subprocess.run([REEL, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(autouse=True)
def _binary():
    if not os.access(REEL, os.X_OK):
        pytest.skip(f"{REEL} is not built")


def test_listed_in_help():
    r = reel("--help")
    assert r.returncode == 0
    assert "audit" in r.stdout


def test_verify_with_nothing_recorded(tmp_path):
    r = reel("audit", "verify", "--config", CONFIG, "--data", str(tmp_path))
    assert r.returncode == 0, r.stderr
    for region in ("eu", "us", "intl"):
        assert f"audit log {region}" in r.stdout
    assert "no audit log yet" in r.stdout


@pytest.mark.parametrize("args", [
    ["audit"],
    ["audit", "nonsense"],
    ["audit", "prove", "--index", "1"],
    ["audit", "prove", "--region", "eu"],
    ["audit", "verify", "--index", "1"],
])
def test_usage_errors_exit_2(args):
    r = reel(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "usage: reel audit" in r.stderr


def test_unknown_region_is_a_usage_error(tmp_path):
    r = reel("audit", "verify", "--config", CONFIG, "--data", str(tmp_path), "--region", "mars")
    assert r.returncode == 2
    assert "mars" in r.stderr


def test_damaged_log_fails(tmp_path):
    audit = tmp_path / "sites" / "eu-ie" / "audit"
    audit.mkdir(parents=True)
    (audit / "audit.log").write_bytes(b"REELAUDL" + bytes(40))
    r = reel("audit", "verify", "--config", CONFIG, "--data", str(tmp_path), "--region", "eu")
    assert r.returncode == 1
    assert "NOT INTACT" in r.stderr
    assert "audit.heads" in r.stderr
