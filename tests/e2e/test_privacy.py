"""Export and erasure (issue 6, parts 5 and 6)."""
import subprocess
import time

import pytest

from conftest import REEL_BIN, assert_problem
from social_helpers import make_video
from test_admin import add_operator


def id_forms(user_id):
    """The ways a user id can sit in a file: decimal, and 8 bytes either way round."""
    n = int(user_id)
    return [str(n).encode(), n.to_bytes(8, "big"), n.to_bytes(8, "little")]


def files_containing(root, needles):
    hits = []
    for f in root.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            if any(n in data for n in needles):
                hits.append(f)
    return hits


def build_history(s):
    """A DE user with every kind of record, interacting with EU and US users."""
    me, token = s.signup(country="DE", email="erase.me@example.de")
    eu_friend, eu_token = s.signup(country="FR")
    us_star, us_token = s.signup(country="US")
    eu_video = make_video(s, eu_friend["id"], caption="Bonjour #paris")
    us_video = make_video(s, us_star["id"], caption="Howdy #texas")
    my_video = make_video(s, me["id"], caption="Mine #secret")
    for target in (eu_friend["id"], us_star["id"]):
        assert s.put(f"/api/v1/users/{target}/follow", token=token).status_code == 204
    # Others follow me and react to my video.
    assert s.put(f"/api/v1/users/{me['id']}/follow", token=us_token).status_code == 204
    assert s.put(f"/api/v1/users/{me['id']}/follow", token=eu_token).status_code == 204
    assert s.put(f"/api/v1/videos/{my_video}/like", token=us_token).status_code == 204
    for v in (eu_video, us_video):
        assert s.put(f"/api/v1/videos/{v}/like", token=token).status_code == 204
        assert s.post(f"/api/v1/videos/{v}/shares", token=token).status_code == 201
    c = s.post(f"/api/v1/videos/{us_video}/comments", token=token,
               json={"text": "a comment by me, erase-me-text"})
    assert c.status_code == 201
    s.post(f"/api/v1/videos/{us_video}/comments", token=us_token, json={"text": "a reply by the star"})
    r = s.post("/api/v1/events", token=token, json={"events": [
        {"type": "impression", "video_id": us_video},
        {"type": "watch", "video_id": us_video, "watched_ms": 4321}]})
    assert r.status_code == 202
    return dict(me=me, token=token, eu_friend=eu_friend, eu_token=eu_token, us_star=us_star,
                us_token=us_token, eu_video=eu_video, us_video=us_video, my_video=my_video,
                comment=c.json()["id"])


def test_export_holds_every_record_and_nothing_of_anyone_else(reel_factory):
    s = reel_factory()
    h = build_history(s)
    op = add_operator(s, "eu", "support", "privacy_support")
    assert s.get(f"/api/v1/admin/users/{h['me']['id']}?purpose=ticket+1", token=op).status_code == 200
    r = s.get("/api/v1/me/export", token=h["token"])
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["format"] == "reel-export/1"
    assert doc["account"]["email"] == "erase.me@example.de"
    assert doc["residency"]["home_region"] == "eu"
    assert {x["name"] for x in doc["residency"]["sites"]} == {"eu-ie", "eu-no"}
    rec = doc["records"]
    assert {f["user_id"] for f in rec["following"]} == {h["eu_friend"]["id"], h["us_star"]["id"]}
    assert {l["video_id"] for l in rec["like"]} == {h["eu_video"], h["us_video"]}
    assert {x["video_id"] for x in rec["share"]} == {h["eu_video"], h["us_video"]}
    assert [c["id"] for c in rec["comment"]] == [h["comment"]]
    assert rec["comment"][0]["text"] == "a comment by me, erase-me-text"
    assert [v["id"] for v in rec["video"]] == [h["my_video"]]
    assert len(rec["session"]) >= 1
    types = [e["type"] for e in doc["events"]]
    assert "watch" in types and "like" in types and "follow" in types
    assert any(e.get("watched_ms") == 4321 for e in doc["events"])
    assert [a["action"] for a in doc["audit"]] == ["user.read"]
    assert doc["audit"][0]["purpose"] == "ticket 1" and doc["audit"][0]["actor_role"] == "support"
    # Nothing of anyone else: not their comments, e-mails, or who follows me.
    text = r.text
    assert "a reply by the star" not in text
    assert h["us_star"]["username"] + "@example.com" not in text
    assert "followers" not in rec
    assert_problem(s.get("/api/v1/me/export"), 401)


def test_staff_export_only_by_custodian_of_the_region(reel_factory):
    s = reel_factory()
    me, _ = s.signup(country="DE")
    cust = add_operator(s, "eu", "custodian", "exp_custodian")
    sup = add_operator(s, "eu", "support", "exp_support")
    us = add_operator(s, "us", "custodian", "exp_us_custodian")
    path = f"/api/v1/admin/users/{me['id']}/export?purpose=court+order"
    assert s.get(path, token=cust).json()["account"]["id"] == me["id"]
    assert_problem(s.get(path, token=sup), 403)
    assert_problem(s.get(path, token=us), 403)
    assert_problem(s.get(f"/api/v1/admin/users/{me['id']}/export", token=cust), 400, "purpose")


