"""Engagement events (API.md "Engagement events"): validation, storage in the
user's home region log, server-side events, and durability across SIGKILL."""
import threading
import time

import pytest
import requests

from conftest import assert_problem
from social_helpers import dump_events, make_video


def post(server, token, events):
    return server.post("/api/v1/events", token=token, json={"events": events})


def test_batch_is_stored_with_server_fields(server):
    creator, _ = server.signup(country="US")
    viewer, token = server.signup(country="DE")
    vid = make_video(server, creator["id"], duration_ms=12345)
    before = len(dump_events(server, "eu"))
    batch = [{"type": "impression", "video_id": vid},
             {"type": "play", "video_id": vid},
             {"type": "watch", "video_id": vid, "watched_ms": 30000, "at": "2020-01-01T00:00:00Z"},
             {"type": "skip", "video_id": vid, "watched_ms": 700},
             {"type": "not_interested", "video_id": vid, "at": "2999-01-01T00:00:00Z"}]
    r = post(server, token, batch)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 5}
    events = dump_events(server, "eu")[before:]
    mine = [e for e in events if e["user_id"] == viewer["id"]]
    assert [e["type"] for e in mine] == ["impression", "play", "watch", "skip", "not_interested"]
    offsets = [e["offset"] for e in mine]
    assert offsets == list(range(offsets[0], offsets[0] + 5)), "a batch is contiguous"
    for e in mine:
        assert e["video_id"] == vid
        assert e["creator_id"] == creator["id"], "filled from the video record"
        assert e["duration_ms"] == 12345
    assert mine[2]["watched_ms"] == 30000 and mine[3]["watched_ms"] == 700
    # Times are clamped: a year-2020 time to the oldest allowed, the future to now.
    assert mine[2]["at"] > "2020-01-02" and mine[4]["at"] <= mine[4]["ingest"]
    # Personal data stays home: nothing of this EU user in the other logs.
    for region in ("us", "intl"):
        assert not [e for e in dump_events(server, region) if e["user_id"] == viewer["id"]]


def test_invalid_events_reject_the_whole_batch(server):
    creator, ctoken = server.signup(country="DE")
    _, token = server.signup(country="DE")
    vid = make_video(server, creator["id"])
    gone = make_video(server, creator["id"])
    assert server.delete(f"/api/v1/videos/{gone}", token=ctoken).status_code == 204
    good = {"type": "watch", "video_id": vid, "watched_ms": 1000}
    before = len(dump_events(server, "eu"))

    body = assert_problem(post(server, token, [good, {"type": "teleport", "video_id": vid},
                                               good, {"type": "watch", "video_id": vid,
                                                      "watched_ms": -1}]), 400)
    fields = [e["field"] for e in body["errors"]]
    assert fields == ["events[1].type", "events[3].watched_ms"]

    body = assert_problem(post(server, token, [good, {"type": "play",
                                                      "video_id": "148056038008356864"}]), 400)
    assert [e["field"] for e in body["errors"]] == ["events[1].video_id"]
    assert_problem(post(server, token, [{"type": "play", "video_id": gone}]), 400,
                   "events[0].video_id")
    assert_problem(post(server, token, [{"type": "watch", "video_id": vid}]), 400,
                   "events[0].watched_ms")
    assert_problem(post(server, token, [{"type": "play", "video_id": 12}]), 400,
                   "events[0].video_id")
    assert_problem(post(server, token, [{"type": "play", "video_id": vid, "at": "yesterday"}]),
                   400, "events[0].at")
    assert_problem(post(server, token, [{"type": "play", "video_id": vid, "extra": 1}]), 400,
                   "events[0].extra")
    assert_problem(post(server, token, [{"type": "like", "video_id": vid}]), 400,
                   "events[0].type")
    assert_problem(post(server, token, ["play"]), 400, "events[0]")
    assert_problem(post(server, token, [{"type": "watch", "video_id": vid,
                                         "watched_ms": 1.5}]), 400, "events[0].watched_ms")
    # 501 events: too many for one batch.
    assert_problem(post(server, token, [good] * 501), 413, "events")
    assert_problem(post(server, token, []), 400, "events")
    assert_problem(server.post("/api/v1/events", token=token, json={"events": good}), 400,
                   "events")
    assert_problem(server.post("/api/v1/events", token=token, json={"evts": [good]}), 400)
    assert_problem(server.post("/api/v1/events", token=token, data="{\"events\": ["), 400)
    assert_problem(post(server, None, [good]), 401)
    # Nothing of any refused batch was stored.
    assert len(dump_events(server, "eu")) == before
    # And a good batch of exactly 500 is fine.
    r = post(server, token, [good] * 500)
    assert r.status_code == 202 and r.json() == {"accepted": 500}
    assert len(dump_events(server, "eu")) == before + 500


