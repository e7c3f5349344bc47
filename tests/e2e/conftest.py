"""End-to-end fixtures: a real `reel serve` on a free loopback port.

Every test talks HTTP to the real binary, as Redis's suite starts real
servers. The binary comes from $REEL_BIN (the Makefile points it at the
sanitizer build); each server gets its own temporary data directory and a
config derived from config/reel.ini with test overrides (cheap argon2, high
rate limits). Servers are stopped with SIGTERM at teardown and must exit 0 —
under ASan a leak or error at shutdown fails the test that started it.
"""
import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL_BIN = os.environ.get("REEL_BIN", str(ROOT / "build" / "reel"))
DEFAULT_CONFIG = ROOT / "config" / "reel.ini"

# Test defaults: fast password hashing, no rate limiting unless a test asks.
TEST_OVERRIDES = {
    ("security", "argon2_ops"): "1",
    ("security", "argon2_mem"): "8k",
    ("limits", "rate_ip_per_s"): "0",
    ("limits", "rate_token_per_s"): "0",
    ("server", "threads"): "2",
}


def make_config(overrides=None, extra=""):
    """The default config text with `overrides` {(section, key): value} applied.

    A key absent from the default file is added at the end of its section.
    `extra` is appended verbatim (for whole new sections)."""
    wanted = dict(TEST_OVERRIDES)
    wanted.update(overrides or {})
    lines = DEFAULT_CONFIG.read_text().splitlines()
    out, section, done = [], None, set()

    def flush_section(sec):
        for (s, k), v in wanted.items():
            if s == sec and (s, k) not in done and v is not None:
                out.append(f"{k} = {v}")
                done.add((s, k))

    for line in lines:
        m = re.match(r"^\[(.+)\]\s*$", line)
        if m:
            flush_section(section)
            section = m.group(1)
            out.append(line)
            continue
        m = re.match(r"^([A-Za-z0-9_]+)\s*=", line)
        if m and (section, m.group(1)) in wanted:
            value = wanted[(section, m.group(1))]
            done.add((section, m.group(1)))
            if value is not None:  # None deletes the key
                out.append(f"{m.group(1)} = {value}")
            continue
        out.append(line)
    flush_section(section)
    return "\n".join(out) + "\n" + extra


class Reel:
    """One reel server process with its own data directory."""

    def __init__(self, workdir, overrides=None, extra_config=""):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data = self.workdir / "data"
        self.config_path = self.workdir / "reel.ini"
        self.config_path.write_text(make_config(overrides, extra_config))
        self.proc = None
        self.base = None
        self.log_path = self.workdir / "reel.log"
        self.http = requests.Session()

    # -- process ---------------------------------------------------------
    def start(self, timeout=30):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [REEL_BIN, "serve", "--config", str(self.config_path), "--data", str(self.data),
             "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self.log, cwd=self.workdir)
        line = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(b"listening on ") or not line:
                break
        m = re.match(rb"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.log.close()
            raise RuntimeError(f"reel did not start: {line!r}\n{self.log_path.read_text()}")
        self.base = m.group(1).decode()
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return self

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
            raise AssertionError("reel did not stop within %ss" % timeout)
        finally:
            self.log.close()
        self.proc = None
        return code

    def kill(self):
        return self.stop(sig=signal.SIGKILL)

    def restart(self):
        code = self.stop()
        assert code == 0, self.logs()
        return self.start()

    def logs(self):
        return self.log_path.read_text(errors="replace")

    # -- HTTP ------------------------------------------------------------
    def url(self, path):
        return self.base + path

    def request(self, method, path, token=None, **kw):
        headers = kw.pop("headers", {}) or {}
        if token:
            headers["Authorization"] = "Bearer " + token
        kw.setdefault("timeout", 30)
        return self.http.request(method, self.url(path), headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    _counter = 0

    def signup(self, username=None, country="DE", password="correct horse battery", email=None):
        """Creates an account; returns (user, token)."""
        if username is None:
            Reel._counter += 1
            username = "u%d_%d" % (os.getpid() % 10000, Reel._counter)
        email = email or f"{username}@example.com"
        r = self.post("/api/v1/accounts", json={"username": username, "password": password,
                                                "email": email, "country": country})
        assert r.status_code == 201, r.text
        body = r.json()
        return body["user"], body["token"]

    # -- files -----------------------------------------------------------
    def site_dir(self, site):
        return self.data / "sites" / site


def assert_problem(response, status, field=None):
    """Asserts an RFC 9457 problem+json answer with `status` (and an error for `field`)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, body
    assert body["status"] == status
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, body
    return body


@pytest.fixture
def reel_factory(tmp_path):
    """Starts servers on demand: reel_factory(overrides=..., extra_config=...)."""
    servers = []

    def make(overrides=None, extra_config="", start=True, name=None):
        server = Reel(tmp_path / (name or f"reel{len(servers)}"), overrides, extra_config)
        servers.append(server)
        return server.start() if start else server

    yield make
    failures = []
    for s in servers:
        if s.proc:
            code = s.stop()
            if code != 0:
                failures.append(f"reel exited {code}:\n{s.logs()[-4000:]}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server shared by the tests of a module."""
    s = Reel(tmp_path_factory.mktemp("reel")).start()
    yield s
    code = s.stop()
    assert code == 0, f"reel exited {code}:\n{s.logs()[-4000:]}"
