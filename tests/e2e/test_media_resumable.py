"""Resumable uploads (POST /api/v1/uploads, PATCH at Upload-Offset, HEAD,
finish, DELETE): a connection cut in the middle of a piece resumes from
the offset the server reports, the received file is identical (sha256) to
the source, offsets and owners are enforced, abandoned uploads expire."""
import os
import socket
import time

import pytest

from conftest import assert_problem
from media_helpers import (MEDIA_OVERRIDES, make_clip, media_entries, needs_ffmpeg, sha256,
                           wait_status)

pytestmark = needs_ffmpeg

OCTETS = {"Content-Type": "application/offset+octet-stream"}


def patch(s, url, token, offset, data):
    return s.patch(url, token=token, data=data, headers={**OCTETS, "Upload-Offset": str(offset)})


def cut_patch(s, url, token, offset, data, deliver):
    """A PATCH whose connection breaks after `deliver` of its bytes."""
    host, port = s.base[len("http://"):].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"PATCH {url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                 f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data[:deliver])
    time.sleep(0.3)
    sock.close()


def head_offset(s, url, token, expect=None, timeout=10):
    """The server's offset (HEAD); waits for `expect` while the cut request
    is still being wound up."""
    deadline = time.time() + timeout
    while True:
        r = s.request("HEAD", url, token=token)
        assert r.status_code == 200, r.status_code
        assert r.content == b""
        offset = int(r.headers["Upload-Offset"])
        if expect is None or offset == expect or time.time() > deadline:
            return offset
        time.sleep(0.1)


def test_cut_upload_resumes_and_is_identical(reel_factory, tmp_path):
    s = reel_factory(overrides=MEDIA_OVERRIDES)
    user, token = s.signup(country="DE")
    clip = make_clip(tmp_path / "clip.mp4", 480, 854, 3.0)
    data = clip.read_bytes()
    size = len(data)
    assert size > 300_000

    r = s.post("/api/v1/uploads", token=token,
               json={"size": size, "caption": "resumed #resume", "filename": "clip.mp4"})
    assert r.status_code == 201, r.text
    up = r.json()
    url = up["url"]
    assert url == f"/api/v1/uploads/{up['id']}" and r.headers["Location"] == url
    assert up["offset"] == 0 and up["size"] == size and up["filename"] == "clip.mp4"
    assert r.headers["Upload-Offset"] == "0"

    first = size // 3
    r = patch(s, url, token, 0, data[:first])
    assert r.status_code == 204, r.text
    assert r.headers["Upload-Offset"] == str(first)

    # The second piece breaks after 100 000 of its bytes.
    cut_patch(s, url, token, first, data[first:], deliver=100_000)
    offset = head_offset(s, url, token, expect=first + 100_000)
    assert offset == first + 100_000, "what arrived before the cut is kept"

    # Resuming from a stale offset is refused with the right one. The cut
    # request may still hold the upload for a moment after its bytes are in
    # (the server notices the broken connection later): a client retries the
    # 503 "upload-busy" after Retry-After, as this does.
    deadline = time.time() + 10
    while True:
        r = patch(s, url, token, first, data[first:])
        if r.status_code != 503 or time.time() > deadline:
            break
        assert r.json()["type"] == "/problems/upload-busy" and r.headers["Retry-After"]
        time.sleep(0.1)
    body = assert_problem(r, 409)
    assert int(r.headers["Upload-Offset"]) == offset and body["offset"] == offset
    assert body["type"] == "/problems/offset-mismatch"
    # Finishing early is refused too, naming the offset.
    r = s.post(url + "/finish", token=token)
    assert_problem(r, 409)
    assert int(r.headers["Upload-Offset"]) == offset

    r = patch(s, url, token, offset, data[offset:])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(size)
    # Nothing past the declared size.
    r = patch(s, url, token, size, b"x")
    assert_problem(r, 413)

    part = s.site_dir("eu-ie") / "media" / ".uploads" / f"{up['id']}.part"
    assert sha256(part) == sha256(clip), "the received file is the source, byte for byte"

    r = s.post(url + "/finish", token=token)
    assert r.status_code == 202, r.text
    video = r.json()
    assert video["caption"] == "resumed #resume" and video["hashtags"] == ["resume"]
    assert wait_status(s, token, video["id"])["status"] == "ready"
    assert s.request("HEAD", url, token=token).status_code == 404, "a finished upload is gone"
    assert not [e for e in media_entries(s, "eu-ie") if e.startswith(".")]