def test_body_limit(reel_factory):
    server = reel_factory(overrides={("limits", "events_max_body"): "2k",
                                     ("limits", "events_per_batch"): "3"})
    creator, _ = server.signup()
    _, token = server.signup()
    vid = make_video(server, creator["id"])
    ev = {"type": "play", "video_id": vid}
    assert post(server, token, [ev] * 3).status_code == 202
    assert_problem(post(server, token, [ev] * 4), 413, "events")
    assert_problem(post(server, token, [dict(ev, at="2026-01-01T00:00:00.000Z")] * 30), 413)


def test_server_appends_social_events_to_the_actors_log(server):
    creator, _ = server.signup(country="JP")
    actor, token = server.signup(country="US")
    vid = make_video(server, creator["id"], duration_ms=9000)
    before = len(dump_events(server, "us"))
    server.put(f"/api/v1/videos/{vid}/like", token=token)
    server.put(f"/api/v1/videos/{vid}/like", token=token)  # idempotent: no second event
    server.delete(f"/api/v1/videos/{vid}/like", token=token)
    server.post(f"/api/v1/videos/{vid}/shares", token=token)
    server.post(f"/api/v1/videos/{vid}/comments", token=token, json={"text": "hey"})
    server.put(f"/api/v1/users/{creator['id']}/follow", token=token)
    server.delete(f"/api/v1/users/{creator['id']}/follow", token=token)
    events = [e for e in dump_events(server, "us")[before:] if e["user_id"] == actor["id"]]
    assert [e["type"] for e in events] == ["like", "unlike", "share", "comment", "follow",
                                          "unfollow"]
    assert all(e["creator_id"] == creator["id"] for e in events)
    assert events[0]["video_id"] == vid and events[0]["duration_ms"] == 9000
    assert events[4]["video_id"] == "0"
    assert not [e for e in dump_events(server, "intl") if e["user_id"] == actor["id"]]


def test_acknowledged_batches_survive_sigkill(reel_factory):
    server = reel_factory()
    creator, _ = server.signup(country="DE")
    _, token = server.signup(country="DE")
    vid = make_video(server, creator["id"])
    acked, lock, stop = set(), threading.Lock(), threading.Event()
    counter = iter(range(1, 1_000_000))

    def client():
        http = requests.Session()
        while not stop.is_set():
            with lock:
                k = next(counter)
            body = {"events": [{"type": "watch", "video_id": vid, "watched_ms": k * 1000 + j}
                               for j in range(50)]}
            try:
                r = http.post(server.url("/api/v1/events"), json=body, timeout=10,
                              headers={"Authorization": "Bearer " + token})
            except requests.RequestException:
                return
            if r.status_code == 202:
                with lock:
                    acked.add(k)

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while len(acked) < 40 and time.time() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL, mid-stream
    stop.set()
    for t in threads:
        t.join()
    with lock:
        acknowledged = set(acked)
    assert len(acknowledged) >= 40, "the clients got some batches through"

    def check(events):
        batches = {}
        for e in events:
            assert e["type"] == "watch"
            batches.setdefault(e["watched_ms"] // 1000, []).append(e)
        for k, evs in batches.items():
            assert len(evs) == 50, f"batch {k} is half-written: {len(evs)} of 50"
            offsets = [e["offset"] for e in evs]
            assert offsets == list(range(offsets[0], offsets[0] + 50)), f"batch {k} split"
            assert [e["watched_ms"] % 1000 for e in evs] == list(range(50))
        missing = acknowledged - set(batches)
        assert not missing, f"acknowledged batches lost: {sorted(missing)[:10]}"
        return batches

    # Read-only, straight after the crash, then after recovery by a restart.
    check(dump_events(server, "eu"))
    server.start()
    stored = check(dump_events(server, "eu"))
    # The log goes on after recovery.
    r = post(server, token, [{"type": "play", "video_id": vid}])
    assert r.status_code == 202, r.text
    assert len(dump_events(server, "eu")) == 50 * len(stored) + 1


def test_plays_become_views(reel_factory):
    server = reel_factory()
    creator, _ = server.signup(country="US")
    eu, eu_token = server.signup(country="DE")
    jp, jp_token = server.signup(country="JP")
    vid = make_video(server, creator["id"])

    def views():
        return server.get(f"/api/v1/videos/{vid}").json()["views"]

    def wait_for(n):
        deadline = time.time() + 10
        while views() != n and time.time() < deadline:
            time.sleep(0.1)
        assert views() == n

    play = {"type": "play", "video_id": vid}
    assert post(server, eu_token, [play] * 3 + [{"type": "impression", "video_id": vid}]
                ).status_code == 202
    assert post(server, jp_token, [play] * 2).status_code == 202
    wait_for(5)  # plays from two regions' logs, counted on the US video
    # A clean restart neither loses nor repeats a count.
    server.restart()
    assert views() == 5
    assert post(server, eu_token, [play]).status_code == 202
    wait_for(6)
