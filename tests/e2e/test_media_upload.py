"""Uploads through POST /api/v1/videos end to end: sources of every shape,
with and without audio, at a variable frame rate, each ending `ready` with
renditions that ffprobe confirms (H.264/AAC, the ladder's sizes, the index
at the front, the source's duration within 100 ms); bad inputs each refused
with a clear 4xx naming the reason and nothing left on disk or in the store;
limits (size while streaming, duration, dimensions, daily quota)."""
import os
import socket
import time

import pytest

from conftest import Reel, assert_problem
from media_helpers import (MEDIA_OVERRIDES, claim_duration, ffprobe, frame_intervals,
                           make_audio_only, make_clip, make_image, media_entries, needs_ffmpeg,
                           published, top_level_boxes, upload, wait_status)

pytestmark = needs_ffmpeg


@pytest.fixture(scope="module")
def media_server(tmp_path_factory):
    s = Reel(tmp_path_factory.mktemp("media"), overrides=MEDIA_OVERRIDES).start()
    yield s
    code = s.stop()
    assert code == 0, f"reel exited {code}:\n{s.logs()[-4000:]}"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return {
        "landscape": make_clip(d / "landscape.mp4", 640, 360, 2.0, audio=True),
        "portrait": make_clip(d / "portrait.mp4", 360, 640, 2.0, audio=False),
        "square": make_clip(d / "square.mp4", 480, 480, 1.6, audio=True, faststart=True),
        "vfr": make_clip(d / "vfr.mp4", 360, 640, 2.4, audio=True, fps=30, vfr=True),
    }


CASES = [("landscape", True), ("portrait", False), ("square", True), ("vfr", True)]