def test_owner_only_and_errors(reel_factory, tmp_path):
    s = reel_factory(overrides=MEDIA_OVERRIDES)
    _, alice = s.signup(country="DE")
    _, bob = s.signup(country="DE")
    r = s.post("/api/v1/uploads", token=alice, json={"size": 1000, "filename": "a.mp4"})
    url = r.json()["url"]
    for method, extra in [("HEAD", {}), ("GET", {}), ("DELETE", {}),
                          ("PATCH", {"data": b"x", "headers": {**OCTETS, "Upload-Offset": "0"}}),
                          ("POST", {})]:
        path = url + "/finish" if method == "POST" else url
        r = s.request(method, path, token=bob, **extra)
        assert r.status_code == 404, (method, r.status_code)
    assert head_offset(s, url, alice) == 0, "bob's requests changed nothing"
    r = s.request("HEAD", url)
    assert r.status_code == 401
    # Malformed requests
    r = s.patch(url, token=alice, data=b"x", headers={"Upload-Offset": "0"})
    assert_problem(r, 415)
    r = s.patch(url, token=alice, data=b"x", headers={**OCTETS})
    assert_problem(r, 400, "Upload-Offset")
    r = s.patch(url, token=alice, data=b"x", headers={**OCTETS, "Upload-Offset": "-1"})
    assert_problem(r, 400, "Upload-Offset")
    r = s.get("/api/v1/uploads/../../etc", token=alice)
    assert r.status_code == 404
    r = s.get("/api/v1/uploads/" + "z" * 32, token=alice)
    assert_problem(r, 404)
    for body, status, field in [({}, 400, "size"), ({"size": "10"}, 400, "size"),
                                ({"size": 0}, 422, "size"), ({"size": 10, "x": 1}, 400, "x"),
                                ({"size": 10, "caption": "c" * 2201}, 422, "caption"),
                                ({"size": 10, "filename": "f" * 300}, 422, "filename")]:
        assert_problem(s.post("/api/v1/uploads", token=alice, json=body), status, field)
    r = s.post("/api/v1/uploads", token=alice, json={"size": 600 * 1024 * 1024})
    body = assert_problem(r, 413)
    assert body["type"] == "/problems/too-large"
    # DELETE gives up an upload; its files go.
    r = s.delete(url, token=alice)
    assert r.status_code == 204
    assert s.request("HEAD", url, token=alice).status_code == 404
    assert os.listdir(s.site_dir("eu-ie") / "media" / ".uploads") == []


def test_finished_upload_that_is_not_a_video(reel_factory):
    s = reel_factory(overrides=MEDIA_OVERRIDES)
    user, token = s.signup(country="US")
    data = b"not a video at all\n" * 100
    url = s.post("/api/v1/uploads", token=token, json={"size": len(data)}).json()["url"]
    assert patch(s, url, token, 0, data).status_code == 204
    r = s.post(url + "/finish", token=token)
    body = assert_problem(r, 422)
    assert body["type"] == "/problems/not-a-video"
    assert s.get(f"/api/v1/users/{user['id']}/videos", token=token).json()["items"] == []
    assert not [e for e in media_entries(s, "us-va") if e.startswith(".")], "nothing left"


def test_abandoned_uploads_expire(reel_factory):
    s = reel_factory(overrides={**MEDIA_OVERRIDES, ("media", "upload_expiry"): "60s"})
    _, token = s.signup(country="DE")
    idle = s.post("/api/v1/uploads", token=token, json={"size": 100}).json()
    fresh = s.post("/api/v1/uploads", token=token, json={"size": 100}).json()
    assert patch(s, idle["url"], token, 0, b"x" * 10).status_code == 204
    uploads = s.site_dir("eu-ie") / "media" / ".uploads"
    assert len(os.listdir(uploads)) == 4
    # The idle one was last written to an hour ago.
    hour_ago = time.time() - 3600
    os.utime(uploads / f"{idle['id']}.part", (hour_ago, hour_ago))
    deadline = time.time() + 20
    while time.time() < deadline and len(os.listdir(uploads)) > 2:
        time.sleep(0.25)
    assert sorted(os.listdir(uploads)) == sorted([f"{fresh['id']}.part", f"{fresh['id']}.info"])
    assert s.request("HEAD", idle["url"], token=token).status_code == 404
    assert s.request("HEAD", fresh["url"], token=token).status_code == 200
