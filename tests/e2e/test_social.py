"""Social graph and reactions (API.md "Social"), and where their records live."""
import sqlite3

import pytest

from conftest import assert_problem
from social_helpers import make_video, make_videos, page_through

SITES = {"eu": "eu-ie", "us": "us-va", "intl": "intl-ch"}


def db_rows(server, region, sql, *args):
    con = sqlite3.connect(f"file:{server.site_dir(SITES[region]) / 'reel.db'}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def user(server, uid):
    return server.get(f"/api/v1/users/{uid}").json()


def video(server, vid, token=None):
    r = server.get(f"/api/v1/videos/{vid}", token=token)
    assert r.status_code == 200, r.text
    return r.json()


# ---- follows ------------------------------------------------------------------

def test_follow_unfollow_idempotent_with_counters(server):
    a, ta = server.signup(country="DE")
    b, _ = server.signup(country="US")
    for _ in range(2):
        assert server.put(f"/api/v1/users/{b['id']}/follow", token=ta).status_code == 204
    assert user(server, b["id"])["followers"] == 1
    assert user(server, a["id"])["following"] == 1
    for _ in range(2):
        assert server.delete(f"/api/v1/users/{b['id']}/follow", token=ta).status_code == 204
    assert user(server, b["id"])["followers"] == 0
    assert user(server, a["id"])["following"] == 0


def test_follow_errors(server):
    a, ta = server.signup()
    assert_problem(server.put(f"/api/v1/users/{a['id']}/follow", token=ta), 422, "id")
    assert_problem(server.put(f"/api/v1/users/{a['id']}/follow"), 401)
    assert_problem(server.put("/api/v1/users/148056038008356864/follow", token=ta), 404)
    assert_problem(server.put("/api/v1/users/abc/follow", token=ta), 400, "id")
    assert_problem(server.get("/api/v1/users/148056038008356864/followers"), 404)


def test_follow_record_lives_only_in_the_followers_region(server):
    eu, teu = server.signup(country="FR")
    us, _ = server.signup(country="US")
    assert server.put(f"/api/v1/users/{us['id']}/follow", token=teu).status_code == 204
    assert db_rows(server, "eu", "SELECT count(*) FROM follows WHERE follower_id = ?",
                   int(eu["id"])) == [(1,)]
    for region in ("us", "intl"):
        assert db_rows(server, region, "SELECT count(*) FROM follows WHERE follower_id = ?",
                       int(eu["id"])) == [(0,)]
    # The followee's counter is the US store's.
    assert db_rows(server, "us", "SELECT followers FROM users WHERE id = ?",
                   int(us["id"])) == [(1,)]


def test_followers_across_regions_paginated_while_new_rows_arrive(server):
    star, _ = server.signup(country="US")
    fans = []
    for country in ["DE", "US", "JP", "NO", "US", "BR", "IE"]:
        fan, token = server.signup(country=country)
        assert server.put(f"/api/v1/users/{star['id']}/follow", token=token).status_code == 204
        fans.append(fan["id"])
    late = []

    def follow_between_pages(page):
        if page <= 2:
            fan, token = server.signup(country=["DE", "JP"][page - 1])
            server.put(f"/api/v1/users/{star['id']}/follow", token=token)
            late.append(fan["id"])

    items = page_through(server, f"/api/v1/users/{star['id']}/followers", limit=2,
                         on_page=follow_between_pages)
    ids = [u["id"] for u in items]
    assert len(ids) == len(set(ids))
    assert ids == list(reversed(fans)), "newest follower first, every region, no gaps"
    all_now = [u["id"] for u in server.get(
        f"/api/v1/users/{star['id']}/followers?limit=100").json()["items"]]
    assert all_now == list(reversed(fans + late))
    assert user(server, star["id"])["followers"] == len(fans) + len(late)


def test_following_list(server):
    me, token = server.signup(country="JP")
    followed = []
    for country in ["DE", "US", "JP", "US"]:
        u, _ = server.signup(country=country)
        server.put(f"/api/v1/users/{u['id']}/follow", token=token)
        followed.append(u["id"])
    items = page_through(server, f"/api/v1/users/{me['id']}/following", limit=3)
    assert [u["id"] for u in items] == list(reversed(followed))


# ---- likes -------------------------------------------------------------------------

def test_like_unlike_idempotent(server):
    creator, _ = server.signup(country="DE")
    fan, token = server.signup(country="DE")
    vid = make_video(server, creator["id"])
    for _ in range(3):
        assert server.put(f"/api/v1/videos/{vid}/like", token=token).status_code == 204
    v = video(server, vid, token)
    assert v["likes"] == 1 and v["liked_by_me"] is True
    for _ in range(2):
        assert server.delete(f"/api/v1/videos/{vid}/like", token=token).status_code == 204
    v = video(server, vid, token)
    assert v["likes"] == 0 and v["liked_by_me"] is False


def test_like_errors(server):
    creator, _ = server.signup()
    _, token = server.signup()
    vid = make_video(server, creator["id"])
    assert_problem(server.put(f"/api/v1/videos/{vid}/like"), 401)
    assert_problem(server.delete(f"/api/v1/videos/{vid}/like"), 401)
    assert_problem(server.put("/api/v1/videos/148056038008356864/like", token=token), 404)
    assert_problem(server.put("/api/v1/videos/-5/like", token=token), 400, "id")
    assert_problem(server.put(f"/api/v1/videos/{vid}/like",
                              headers={"Authorization": "Bearer reel_nonsense"}), 401)


def test_eu_user_liking_us_video(server):
    us, _ = server.signup(country="US")
    eu, token = server.signup(country="DE")
    vid = make_video(server, us["id"], caption="from Virginia")
    assert server.put(f"/api/v1/videos/{vid}/like", token=token).status_code == 204
    # The like record: in the eu database only.
    assert db_rows(server, "eu", "SELECT count(*) FROM likes WHERE user_id = ? AND video_id = ?",
                   int(eu["id"]), int(vid)) == [(1,)]
    for region in ("us", "intl"):
        assert db_rows(server, region, "SELECT count(*) FROM likes WHERE user_id = ?",
                       int(eu["id"])) == [(0,)]
    # No trace of the EU user in the US store at all.
    assert db_rows(server, "us", "SELECT count(*) FROM users WHERE id = ?", int(eu["id"])) == [(0,)]
    # The counter lives with the video, in the us store, and reads right from
    # either side: the anonymous public view, the EU liker and the US creator.
    assert db_rows(server, "us", "SELECT likes FROM videos WHERE id = ?", int(vid)) == [(1,)]
    assert video(server, vid)["likes"] == 1
    assert video(server, vid, token)["likes"] == 1
    assert video(server, vid, token)["liked_by_me"] is True
    # Nothing left waiting in the outbox.
    assert db_rows(server, "eu", "SELECT count(*) FROM counter_outbox") == [(0,)]
    assert server.delete(f"/api/v1/videos/{vid}/like", token=token).status_code == 204
    assert db_rows(server, "us", "SELECT likes FROM videos WHERE id = ?", int(vid)) == [(0,)]


# ---- comments ------------------------------------------------------------------------

def test_comments_create_list_oldest_first_across_regions(server):
    creator, _ = server.signup(country="US")
    vid = make_video(server, creator["id"])
    posted = []
    authors = {}
    for i, country in enumerate(["DE", "US", "JP", "DE", "US"]):
        u, token = server.signup(country=country)
        r = server.post(f"/api/v1/videos/{vid}/comments", token=token, json={"text": f"c{i} ✓"})
        assert r.status_code == 201, r.text
        c = r.json()
        assert set(c) == {"id", "video_id", "author", "text", "created_at"}
        assert c["video_id"] == vid and c["author"]["id"] == u["id"] and c["text"] == f"c{i} ✓"
        posted.append(c["id"])
        authors[c["id"]] = (u, token, country)
    late = []

    def comment_between_pages(page):
        if page <= 2:
            u, token = server.signup(country=["JP", "DE"][page - 1])
            r = server.post(f"/api/v1/videos/{vid}/comments", token=token, json={"text": "late"})
            late.append(r.json()["id"])

    items = page_through(server, f"/api/v1/videos/{vid}/comments", limit=2,
                         on_page=comment_between_pages)
    ids = [c["id"] for c in items]
    assert len(ids) == len(set(ids))
    # Oldest first: what arrived while paging comes at the end, in order.
    assert ids == posted + late
    assert video(server, vid)["comments"] == len(posted) + len(late)
    # Each comment is stored in its author's region only.
    for cid, (u, _, country) in authors.items():
        home = {"DE": "eu", "US": "us", "JP": "intl"}[country]
        for region in SITES:
            want = [(1,)] if region == home else [(0,)]
            assert db_rows(server, region, "SELECT count(*) FROM comments WHERE id = ?",
                           int(cid)) == want


def test_comment_validation(server):
    creator, _ = server.signup()
    _, token = server.signup()
    vid = make_video(server, creator["id"])
    url = f"/api/v1/videos/{vid}/comments"
    assert_problem(server.post(url, json={"text": "hi"}), 401)
    assert_problem(server.post(url, token=token, json={"text": ""}), 422, "text")
    assert_problem(server.post(url, token=token, json={"text": "x" * 501}), 422, "text")
    assert server.post(url, token=token, json={"text": "é" * 500}).status_code == 201
    assert_problem(server.post(url, token=token, json={"text": "bell\x07"}), 422, "text")
    assert_problem(server.post(url, token=token, json={}), 400, "text")
    assert_problem(server.post(url, token=token, json={"text": 5}), 400, "text")
    assert_problem(server.post(url, token=token, json={"text": "a", "x": 1}), 400, "x")
    assert_problem(server.post(url, token=token, data="{nope"), 400)
    assert_problem(server.post("/api/v1/videos/148056038008356864/comments", token=token,
                               json={"text": "hi"}), 404)
    assert_problem(server.get("/api/v1/videos/148056038008356864/comments"), 404)


def test_comment_delete_rules(server):
    creator, creator_token = server.signup(country="DE")
    author, author_token = server.signup(country="US")
    stranger, stranger_token = server.signup(country="JP")
    vid = make_video(server, creator["id"])
    ids = []
    for i in range(3):
        r = server.post(f"/api/v1/videos/{vid}/comments", token=author_token, json={"text": f"{i}"})
        ids.append(r.json()["id"])
    assert_problem(server.delete(f"/api/v1/comments/{ids[0]}"), 401)
    assert_problem(server.delete(f"/api/v1/comments/{ids[0]}", token=stranger_token), 403)
    assert server.delete(f"/api/v1/comments/{ids[0]}", token=author_token).status_code == 204
    assert server.delete(f"/api/v1/comments/{ids[1]}", token=creator_token).status_code == 204
    assert_problem(server.delete(f"/api/v1/comments/{ids[1]}", token=creator_token), 404)
    assert_problem(server.delete("/api/v1/comments/bad", token=creator_token), 400, "id")
    remaining = [c["id"] for c in server.get(f"/api/v1/videos/{vid}/comments").json()["items"]]
    assert remaining == [ids[2]]
    assert video(server, vid)["comments"] == 1


# ---- shares ---------------------------------------------------------------------------

def test_shares(server):
    creator, _ = server.signup(country="US")
    _, token = server.signup(country="DE")
    vid = make_video(server, creator["id"])
    for _ in range(2):
        r = server.post(f"/api/v1/videos/{vid}/shares", token=token)
        assert r.status_code == 201, r.text
        assert r.json()["video_id"] == vid
    assert video(server, vid)["shares"] == 2
    assert_problem(server.post(f"/api/v1/videos/{vid}/shares"), 401)
    assert_problem(server.post("/api/v1/videos/148056038008356864/shares", token=token), 404)


# ---- deleted videos and invisible ones ------------------------------------------------------

def test_deleted_video_refuses_reactions(server):
    creator, ctoken = server.signup()
    _, token = server.signup()
    vid = make_video(server, creator["id"])
    assert server.delete(f"/api/v1/videos/{vid}", token=ctoken).status_code == 204
    assert_problem(server.put(f"/api/v1/videos/{vid}/like", token=token), 404)
    assert_problem(server.post(f"/api/v1/videos/{vid}/comments", token=token,
                               json={"text": "hi"}), 404)
    assert_problem(server.post(f"/api/v1/videos/{vid}/shares", token=token), 404)