@pytest.mark.parametrize("name,has_audio", CASES, ids=[c[0] for c in CASES])
def test_upload_ends_ready_with_checked_renditions(media_server, clips, name, has_audio):
    s = media_server
    user, token = s.signup(country="DE")
    source = clips[name]
    if name == "vfr":
        assert len(frame_intervals(source)) >= 2, "the source really has a variable frame rate"
    r = upload(s, token, source, caption=f"{name} clip #mediatest")
    assert r.status_code == 202, r.text
    video = r.json()
    assert video["status"] in ("processing", "ready")
    assert video["creator"]["id"] == user["id"]
    assert video["hashtags"] == ["mediatest"]
    assert r.headers["Location"] == f"/api/v1/videos/{video['id']}"

    video = wait_status(s, token, video["id"])
    assert video["status"] == "ready", video
    src = ffprobe(source)
    src_duration = float(src["format"]["duration"])
    src_video = next(st for st in src["streams"] if st["codec_type"] == "video")
    assert (video["width"], video["height"]) == (src_video["width"], src_video["height"])
    assert abs(video["duration_ms"] - src_duration * 1000) <= 100, (video, src_duration)
    assert [(x["name"], x["width"], x["height"]) for x in video["renditions"]] == [
        ("720p", 720, 1280), ("360p", 360, 640)]
    assert video["thumbnail_url"] == f"/media/{video['id']}/thumb.jpg"

    site = s.site_dir("eu-ie") / "media" / video["id"]
    for rendition in video["renditions"]:
        path = site / os.path.basename(rendition["url"])
        info = ffprobe(path)
        v = [st for st in info["streams"] if st["codec_type"] == "video"]
        a = [st for st in info["streams"] if st["codec_type"] == "audio"]
        assert len(v) == 1 and v[0]["codec_name"] == "h264", info
        assert (v[0]["width"], v[0]["height"]) == (rendition["width"], rendition["height"])
        if has_audio:
            assert len(a) == 1 and a[0]["codec_name"] == "aac", info
            assert a[0]["channels"] == 2
        else:
            assert a == [], "no audio track for a silent source"
        assert abs(float(info["format"]["duration"]) - src_duration) <= 0.1, (path, info["format"])
        boxes = top_level_boxes(path)
        assert boxes.index("moov") < boxes.index("mdat"), f"faststart: {boxes}"
        # served as published, byte for byte
        got = s.get(rendition["url"])
        assert got.status_code == 200
        assert got.headers["Content-Type"] == "video/mp4"
        assert got.content == path.read_bytes()
    if name == "vfr":
        assert len(frame_intervals(site / "720.mp4")) >= 2, "variable frame rate kept"
    thumb = s.get(video["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    assert thumb.content[:3] == b"\xff\xd8\xff"
    # nothing private left behind by the job; the replica holds the same files
    assert f"{video['id']}/result.json" in media_entries(s, "eu-ie")
    for site in ("eu-ie", "eu-no"):
        assert not [e for e in media_entries(s, site) if e.startswith(".")], media_entries(s, site)
    assert published(s, "eu-no", video["id"]) == published(s, "eu-ie", video["id"])


def _assert_nothing_left(s, user, token):
    for site in ("eu-ie", "eu-no"):
        for private in (".incoming", ".work", ".uploads", ".trash"):
            d = s.site_dir(site) / "media" / private
            assert not d.exists() or os.listdir(d) == [], (site, private, os.listdir(d))
    r = s.get(f"/api/v1/users/{user['id']}/videos", token=token)
    assert r.status_code == 200 and r.json()["items"] == [], "no record for a refused upload"


BAD = [
    ("text named .mp4", "notes.mp4", 422, "not-a-video"),
    ("truncated mp4", "truncated.mp4", 422, "truncated"),
    ("audio-only mp4", "audio.mp4", 422, "audio-only"),
    ("zero bytes", "empty.mp4", 422, "empty-file"),
    ("ten-hour header", "liar.mp4", 422, "inconsistent-header"),
    ("an image", "picture.mp4", 422, "image-not-video"),
]


@pytest.mark.parametrize("name,filename,status,slug", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_refused_with_the_reason_and_no_leftovers(media_server, tmp_path, name,
                                                              filename, status, slug):
    s = media_server
    user, token = s.signup(country="DE")
    path = tmp_path / filename
    if filename == "notes.mp4":
        path.write_text("these are my notes, not a video\n" * 40)
    elif filename == "truncated.mp4":
        whole = make_clip(tmp_path / "whole.mp4", 360, 640, 2.0, faststart=True)
        data = whole.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif filename == "audio.mp4":
        make_audio_only(path)
    elif filename == "empty.mp4":
        path.write_bytes(b"")
    elif filename == "liar.mp4":
        make_clip(path, 360, 640, 2.0)
        assert claim_duration(path, 10 * 3600) >= 3
        assert float(ffprobe(path)["format"]["duration"]) > 35000, "the header lies"
    elif filename == "picture.mp4":
        png = make_image(tmp_path / "picture.png")
        path.write_bytes(png.read_bytes())  # an image under a video's name
    before = media_entries(s, "eu-ie")
    r = upload(s, token, path)
    body = assert_problem(r, status)
    assert body["type"] == f"/problems/{slug}", body
    assert len(body["detail"]) > 10, body
    _assert_nothing_left(s, user, token)
    assert media_entries(s, "eu-ie") == before


def test_form_errors(media_server):
    s = media_server
    _, token = s.signup(country="DE")
    r = s.post("/api/v1/videos", token=token, json={"caption": "x"})
    assert_problem(r, 415)
    r = s.post("/api/v1/videos", token=token, files={"caption": (None, "only a caption")})
    body = assert_problem(r, 400)
    assert "file" in body["detail"]
    r = s.post("/api/v1/videos", files={"file": ("a.mp4", b"x")})
    assert_problem(r, 401)
    # a caption that breaks the rules: 422 naming the field, nothing kept
    r = s.post("/api/v1/videos", token=token, files={"file": ("a.mp4", b"\0" * 100)},
               data={"caption": "x" * 2201})
    assert_problem(r, 422, "caption")


def _raw_upload(s, token, declared, send, chunked=False):
    """Sends a multipart upload by hand: the headers declare `declared`
    bytes (or chunked), then `send` bytes of file follow. Returns (answer
    bytes, bytes sent before the server stopped taking them)."""
    host, port = s.base[len("http://"):].split(":")
    sock = socket.create_connection((host, int(port)))
    boundary = b"b0undary"
    head = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"big.mp4\"\r\nContent-Type: video/mp4\r\n\r\n")
    req = (b"POST /api/v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
           b"\r\nContent-Type: multipart/form-data; boundary=" + boundary + b"\r\n")
    req += b"Transfer-Encoding: chunked\r\n\r\n" if chunked else b"Content-Length: %d\r\n\r\n" % (
        len(head) + declared + len(boundary) + 8)
    sock.sendall(req)
    sent = 0
    piece = b"\0" * 65536
    try:
        for data in [head] + [piece] * (send // len(piece)):
            sock.sendall(b"%x\r\n" % len(data) + data + b"\r\n" if chunked else data)
            sent += len(data)
    except OSError:
        pass  # the server stopped reading and closed
    sock.settimeout(10)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    sock.close()
    return answer, sent


def test_limits_size_duration_dimensions(reel_factory, tmp_path):
    s = reel_factory(overrides={**MEDIA_OVERRIDES, ("media", "max_upload_bytes"): "1m",
                                ("media", "max_duration"): "3s", ("media", "max_dimension"): "1000"})
    user, token = s.signup(country="DE")

    # Declared larger than the limit: 413 before the body is read. The
    # client sends a first megabyte only and gets the answer: the server
    # did not wait for the other 39.
    answer, sent = _raw_upload(s, token, declared=40 << 20, send=1 << 20)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"too-large" in answer or b"Content-Length" in answer

    # A chunked body (no declared size) crossing the limit: the server stops
    # taking it long before the 64 MiB are sent and closes the connection.
    answer, sent = _raw_upload(s, token, declared=0, send=64 << 20, chunked=True)
    assert sent < 32 << 20, f"the server kept reading ({sent} bytes)"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413"), answer[:200]

    # Just over the limit with a declared size within the form's allowance:
    # the form stops the file at the limit and answers 413 with the reason.
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom((1 << 20) + 1000))
    r = upload(s, token, big)
    body = assert_problem(r, 413)
    assert body["type"] == "/problems/too-large"
    assert "1048576" in body["detail"]

    long_clip = make_clip(tmp_path / "long.mp4", 160, 288, 4.5, audio=False, fps=10)
    r = upload(s, token, long_clip)
    body = assert_problem(r, 422)
    assert body["type"] == "/problems/too-long", body

    wide = make_clip(tmp_path / "wide.mp4", 1280, 720, 0.5, audio=False, fps=10)
    r = upload(s, token, wide)
    body = assert_problem(r, 422)
    assert body["type"] == "/problems/bad-dimensions", body
    _assert_nothing_left(s, user, token)


def test_daily_quota(reel_factory, tmp_path):
    s = reel_factory(overrides={**MEDIA_OVERRIDES, ("media", "daily_quota_videos"): "2",
                                ("media", "daily_quota_bytes"): "300k"})
    user, token = s.signup(country="DE")
    clip = make_clip(tmp_path / "c.mp4", 160, 288, 1.0, audio=False, fps=10)
    assert os.path.getsize(clip) < 100 * 1024
    for _ in range(2):
        assert upload(s, token, clip).status_code == 202
    r = upload(s, token, clip)
    body = assert_problem(r, 429)
    assert body["type"] == "/problems/quota-exceeded"
    assert "00:00 UTC" in body["detail"]
    assert 0 < int(r.headers["Retry-After"]) <= 86400
    # The byte quota: a resumable upload declaring more than is left is
    # refused at creation, before any byte is sent.
    _, other = s.signup(country="DE")
    r = s.post("/api/v1/uploads", token=other, json={"size": 400 * 1024})
    body = assert_problem(r, 429)
    assert "quota" in body["detail"]
    # Another user is not affected by the first user's count.
    assert upload(s, other, clip).status_code == 202
    for v in s.get(f"/api/v1/users/{user['id']}/videos", token=token).json()["items"]:
        assert wait_status(s, token, v["id"])["status"] == "ready"
