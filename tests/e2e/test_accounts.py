"""Accounts (API.md "Accounts"): sign-up, sessions, profiles."""
import sqlite3
import time

import pytest

from conftest import assert_problem


def test_signup_returns_user_and_token(server):
    r = server.post("/api/v1/accounts", json={"username": "Alice_1", "password": "correct horse",
                                               "email": "alice1@example.com", "country": "DE"})
    assert r.status_code == 201, r.text
    body = r.json()
    user = body["user"]
    assert user["username"] == "Alice_1"
    assert user["home_region"] == "eu"
    assert user["email"] == "alice1@example.com"
    assert user["country"] == "DE"
    assert isinstance(user["id"], str) and user["id"].isdigit()
    for key in ("display_name", "bio", "followers", "following", "videos", "created_at"):
        assert key in user
    assert user["created_at"].endswith("Z")
    assert body["token"].startswith("reel_")

    me = server.get("/api/v1/me", token=body["token"])
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


@pytest.mark.parametrize("country,region", [("DE", "eu"), ("no", "eu"), ("US", "us"),
                                            ("PR", "us"), ("JP", "intl"), ("CH", "intl")])
def test_home_region_comes_from_country(server, country, region):
    user, _ = server.signup(country=country)
    assert user["home_region"] == region
    assert server.get(f"/api/v1/users/{user['id']}").json()["home_region"] == region


def test_login_logout(server):
    user, _ = server.signup(username="bob_login", password="hunter2hunter2")
    r = server.post("/api/v1/sessions", json={"username": "BOB_LOGIN", "password": "hunter2hunter2"})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert r.json()["user"]["id"] == user["id"]
    assert server.get("/api/v1/me", token=token).status_code == 200
    assert server.delete("/api/v1/sessions/current", token=token).status_code == 204
    assert_problem(server.get("/api/v1/me", token=token), 401)
    # Logging out twice: the token is no longer valid.
    assert_problem(server.delete("/api/v1/sessions/current", token=token), 401)


def test_login_wrong_password_and_unknown_user_look_the_same(server):
    server.signup(username="carol_pw", password="the right one")
    a = assert_problem(server.post("/api/v1/sessions",
                                   json={"username": "carol_pw", "password": "the wrong one"}), 401)
    b = assert_problem(server.post("/api/v1/sessions",
                                   json={"username": "nobody_here", "password": "whatever1"}), 401)
    assert a["detail"] == b["detail"]


def test_public_profile_by_id_and_username(server):
    user, _ = server.signup(username="dora_pub")
    by_id = server.get(f"/api/v1/users/{user['id']}")
    by_name = server.get("/api/v1/users/@Dora_Pub")
    assert by_id.status_code == by_name.status_code == 200
    assert by_id.json() == by_name.json()
    public = by_id.json()
    assert "email" not in public and "country" not in public
    assert set(public) == {"id", "username", "display_name", "bio", "home_region", "followers",
                           "following", "videos", "created_at"}


def test_profile_not_found(server):
    assert_problem(server.get("/api/v1/users/@no_such_user"), 404)
    assert_problem(server.get("/api/v1/users/148056038008356864"), 404)
    assert_problem(server.get("/api/v1/users/not-an-id"), 400, field="id")


def test_patch_me(server):
    _, token = server.signup()
    r = server.patch("/api/v1/me", token=token, json={"display_name": "Zoë ✨", "bio": "line1\nline2"})
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Zoë ✨"
    assert r.json()["bio"] == "line1\nline2"
    # Only what is sent changes.
    r = server.patch("/api/v1/me", token=token, json={"bio": "new"})
    assert r.json()["display_name"] == "Zoë ✨" and r.json()["bio"] == "new"
    assert_problem(server.patch("/api/v1/me", token=token, json={"bio": "x" * 301}), 422, "bio")
    assert_problem(server.patch("/api/v1/me", token=token, json={"display_name": "a\u0007b"}),
                   422, "display_name")
    assert_problem(server.patch("/api/v1/me", token=token, json={"email": "x@y.z"}), 400, "email")
    assert_problem(server.patch("/api/v1/me", json={"bio": "anon"}), 401)