def test_delete_me_deactivates_at_once(reel_factory):
    s = reel_factory()
    h = build_history(s)
    r = s.delete("/api/v1/me", token=h["token"])
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "deactivated" and body["erase_after"] > body["deactivated_at"]
    assert_problem(s.get("/api/v1/me", token=h["token"]), 401)
    assert_problem(s.post("/api/v1/sessions", json={"username": h["me"]["username"],
                                                    "password": "correct horse battery"}), 401)
    assert_problem(s.get(f"/api/v1/users/{h['me']['id']}"), 404)
    assert_problem(s.get(f"/api/v1/videos/{h['my_video']}"), 404)


def test_admin_deactivate(reel_factory):
    s = reel_factory()
    me, token = s.signup(country="DE")
    mod = add_operator(s, "eu", "moderator", "deact_moderator")
    sup = add_operator(s, "eu", "support", "deact_support")
    path = f"/api/v1/admin/users/{me['id']}/deactivate?purpose=spam"
    assert_problem(s.post(path, token=sup), 403)
    assert s.post(path, token=mod).status_code == 204
    assert_problem(s.get("/api/v1/me", token=token), 401)


def test_erasure_leaves_nothing_and_counters_right(reel_factory):
    s = reel_factory()
    h = build_history(s)
    me = h["me"]
    before_us = s.get(f"/api/v1/videos/{h['us_video']}").json()
    assert s.delete("/api/v1/me", token=h["token"]).status_code == 202
    assert s.stop() == 0
    # The server owns the files: purge refuses to run beside it...
    s.start()
    r = subprocess.run([REEL_BIN, "purge", "--config", str(s.config_path), "--data", str(s.data),
                        "--user", me["id"]], capture_output=True, text=True)
    assert r.returncode == 1 and "running" in r.stderr
    assert s.stop() == 0
    # ...and runs once it is stopped.
    r = subprocess.run([REEL_BIN, "purge", "--config", str(s.config_path), "--data", str(s.data),
                        "--user", me["id"]], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "erased 1 account" in r.stdout
    needles = id_forms(me["id"]) + [b"erase.me@example.de", b"erase-me-text"]
    hits = [f for f in files_containing(s.data / "sites", needles) if "audit" not in f.parts]
    assert not hits, f"erased user still in {hits}"
    assert not files_containing(s.data / "directory", needles)
    s.start()
    assert_problem(s.get(f"/api/v1/users/{me['id']}"), 404)
    # Counters: the videos it liked, shared and commented lose those; the users it
    # followed lose a follower; those who followed it follow one fewer.
    after_us = s.get(f"/api/v1/videos/{h['us_video']}").json()
    assert after_us["likes"] == before_us["likes"] - 1
    assert after_us["shares"] == before_us["shares"] - 1
    assert after_us["comments"] == before_us["comments"] - 1
    assert s.get(f"/api/v1/users/{h['us_star']['id']}").json()["followers"] == 0
    assert s.get(f"/api/v1/users/{h['us_star']['id']}").json()["following"] == 0
    assert s.get(f"/api/v1/users/{h['eu_friend']['id']}").json()["following"] == 0
    comments = s.get(f"/api/v1/videos/{h['us_video']}/comments").json()["items"]
    assert [c["text"] for c in comments] == ["a reply by the star"]
    # The username is free again.
    s.signup(username=me["username"], country="US")


def test_server_purges_after_the_grace_period(reel_factory):
    s = reel_factory(overrides={("privacy", "erasure_grace"): "1s",
                                ("privacy", "purge_interval"): "1s"})
    me, token = s.signup(country="DE", email="grace.period@example.de")
    assert s.delete("/api/v1/me", token=token).status_code == 202
    deadline = time.time() + 15
    while time.time() < deadline:
        if "event=account_erased" in s.logs():
            break
        time.sleep(0.3)
    assert "event=account_erased" in s.logs()
    r = s.post("/api/v1/accounts", json={"username": me["username"], "password": "long enough pw",
                                         "email": "new@example.com", "country": "FR"})
    assert r.status_code == 201


def test_purge_refuses_active_user_and_bad_usage(reel_factory):
    s = reel_factory()
    me, _ = s.signup(country="DE")
    assert s.stop() == 0
    base = [REEL_BIN, "purge", "--config", str(s.config_path), "--data", str(s.data)]
    r = subprocess.run(base + ["--user", me["id"]], capture_output=True, text=True)
    assert r.returncode == 1 and "active" in r.stderr
    assert subprocess.run(base + ["--user", "nope"], capture_output=True).returncode == 2
    assert subprocess.run(base + ["--now", "--user", me["id"]], capture_output=True).returncode == 2
    r = subprocess.run(base, capture_output=True, text=True)
    assert r.returncode == 0 and "erased 0 accounts" in r.stdout
