"""The web client's static files and the public regions list."""
import http.client

import pytest

from conftest import ROOT, make_config, Reel


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    s = Reel(tmp_path_factory.mktemp("web"), overrides={("server", "web_root"): str(ROOT / "web")})
    s.start()
    yield s
    assert s.stop() == 0


def raw_get(server, path, headers=None):
    host, port = server.base[len("http://"):].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


@pytest.mark.parametrize("path", ["/", "/v/148056038008356864", "/@alice", "/login", "/signup",
                                  "/tag/cats", "/privacy"])
def test_client_screens_serve_index(web, path):
    r = web.get(path)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in r.text
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_types_and_etag(web):
    r = web.get("/static/app.js")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert r.content == (ROOT / "web/static/app.js").read_bytes()
    etag = r.headers["ETag"]
    r2 = web.get("/static/app.js", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    assert web.get("/static/style.css").headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/static/../README.md", "/static/%2e%2e/README.md",
                                  "/static/.hidden", "/static/a//b.js", "/static/nope.js",
                                  "/static/app.js%00.png", "/static/"])
def test_static_paths_cannot_escape(web, path):
    r, body = raw_get(web, path)
    assert r.status == 404, (path, r.status)
    assert b"Reel" not in body or b"problem" in body


def test_missing_web_root_says_so(reel_factory, tmp_path):
    s = reel_factory(overrides={("server", "web_root"): str(tmp_path / "nowhere")})
    r = s.get("/")
    assert r.status_code == 404 and "web client is not installed" in r.json()["detail"]


def test_regions_list(web):
    items = web.get("/api/v1/regions").json()["items"]
    by_name = {r["name"]: r for r in items}
    assert set(by_name) == {"eu", "us", "intl"}
    assert "DE" in by_name["eu"]["countries"] and "US" not in by_name["eu"]["countries"]
    assert {(s["name"], s["country"], s["role"]) for s in by_name["eu"]["sites"]} == {
        ("eu-ie", "IE", "primary"), ("eu-no", "NO", "replica")}
    assert by_name["intl"]["catch_all"] is True
    assert "JP" in by_name["intl"]["countries"]
    assert all(r["served_here"] for r in items)