def test_duplicate_username_is_409_across_regions(server):
    server.signup(username="unique_name", country="DE")
    r = server.post("/api/v1/accounts", json={"username": "UNIQUE_name", "password": "long enough",
                                               "email": "other@example.com", "country": "US"})
    assert_problem(r, 409, "username")


def test_sql_injection_shaped_strings_are_stored_literally(server):
    evil = "Robert'); DROP TABLE users;--"
    user, token = server.signup(username="bobby_tables")
    r = server.patch("/api/v1/me", token=token, json={"display_name": evil[:50], "bio": evil})
    assert r.status_code == 200
    got = server.get(f"/api/v1/users/{user['id']}").json()
    assert got["bio"] == evil
    r = server.post("/api/v1/sessions", json={"username": "x' OR '1'='1", "password": "' OR 1=1 --"})
    assert_problem(r, 401)
    assert server.get(f"/api/v1/users/{user['id']}").status_code == 200


def _files_under(directory):
    return [p for p in directory.rglob("*") if p.is_file()]


def _db_user_ids(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {row[0] for row in con.execute("SELECT id FROM users")}
    finally:
        con.close()


SITES = {"eu": ["eu-ie", "eu-no"], "us": ["us-va", "sg"], "intl": ["intl-ch"]}


def test_residency_each_user_only_in_home_region_files(server):
    de, _ = server.signup(username="resident_de", country="DE", email="resident.de@example.eu")
    us, _ = server.signup(username="resident_us", country="US", email="resident.us@example.com")
    jp, _ = server.signup(username="resident_jp", country="JP", email="resident.jp@example.jp")
    users = {site: _db_user_ids(server.site_dir(site) / "reel.db")
             for sites in SITES.values() for site in sites}
    for user, home in ((de, "eu"), (us, "us"), (jp, "intl")):
        for region, sites in SITES.items():
            for site in sites:
                present = int(user["id"]) in users[site]
                # In every site of the home region (primary and replica), in no other.
                assert present == (region == home), (user["username"], site)
    # The e-mail address is encrypted at rest: it appears in plaintext in no
    # file at all (WAL included), nor in the public directory — yet the user
    # reads it back through the API.
    for email in ("resident.de@example.eu", "resident.us@example.com", "resident.jp@example.jp"):
        needle = email.encode()
        leaked = [f for f in _files_under(server.data) if needle in f.read_bytes()]
        assert not leaked, f"{email} in plaintext in {leaked}"


def test_data_key_lives_outside_the_sites(server):
    keys = sorted(p.name for p in (server.data / "custody").glob("*.key"))
    assert keys == ["eu.key", "intl.key", "us.key"]
    for k in (server.data / "custody").glob("*.key"):
        assert k.stat().st_mode & 0o077 == 0, oct(k.stat().st_mode)
    # Beside each key, the public half of the audit signing key, for auditors.
    pubs = sorted(p.name for p in (server.data / "custody").glob("*.audit.pub"))
    assert pubs == ["eu.audit.pub", "intl.audit.pub", "us.audit.pub"]
    for site_dir in (server.data / "sites").iterdir():
        assert not [p for p in site_dir.rglob("*.key")]


def test_accounts_and_tokens_survive_restart(reel_factory):
    s = reel_factory()
    user, token = s.signup(username="persistent")
    s.restart()
    assert s.get("/api/v1/me", token=token).json()["id"] == user["id"]
    r = s.post("/api/v1/sessions", json={"username": "persistent", "password": "correct horse battery"})
    assert r.status_code == 201
    assert_problem(s.post("/api/v1/accounts", json={"username": "persistent", "password": "long enough",
                                                     "email": "p@example.com", "country": "FR"}), 409)


def test_expired_token(reel_factory):
    s = reel_factory(overrides={("security", "session_ttl"): "1s"})
    _, token = s.signup()
    assert s.get("/api/v1/me", token=token).status_code == 200
    time.sleep(1.2)
    body = assert_problem(s.get("/api/v1/me", token=token), 401)
    assert "expired" in body["detail"]
