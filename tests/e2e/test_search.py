"""Hashtags and search (API.md "Social")."""
import urllib.parse

from conftest import assert_problem
from social_helpers import make_video, page_through


def test_hashtag_videos_newest_first_across_regions(server):
    made = []
    for country in ("DE", "US", "JP", "US", "DE"):
        u, _ = server.signup(country=country)
        made.append(make_video(server, u["id"], caption=f"stage dive #Concert{country} #GigLife"))
    other, _ = server.signup()
    make_video(server, other["id"], caption="no tag here")
    items = page_through(server, "/api/v1/hashtags/giglife/videos", limit=2)
    assert [v["id"] for v in items] == list(reversed(made))
    # Case and a leading '#' do not matter; the tag is normalised.
    r = server.get("/api/v1/hashtags/" + urllib.parse.quote("#GIGLIFE") + "/videos?limit=100")
    assert [v["id"] for v in r.json()["items"]] == list(reversed(made))
    assert "giglife" in r.json()["items"][0]["hashtags"]
    assert server.get("/api/v1/hashtags/nobodyusesthis/videos").json() == \
        {"items": [], "next_cursor": None}
    assert_problem(server.get("/api/v1/hashtags/2024/videos"), 400, "tag")
    assert_problem(server.get("/api/v1/hashtags/a%20b/videos"), 400, "tag")
    assert_problem(server.get("/api/v1/hashtags/%ZZ/videos"), 400, "tag")


def test_unicode_hashtag(server):
    u, _ = server.signup(country="FR")
    vid = make_video(server, u["id"], caption="Pause #Café au lait")
    r = server.get("/api/v1/hashtags/" + urllib.parse.quote("CAFÉ") + "/videos")
    assert [v["id"] for v in r.json()["items"]] == [vid]
    assert r.json()["items"][0]["hashtags"] == ["café"]


def test_search_users_hashtags_videos(server):
    alice, _ = server.signup(username="zorro_alpha", country="DE")
    bob, _ = server.signup(username="Zorro_beta", country="US")
    server.signup(username="zzz_other", country="JP")
    v1 = make_video(server, alice["id"], caption="Kayaking the fjords #zorroweek #kayak")
    v2 = make_video(server, bob["id"], caption="More kayaking in the rain #zorroweek")
    make_video(server, bob["id"], caption="Cooking pasta #zorrofood")

    r = server.get("/api/v1/search", params={"q": "zorro"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"users", "hashtags", "videos"}
    assert [u["username"] for u in body["users"]] == ["zorro_alpha", "Zorro_beta"]
    assert body["hashtags"] == [{"tag": "zorroweek", "videos": 2}, {"tag": "zorrofood",
                                                                    "videos": 1}]
    # Caption words (the last as a prefix), newest first, across regions.
    r = server.get("/api/v1/search", params={"q": "kayak"}).json()
    assert [v["id"] for v in r["videos"]] == [v2, v1]
    r = server.get("/api/v1/search", params={"q": "kayaking rain"}).json()
    assert [v["id"] for v in r["videos"]] == [v2]
    # Query syntax is plain text, never FTS operators.
    r = server.get("/api/v1/search", params={"q": 'kayak" OR "pasta'})
    assert r.status_code == 200
    r = server.get("/api/v1/search", params={"q": "@zorro_a"}).json()
    assert [u["id"] for u in r["users"]] == [alice["id"]]
    assert_problem(server.get("/api/v1/search"), 400, "q")
    assert_problem(server.get("/api/v1/search", params={"q": "x" * 101}), 400, "q")
    assert_problem(server.get("/api/v1/search", params={"q": "a", "limit": "0"}), 400, "limit")


def test_replica_keeps_the_search_index(server):
    """Video rows, hashtag counts and the caption index reach the replica site
    (eu-no) in step: the full-text index is rebuilt there by its triggers."""
    import sqlite3
    u, token = server.signup(country="IE")
    keep = make_video(server, u["id"], caption="Glacier hike #replicatest")
    gone = make_video(server, u["id"], caption="Glacier swim #replicatest")
    assert server.delete(f"/api/v1/videos/{gone}", token=token).status_code == 204
    fan, ftoken = server.signup(country="NO")
    server.put(f"/api/v1/videos/{keep}/like", token=ftoken)
    server.post(f"/api/v1/videos/{keep}/comments", token=ftoken, json={"text": "wow"})
    assert "replica_dropped" not in server.logs()
    con = sqlite3.connect(f"file:{server.site_dir('eu-no') / 'reel.db'}?mode=ro", uri=True)
    try:
        assert con.execute("SELECT rowid FROM videos_fts WHERE videos_fts MATCH 'glacier'"
                           ).fetchall() == [(int(keep),)]
        assert con.execute("SELECT videos FROM hashtags WHERE tag = 'replicatest'").fetchall() \
            == [(1,)]
        assert con.execute("SELECT likes, comments FROM videos WHERE id = ?",
                           (int(keep),)).fetchall() == [(1, 1)]
    finally:
        con.close()
