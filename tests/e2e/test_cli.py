"""The `reel` command line: usage, exit statuses, refusing bad configs, shutdown."""
import signal
import socket
import subprocess

import pytest

from conftest import REEL_BIN, Reel, make_config


def run(*args, **kw):
    return subprocess.run([REEL_BIN, *args], capture_output=True, text=True, timeout=60, **kw)


def test_help_and_version():
    r = run("--help")
    assert r.returncode == 0 and "serve" in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("reel ")
    r = run("serve", "--help")
    assert r.returncode == 0 and "--listen" in r.stdout


@pytest.mark.parametrize("args", [(), ("frobnicate",), ("serve", "--bogus"), ("serve", "extra")])
def test_usage_errors_exit_2(args):
    r = run(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "usage" in r.stderr


def refuse(tmp_path, text):
    cfg = tmp_path / "bad.ini"
    cfg.write_text(text)
    r = run("serve", "--config", str(cfg), "--data", str(tmp_path / "data"),
            "--listen", "127.0.0.1:0")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "listening" not in r.stdout
    return r.stderr


def test_refuses_eu_replica_in_the_us(tmp_path):
    text = make_config().replace("[site eu-no]\ncountry = NO", "[site eu-no]\ncountry = US")
    err = refuse(tmp_path, text)
    assert "region eu" in err and "site eu-no" in err and "US" in err
    # Nothing was created for a refused configuration.
    assert not (tmp_path / "data").exists()


def test_refuses_primary_outside_storage_countries(tmp_path):
    text = make_config().replace("[site us-va]\ncountry = US", "[site us-va]\ncountry = CN")
    err = refuse(tmp_path, text)
    assert "region us" in err and "site us-va" in err


@pytest.mark.parametrize("change,expect", [
    (("listen = 127.0.0.1:8080", "listen = 127.0.0.1:99999"), "[server] listen"),
    (("node = 0", "node = 0\ncolour = blue"), "unknown key 'colour'"),
    (("countries = *", "countries = FR"), "served by both regions"),
    (("countries = *\n", "countries = JP\n"), "is served by no region"),
    (("primary = intl-ch", "primary = atlantis"), "primary site atlantis is not declared"),
    (("[log]", "[logging]"), "unknown section [logging]"),
])
def test_refuses_config_errors(tmp_path, change, expect):
    text = make_config()
    assert change[0] in text
    err = refuse(tmp_path, text.replace(change[0], change[1], 1))
    assert expect in err, err


def test_missing_config_file(tmp_path):
    r = run("serve", "--config", str(tmp_path / "nope.ini"), "--listen", "127.0.0.1:0")
    assert r.returncode == 1 and "nope.ini" in r.stderr


def test_bad_listen_flag(tmp_path):
    r = run("serve", "--listen", "localhost", "--data", str(tmp_path))
    assert r.returncode == 1 and "--listen" in r.stderr


def test_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        cfg = tmp_path / "c.ini"
        cfg.write_text(make_config())
        r = run("serve", "--config", str(cfg), "--data", str(tmp_path / "d"),
                "--listen", f"127.0.0.1:{port}")
        assert r.returncode == 1 and "cannot listen" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_graceful_shutdown(tmp_path, sig):
    s = Reel(tmp_path).start()
    _, token = s.signup()
    assert s.get("/api/v1/me", token=token).status_code == 200
    assert s.stop(sig=sig) == 0
    logs = s.logs()
    assert "event=shutdown" in logs and "event=stopped" in logs
