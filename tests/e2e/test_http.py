"""The HTTP front: errors as problem+json, limits, operations endpoints.

The bad-input table posts each hostile body and checks the status, the
problem+json shape, and that the server keeps serving afterwards."""
import json
import re
import socket

import pytest

from conftest import assert_problem

GOOD = {"username": "table_user", "password": "long enough pw", "email": "t@example.com",
        "country": "DE"}


def body(**changes):
    b = dict(GOOD)
    b.update(changes)
    return json.dumps(b).encode()


BAD_SIGNUPS = [
    # (name, raw body, status, field)
    ("malformed JSON", b'{"username": "x",', 400, None),
    ("truncated JSON", body()[:-5], 400, None),
    ("not an object", b'["username"]', 400, None),
    ("empty body", b"", 400, None),
    ("wrong type: username", body(username=123), 400, "username"),
    ("wrong type: password", body(password=["a"]), 400, "password"),
    ("wrong type: country", body(country={"code": "DE"}), 400, "country"),
    ("missing field", json.dumps({k: v for k, v in GOOD.items() if k != "email"}).encode(), 400,
     "email"),
    ("unknown field", body(admin=True), 400, "admin"),
    ("duplicate key", b'{"username":"a","username":"b"}', 400, None),
    ("invalid UTF-8", b'{"username":"\xff\xfe","password":"x","email":"a@b.c","country":"DE"}',
     400, None),
    ("raw NUL byte", b'{"username":"ab\x00c","password":"long enough pw","email":"a@b.co","country":"DE"}',
     400, None),
    ("escaped NUL", body(username="ab\u0000cd"), 400, None),
    ("short username", body(username="ab"), 422, "username"),
    ("username charset", body(username="bad name!"), 422, "username"),
    ("username with dots", body(username="..dots"), 422, "username"),
    ("unicode username", body(username="zoë_is_here"), 422, "username"),
    ("short password", body(password="short"), 422, "password"),
    ("huge password", body(password="p" * 2000), 422, "password"),
    ("bad email", body(email="not-an-email"), 422, "email"),
    ("email two @", body(email="a@b@example.com"), 422, "email"),
    ("email no dot", body(email="a@localhost"), 422, "email"),
    ("unknown country", body(country="XX"), 422, "country"),
    ("country alpha-3", body(country="DEU"), 422, "country"),
    ("1 MB username", body(username="u" * (1 << 20)), 413, None),
    ("oversize body", b'{"pad":"' + b"x" * (70 * 1024) + b'"}', 413, None),
]


@pytest.mark.parametrize("name,raw,status,field", BAD_SIGNUPS, ids=[c[0] for c in BAD_SIGNUPS])
def test_bad_signup_inputs(server, name, raw, status, field):
    r = server.post("/api/v1/accounts", data=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, status, field)
    # The server still serves, and nothing was created.
    assert server.get("/healthz").json() == {"status": "ok"}
    assert server.get("/api/v1/users/@table_user").status_code == 404


def test_validation_errors_list_every_bad_field(server):
    r = server.post("/api/v1/accounts", json={"username": "x", "password": "y", "email": "z",
                                               "country": "QQ"})
    b = assert_problem(r, 422)
    assert {e["field"] for e in b["errors"]} == {"username", "password", "email", "country"}
    assert all(e["message"] for e in b["errors"])


def test_truncated_body_connection_does_not_hurt_the_server(server):
    host, port = server.base[len("http://"):].split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 200\r\n\r\n" + body()[:40])
    s.shutdown(socket.SHUT_WR)  # the client goes away mid-body
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    assert server.get("/healthz").status_code == 200
    assert server.get("/api/v1/users/@table_user").status_code == 404


@pytest.mark.parametrize("header,detail", [
    ("Bearer not-a-token", "malformed"),
    ("Bearer reel_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not valid"),
    ("Basic dXNlcjpwYXNz", "Bearer"),
    ("Bearer ", "malformed"),
])
def test_bad_tokens(server, header, detail):
    b = assert_problem(server.get("/api/v1/me", headers={"Authorization": header}), 401)
    assert detail in b["detail"]


def test_forged_token_for_real_session_is_rejected(server):
    _, token = server.signup()
    forged = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    assert_problem(server.get("/api/v1/me", token=forged), 401)
    assert server.get("/api/v1/me", token=token).status_code == 200


def test_unknown_route_and_method(server):
    b = assert_problem(server.get("/api/v1/nothing-here"), 404)
    assert b["type"] == "/problems/not-found"
    r = server.put("/api/v1/accounts", json={})
    assert_problem(r, 405)
    assert r.headers["Allow"] == "POST"
    r = server.request("BREW", "/healthz")
    assert_problem(r, 405)


def test_healthz_and_head(server):
    r = server.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = server.request("HEAD", "/healthz")
    assert r.status_code == 200 and r.content == b""


def test_metrics_counts_requests_by_route_and_status(server):
    server.get("/healthz")
    server.get("/api/v1/users/@nobody_at_all")
    text = server.get("/metrics").text
    assert "# TYPE reel_http_requests_total counter" in text
    m = re.search(r'reel_http_requests_total\{route="/healthz",method="GET",status="200"\} (\d+)', text)
    assert m and int(m.group(1)) >= 1
    assert re.search(r'route="/api/v1/users/@\{username\}",method="GET",status="404"\} \d+', text)
    assert re.search(r'reel_http_request_duration_seconds_bucket\{route="/healthz",le="\+Inf"\} \d+', text)
    assert "reel_http_request_duration_seconds_count" in text


def test_one_log_line_per_request(server):
    server.get("/healthz?probe=logline")
    lines = [l for l in server.logs().splitlines() if "event=request" in l and "path=/healthz" in l]
    assert lines
    assert re.search(r"^ts=\S+ level=info event=request method=GET path=/healthz status=200 dur_us=\d+",
                     lines[-1])


def test_rate_limit_per_ip(reel_factory):
    s = reel_factory(overrides={("limits", "rate_ip_per_s"): "1", ("limits", "rate_ip_burst"): "3"})
    codes = [s.get("/healthz").status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    r = s.get("/healthz")
    b = assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    assert b["type"] == "/problems/rate-limited"


def test_rate_limit_per_token(reel_factory):
    s = reel_factory(overrides={("limits", "rate_token_per_s"): "1",
                                ("limits", "rate_token_burst"): "2"})
    _, token = s.signup()
    _, other = s.signup()
    assert s.get("/api/v1/me", token=token).status_code == 200
    assert s.get("/api/v1/me", token=token).status_code == 200
    r = s.get("/api/v1/me", token=token)
    assert_problem(r, 429)
    assert "Retry-After" in r.headers
    # Another token and anonymous requests are unaffected.
    assert s.get("/api/v1/me", token=other).status_code == 200
    assert s.get("/healthz").status_code == 200


def test_body_limit_from_config(reel_factory):
    s = reel_factory(overrides={("limits", "max_body_bytes"): "2k"})
    r = s.post("/api/v1/accounts", data=b'{"username":"' + b"a" * 3000 + b'"}',
               headers={"Content-Type": "application/json"})
    b = assert_problem(r, 413)
    assert "2048" in b["detail"]
    # Chunked upload without Content-Length is capped too.
    def chunks():
        for _ in range(10):
            yield b"x" * 1000
    r = s.post("/api/v1/accounts", data=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(r, 413)
    assert s.get("/healthz").status_code == 200


def test_huge_declared_body_refused_before_it_is_sent(server):
    host, port = server.base[len("http://"):].split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 104857600\r\n\r\n")
    s.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 413"), data[:100]
    assert server.get("/healthz").status_code == 200
