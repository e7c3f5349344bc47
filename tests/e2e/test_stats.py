"""Analytics over HTTP (issue 8): active users per region and country, trending,
creator statistics aggregated across regions — and who may see them."""
import time

import pytest

from conftest import Reel, assert_problem
from social_helpers import make_video
from test_admin import add_operator


def post_events(server, token, events):
    r = server.post("/api/v1/events", token=token, json={"events": events})
    assert r.status_code == 202, r.text


def wait_for(check, timeout=10):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    s = Reel(tmp_path_factory.mktemp("stats")).start()
    ops = {
        "eu_custodian": add_operator(s, "eu", "custodian", "st_eu_custodian"),
        "eu_support": add_operator(s, "eu", "support", "st_eu_support"),
        "us_custodian": add_operator(s, "us", "custodian", "st_us_custodian"),
    }
    creator, creator_token = s.signup(country="US")
    video = make_video(s, creator["id"], caption="Sunset #beach #travel", duration_ms=10000)
    other = make_video(s, creator["id"], caption="Quiet one #calm", duration_ms=10000)
    viewers = {"DE": [], "FR": [], "US": []}
    for country, n in (("DE", 3), ("FR", 2), ("US", 4)):
        for _ in range(n):
            viewers[country].append(s.signup(country=country))
    # Every viewer plays and watches the video to the end; the EU ones also like it.
    for country, users in viewers.items():
        for user, token in users:
            post_events(s, token, [{"type": "impression", "video_id": video},
                                   {"type": "play", "video_id": video},
                                   {"type": "watch", "video_id": video, "watched_ms": 10000}])
            if country != "US":
                assert s.put(f"/api/v1/videos/{video}/like", token=token).status_code == 204
    yield s, ops, creator_token, video, other, viewers
    assert s.stop() == 0


def active(s, token, query):
    return s.get(f"/api/v1/admin/stats/active-users?{query}", token=token)


EXPECTED = {"eu_custodian": 200, "eu_support": 200, "us_custodian": 403}


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_active_users_matrix(world, actor):
    s, ops, *_ = world
    r = active(s, ops[actor], "region=eu&period=day")
    assert r.status_code == EXPECTED[actor], r.text
    if r.status_code == 403:
        assert "another region" in assert_problem(r, 403)["detail"]


def test_plain_user_and_anonymous(world):
    s, _, creator_token, *_ = world
    assert_problem(active(s, creator_token, "region=eu&period=day"), 403)
    assert_problem(active(s, None, "region=eu&period=day"), 401)


@pytest.mark.parametrize("query,field", [("region=mars&period=day", "region"),
                                         ("period=day", "region"),
                                         ("region=eu&period=fortnight", "period"),
                                         ("region=eu", "period"),
                                         ("region=eu&period=day&country=XX", "country"),
                                         ("region=eu&period=day&day=2026-13-01", "day"),
                                         ("region=eu&period=day&series=9999", "series")])
def test_bad_queries(world, query, field):
    s, ops, *_ = world
    assert_problem(active(s, ops["eu_custodian"], query), 400, field)


def test_active_user_counts_per_region_and_country(world):
    s, ops, *_ = world
    # The EU viewers (3 DE + 2 FR) are active in eu; the 4 US viewers (+ the
    # creator, who only uploaded: no event) in us.
    def count(token, query):
        r = active(s, token, query)
        assert r.status_code == 200, r.text
        return r.json()["active_users"]
    assert wait_for(lambda: count(ops["eu_custodian"], "region=eu&period=day") == 5)
    assert count(ops["eu_custodian"], "region=eu&period=month") == 5
    assert count(ops["eu_custodian"], "region=eu&period=day&country=DE") == 3
    assert count(ops["eu_custodian"], "region=eu&period=day&country=FR") == 2
    assert wait_for(lambda: count(ops["us_custodian"], "region=us&period=week") == 4)
    body = active(s, ops["eu_custodian"], "region=eu&period=day&series=7").json()
    assert len(body["series"]) == 7 and body["series"][-1]["active_users"] == 5
    assert body["series"][-1]["day"] == body["day"]


