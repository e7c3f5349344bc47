"""Videos as records (API.md "Videos"): read, delete, list a user's."""
import pytest

from conftest import assert_problem
from social_helpers import make_video, make_videos, page_through


def test_get_video_shape_and_hashtags(server):
    user, token = server.signup(country="DE")
    vid = make_video(server, user["id"], caption="Sunset over #Dublin with #Friends #dublin",
                     duration_ms=21000)
    r = server.get(f"/api/v1/videos/{vid}")
    assert r.status_code == 200, r.text
    v = r.json()
    for key in ("id", "creator", "caption", "hashtags", "duration_ms", "width", "height",
                "status", "renditions", "thumbnail_url", "likes", "comments", "shares", "views",
                "created_at"):
        assert key in v, key
    assert v["id"] == vid
    assert v["creator"]["id"] == user["id"] and v["creator"]["username"] == user["username"]
    assert v["caption"] == "Sunset over #Dublin with #Friends #dublin"
    assert v["hashtags"] == ["dublin", "friends"]
    assert v["duration_ms"] == 21000 and v["status"] == "ready"
    assert v["likes"] == v["comments"] == v["shares"] == v["views"] == 0
    assert "liked_by_me" not in v, "anonymous readers get no liked_by_me"
    assert server.get(f"/api/v1/videos/{vid}", token=token).json()["liked_by_me"] is False
    # The creator's public video counter moved with the record.
    assert server.get(f"/api/v1/users/{user['id']}").json()["videos"] == 1


def test_get_video_errors(server):
    assert_problem(server.get("/api/v1/videos/not-an-id"), 400, "id")
    assert_problem(server.get("/api/v1/videos/0123"), 400, "id")
    assert_problem(server.get("/api/v1/videos/148056038008356864"), 404)


def test_delete_video_creator_only(server):
    owner, owner_token = server.signup(country="US")
    other, other_token = server.signup(country="DE")
    vid = make_video(server, owner["id"], caption="mine #keep")
    assert_problem(server.delete(f"/api/v1/videos/{vid}"), 401)
    assert_problem(server.delete(f"/api/v1/videos/{vid}", token=other_token), 403)
    assert server.get(f"/api/v1/videos/{vid}").status_code == 200
    assert server.delete(f"/api/v1/videos/{vid}", token=owner_token).status_code == 204
    assert_problem(server.get(f"/api/v1/videos/{vid}"), 404)
    assert_problem(server.delete(f"/api/v1/videos/{vid}", token=owner_token), 404)
    assert server.get(f"/api/v1/users/{owner['id']}").json()["videos"] == 0
    # Gone from its hashtag too.
    assert server.get("/api/v1/hashtags/keep/videos").json()["items"] == []


def test_user_videos_newest_first_paginated_while_new_rows_arrive(server):
    user, _ = server.signup(country="JP")
    first = make_videos(server, user["id"], 7, caption="clip {i}")
    added = []

    def add_between_pages(page):
        if page <= 2:
            added.extend(make_videos(server, user["id"], 2, caption=f"late {page}.{{i}}"))

    items = page_through(server, f"/api/v1/users/{user['id']}/videos", limit=3,
                         on_page=add_between_pages)
    ids = [v["id"] for v in items]
    assert len(ids) == len(set(ids)), "no duplicates"
    # Newest first; the rows added while paging are newer than the first page,
    # so they are not in this walk, and nothing older was skipped.
    assert ids == list(reversed(first))
    fresh = [v["id"] for v in server.get(f"/api/v1/users/{user['id']}/videos?limit=100")
             .json()["items"]]
    assert fresh == list(reversed(first + added))


def test_user_videos_errors(server):
    user, _ = server.signup()
    assert_problem(server.get("/api/v1/users/148056038008356864/videos"), 404)
    assert_problem(server.get(f"/api/v1/users/{user['id']}/videos?limit=0"), 400, "limit")
    assert_problem(server.get(f"/api/v1/users/{user['id']}/videos?limit=101"), 400, "limit")
    assert_problem(server.get(f"/api/v1/users/{user['id']}/videos?limit=x"), 400, "limit")
    assert_problem(server.get(f"/api/v1/users/{user['id']}/videos?cursor=garbage"), 400, "cursor")
    # A cursor of another list is refused too.
    fan, token = server.signup()
    for _ in range(2):
        star, _ = server.signup()
        assert server.put(f"/api/v1/users/{star['id']}/follow", token=token).status_code == 204
    follows_cursor = server.get(f"/api/v1/users/{fan['id']}/following?limit=1").json()["next_cursor"]
    assert follows_cursor
    assert_problem(server.get(f"/api/v1/users/{user['id']}/videos?cursor={follows_cursor}"), 400,
                   "cursor")
    page = server.get(f"/api/v1/users/{user['id']}/videos").json()
    assert page == {"items": [], "next_cursor": None}
