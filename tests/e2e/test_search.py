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
