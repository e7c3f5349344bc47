"""Feeds v0 (API.md "Feeds"): following, and the popular For You baseline."""
import time

from conftest import assert_problem
from social_helpers import make_video, make_videos, page_through


def test_following_feed_newest_from_followed_creators(server):
    me, token = server.signup(country="DE")
    followed = [server.signup(country=c)[0] for c in ("US", "JP", "NO")]
    stranger, _ = server.signup(country="US")
    made = []
    for round_ in range(3):
        for u in followed:
            made.append(make_video(server, u["id"], caption=f"r{round_}"))
        make_video(server, stranger["id"], caption="not followed")
    for u in followed:
        assert server.put(f"/api/v1/users/{u['id']}/follow", token=token).status_code == 204
    late = []

    def post_between_pages(page):
        if page == 1:
            late.append(make_video(server, followed[0]["id"], caption="late"))

    items = page_through(server, "/api/v1/feed/following", token=token, limit=4,
                         on_page=post_between_pages)
    ids = [v["id"] for v in items]
    assert ids == list(reversed(made)), "newest first, all regions, no gaps or repeats"
    assert all(v["creator"]["id"] != stranger["id"] for v in items)
    assert server.get("/api/v1/feed/following?limit=1", token=token).json()["items"][0]["id"] \
        == late[0]
    assert_problem(server.get("/api/v1/feed/following"), 401)
    lonely, ltoken = server.signup()
    assert server.get("/api/v1/feed/following", token=ltoken).json() == \
        {"items": [], "next_cursor": None}


def test_popular_baseline_minus_seen(reel_factory):
    server = reel_factory()
    creators = [server.signup(country=c) for c in ("DE", "US", "JP")]
    fans = [server.signup(country=c)[1] for c in ("DE", "US", "JP", "FR")]
    videos = []
    for (u, _) in creators:
        videos += make_videos(server, u["id"], 2, caption="v{i}")
    # Engagement: video k gets k likes.
    for k, vid in enumerate(videos):
        for token in fans[:k % 5]:
            server.put(f"/api/v1/videos/{vid}/like", token=token)
    viewer, vtoken = server.signup(country="DE")
    own = make_video(server, viewer["id"], caption="my own")
    server.put(f"/api/v1/videos/{own}/like", token=fans[0])
    likes = {vid: server.get(f"/api/v1/videos/{vid}").json()["likes"] for vid in videos}

    first = server.get("/api/v1/feed/popular?limit=3", token=vtoken).json()
    ids = [v["id"] for v in first["items"]]
    assert len(ids) == 3
    assert own not in ids, "not the viewer's own videos"
    ranked = sorted(videos, key=lambda v: -likes[v])
    assert [likes[v] for v in ids] == [likes[v] for v in ranked[:3]], "most engaged first"

    # What was served is not served again.
    second = [v["id"] for v in server.get("/api/v1/feed/popular?limit=3",
                                          token=vtoken).json()["items"]]
    assert not set(second) & set(ids)

    # What the client reports as shown (impressions) is excluded too, and that
    # survives a restart (rebuilt from the event log).
    other, otoken = server.signup(country="US")
    shown = ranked[:2]
    r = server.post("/api/v1/events", token=otoken,
                    json={"events": [{"type": "impression", "video_id": v} for v in shown]})
    assert r.status_code == 202
    server.restart()
    got = [v["id"] for v in server.get("/api/v1/feed/popular?limit=100",
                                       token=otoken).json()["items"]]
    assert not set(got) & set(shown)
    assert set(got) == set(videos + [own]) - set(shown)
    # Anonymous: the plain popular list.
    anon = [v["id"] for v in server.get("/api/v1/feed/popular?limit=2").json()["items"]]
    assert [likes.get(v, 1) for v in anon] == sorted([likes.get(v, 1) for v in anon],
                                                     reverse=True)
    assert_problem(server.get("/api/v1/feed/popular?limit=500", token=vtoken), 400, "limit")


def test_popular_ranking_follows_engagement_within_a_second(reel_factory):
    """The popular ranking is shared between requests and refreshed by a
    thread about every second (feed.c): new engagement moves it soon after,
    without a restart."""
    server = reel_factory()
    creator, _ = server.signup(country="DE")
    fans = [server.signup(country="DE")[1] for _ in range(3)]
    videos = make_videos(server, creator["id"], 3, caption="p{i}")
    for token in fans[:2]:
        server.put(f"/api/v1/videos/{videos[0]}/like", token=token)
    first = [v["id"] for v in server.get("/api/v1/feed/popular?limit=3").json()["items"]]
    assert first[0] == videos[0]
    for token in fans:
        server.put(f"/api/v1/videos/{videos[2]}/like", token=token)
    deadline = time.monotonic() + 5
    while True:
        top = server.get("/api/v1/feed/popular?limit=3").json()["items"][0]["id"]
        if top == videos[2] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert top == videos[2], "three likes lead the ranking once it is refreshed"