def test_overview_any_operator_sees_counts_of_every_region(world):
    s, ops, creator_token, *_ = world
    r = s.get("/api/v1/admin/stats/overview", token=ops["us_custodian"])
    assert r.status_code == 200, r.text
    by_region = {i["region"]: i for i in r.json()["items"]}
    assert wait_for(lambda: s.get("/api/v1/admin/stats/overview", token=ops["us_custodian"])
                    .json()["items"][0]["daily_active_users"] == 5)
    assert set(by_region) == {"eu", "us", "intl"}
    assert_problem(s.get("/api/v1/admin/stats/overview", token=creator_token), 403)


def test_trending_videos_and_hashtags(world):
    s, ops, _, video, other, _ = world
    def top():
        r = s.get("/api/v1/admin/stats/trending?region=eu&limit=5", token=ops["eu_custodian"])
        assert r.status_code == 200, r.text
        return r.json()
    body = wait_for(lambda: (b := top())["videos"] and b)
    assert body["videos"][0]["id"] == video
    assert body["scores"][0]["video_id"] == video and body["scores"][0]["score"] > 0
    assert {"beach", "travel"} <= {h["tag"] for h in body["hashtags"]}
    assert_problem(s.get("/api/v1/admin/stats/trending?region=eu", token=ops["us_custodian"]), 403)


def test_creator_stats_aggregate_viewers_of_every_region(world):
    s, _, creator_token, video, _, viewers = world
    def report():
        r = s.get("/api/v1/me/stats", token=creator_token)
        assert r.status_code == 200, r.text
        return r.json()
    body = wait_for(lambda: (b := report())["totals"]["unique_viewers"] == 9 and b)
    assert body, report()
    t = body["totals"]
    assert t["views"] == 9 and t["impressions"] == 9
    assert t["likes"] == 5
    assert t["completion_rate"] == pytest.approx(1.0)
    assert t["average_watch_ratio"] == pytest.approx(1.0)
    rows = [i for i in body["items"] if i["video_id"] == video]
    assert rows and rows[0]["unique_viewers"] == 9
    assert_problem(s.get("/api/v1/me/stats"), 401)
    assert_problem(s.get("/api/v1/me/stats?days=0", token=creator_token), 400, "days")


def test_stats_survive_restart(reel_factory):
    s = reel_factory()
    op = add_operator(s, "eu", "custodian", "st_restart_custodian")
    creator, _ = s.signup(country="DE")
    video = make_video(s, creator["id"])
    for _ in range(3):
        _, token = s.signup(country="IT")
        post_events(s, token, [{"type": "play", "video_id": video}])
    q = "region=eu&period=day"
    assert wait_for(lambda: active(s, op, q).json()["active_users"] == 3)
    s.restart()
    op = s.post("/api/v1/sessions", json={"username": "st_restart_custodian",
                                          "password": "operator password"}).json()["token"]
    assert active(s, op, q).json()["active_users"] == 3, "counted once, before and after"


def test_reel_stats_command(world, tmp_path):
    import re
    import shutil
    import subprocess
    from conftest import REEL_BIN
    s, ops, *_ = world
    assert wait_for(lambda: active(s, ops["eu_custodian"], "region=eu&period=day").json()["active_users"] == 5)
    base = [REEL_BIN, "stats", "--config", str(s.config_path), "--region", "eu"]
    r = subprocess.run(base + ["--data", str(s.data)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.search(r"day\s+5\n", r.stdout) and re.search(r"DE\s+3\n", r.stdout), r.stdout
    assert "#beach" in r.stdout
    # Without the saved analytics it rebuilds everything from the log, to the same numbers.
    copy = tmp_path / "data"
    shutil.copytree(s.data, copy, ignore=shutil.ignore_patterns("*.lock"))
    shutil.rmtree(copy / "sites" / "eu-ie" / "stats")
    r2 = subprocess.run(base + ["--data", str(copy)], capture_output=True, text=True, timeout=60)
    assert r2.returncode == 0, r2.stderr
    assert re.search(r"day\s+5\n", r2.stdout) and re.search(r"FR\s+2\n", r2.stdout), r2.stdout
    bad = subprocess.run(base[:2] + ["--region", "mars", "--data", str(s.data)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "mars" in bad.stderr
    assert subprocess.run(base[:2], capture_output=True).returncode == 2
