"""GET/HEAD /media/{video_id}/{file}: byte ranges (first byte, middle,
suffix, past the end), HEAD, validators and conditional requests, the
served names only; a video not ready, deleted or erased is not served and
its files are gone from every site; a restart in the middle of a job
resumes it and leaves no orphan files."""
import os
import signal
import subprocess
import time

import pytest

from conftest import REEL_BIN, Reel, assert_problem
from media_helpers import (MEDIA_OVERRIDES, make_clip, media_entries, needs_ffmpeg, published,
                           upload, wait_status)

pytestmark = needs_ffmpeg


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server with one ready video: (server, token, video, bytes of 720.mp4)."""
    s = Reel(tmp_path_factory.mktemp("serving"), overrides=MEDIA_OVERRIDES).start()
    _, token = s.signup(country="DE")
    clip = make_clip(tmp_path_factory.mktemp("clip") / "c.mp4", 360, 640, 2.0)
    video = upload(s, token, clip).json()
    video = wait_status(s, token, video["id"])
    assert video["status"] == "ready", video
    data = (s.site_dir("eu-ie") / "media" / video["id"] / "720.mp4").read_bytes()
    yield s, token, video, data
    code = s.stop()
    assert code == 0, f"reel exited {code}:\n{s.logs()[-4000:]}"


def test_whole_file_and_validators(served):
    s, _, video, data = served
    url = f"/media/{video['id']}/720.mp4"
    r = s.get(url)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert int(r.headers["Content-Length"]) == len(data)
    etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    # HEAD: the same headers, no body
    h = s.request("HEAD", url)
    assert h.status_code == 200 and h.content == b""
    assert int(h.headers["Content-Length"]) == len(data) and h.headers["ETag"] == etag
    # conditional requests
    r = s.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"] == etag
    r = s.get(url, headers={"If-None-Match": '"something-else"'})
    assert r.status_code == 200
    r = s.get(url, headers={"If-Modified-Since": modified})
    assert r.status_code == 304
    # If-Range with a stale validator: the whole file
    r = s.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status_code == 200 and r.content == data
    r = s.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert r.status_code == 206 and r.content == data[:10]


RANGES = [
    ("first byte", "bytes=0-0", 0, 1),
    ("middle", "bytes=1000-2999", 1000, 2000),
    ("open end", "bytes=5000-", 5000, None),
    ("suffix", "bytes=-500", None, 500),
]


@pytest.mark.parametrize("name,header,start,length", RANGES, ids=[r[0] for r in RANGES])
def test_ranges(served, name, header, start, length):
    s, _, video, data = served
    size = len(data)
    if start is None:
        start = size - length
    if length is None:
        length = size - start
    r = s.get(f"/media/{video['id']}/720.mp4", headers={"Range": header})
    assert r.status_code == 206, r.text
    assert r.content == data[start:start + length]
    assert r.headers["Content-Range"] == f"bytes {start}-{start + length - 1}/{size}"
    assert int(r.headers["Content-Length"]) == length
    h = s.request("HEAD", f"/media/{video['id']}/720.mp4", headers={"Range": header})
    assert h.status_code == 206 and h.content == b""
    assert h.headers["Content-Range"] == r.headers["Content-Range"]


def test_range_past_the_end_is_416(served):
    s, _, video, data = served
    size = len(data)
    for header in (f"bytes={size}-", f"bytes={size + 100}-{size + 200}"):
        r = s.get(f"/media/{video['id']}/720.mp4", headers={"Range": header})
        assert_problem(r, 416)
        assert r.headers["Content-Range"] == f"bytes */{size}"
    # malformed or multiple ranges are ignored: the whole file
    for header in ("bytes=abc", "items=0-1", "bytes=0-1,5-6"):
        r = s.get(f"/media/{video['id']}/720.mp4", headers={"Range": header})
        assert r.status_code == 200 and len(r.content) == size


def test_only_layout_names_and_ready_videos(served):
    s, token, video, _ = served
    vid = video["id"]
    assert s.get(f"/media/{vid}/thumb.jpg").headers["Content-Type"] == "image/jpeg"
    assert s.get(f"/media/{vid}/360.mp4").status_code == 200
    for path in (f"/media/{vid}/result.json", f"/media/{vid}/source", f"/media/{vid}/1080.mp4",
                 f"/media/{vid}/..", f"/media/{vid}/%2e%2e%2fresult.json", "/media/abc/720.mp4",
                 "/media/0/720.mp4", f"/media/{int(vid) + 1}/720.mp4", f"/media/{vid}/720.MP4"):
        r = s.get(path)
        assert r.status_code == 404, (path, r.status_code)
    # A record without media (reel seed --no-media style) has nothing to serve.
    out = subprocess.run([REEL_BIN, "seed", "--config", str(s.config_path), "--data",
                          str(s.data), "--creator", video["creator"]["id"]],
                         capture_output=True, text=True, check=True).stdout
    import json
    other = json.loads(out)["videos"][0]
    assert s.get(f"/media/{other}/720.mp4").status_code == 404


def test_not_ready_video_is_not_served(reel_factory, tmp_path):
    # One worker and a longer clip ahead of the one we look at: the second
    # is still processing (queued) when its media is asked for.
    s = reel_factory(overrides={("media", "workers"): "1", ("media", "x264_preset"): "veryfast"})
    _, token = s.signup(country="DE")
    slow = make_clip(tmp_path / "slow.mp4", 720, 1280, 6.0)
    quick = make_clip(tmp_path / "quick.mp4", 160, 288, 1.0)
    first = upload(s, token, slow).json()
    second = upload(s, token, quick).json()
    r = s.get(f"/api/v1/videos/{second['id']}", token=token)
    assert r.json()["status"] == "processing"
    assert s.get(f"/media/{second['id']}/720.mp4").status_code == 404
    assert s.get(f"/api/v1/videos/{second['id']}").status_code == 404, "others do not see it"
    for v in (first, second):
        assert wait_status(s, token, v["id"], timeout=180)["status"] == "ready"
    assert s.get(f"/media/{second['id']}/720.mp4").status_code == 200


def test_deleted_video_is_gone_everywhere(reel_factory, tmp_path):
    s = reel_factory(overrides=MEDIA_OVERRIDES)
    _, token = s.signup(country="DE")
    _, other = s.signup(country="DE")
    video = upload(s, token, make_clip(tmp_path / "c.mp4", 360, 640, 1.0)).json()
    assert wait_status(s, token, video["id"])["status"] == "ready"
    vid = video["id"]
    assert published(s, "eu-ie", vid) and published(s, "eu-no", vid)
    assert s.delete(f"/api/v1/videos/{vid}", token=other).status_code == 403
    assert s.get(f"/media/{vid}/720.mp4").status_code == 200
    assert s.delete(f"/api/v1/videos/{vid}", token=token).status_code == 204
    for name in ("720.mp4", "360.mp4", "thumb.jpg"):
        assert s.get(f"/media/{vid}/{name}").status_code == 404
    for site in ("eu-ie", "eu-no"):
        assert media_entries(s, site) == [], (site, media_entries(s, site))


def test_erasure_removes_media_everywhere(reel_factory, tmp_path):
    s = reel_factory(overrides=MEDIA_OVERRIDES)
    user, token = s.signup(country="US")
    video = upload(s, token, make_clip(tmp_path / "c.mp4", 360, 640, 1.0)).json()
    assert wait_status(s, token, video["id"])["status"] == "ready"
    assert published(s, "us-va", video["id"]) and published(s, "sg", video["id"])
    assert s.delete("/api/v1/me", token=token).status_code == 202
    assert s.stop() == 0
    r = subprocess.run([REEL_BIN, "purge", "--user", user["id"], "--config", str(s.config_path),
                        "--data", str(s.data)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for site in ("us-va", "sg"):
        assert media_entries(s, site) == [], (site, media_entries(s, site))
    s.start()
    assert s.get(f"/media/{video['id']}/720.mp4").status_code == 404


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_restart_during_a_job_resumes_it_without_orphans(reel_factory, tmp_path, how):
    s = reel_factory(overrides={("media", "workers"): "1", ("media", "x264_preset"): "veryfast"})
    user, token = s.signup(country="DE")
    video = upload(s, token, make_clip(tmp_path / "c.mp4", 720, 1280, 8.0)).json()
    out = s.site_dir("eu-ie") / "media" / ".work" / video["id"] / "out"
    deadline = time.time() + 60
    while time.time() < deadline and not (out.is_dir() and os.listdir(out)):
        time.sleep(0.05)
    assert out.is_dir() and os.listdir(out), "the job is writing its renditions"
    assert wait_status(s, token, video["id"], timeout=0)["status"] == "processing"
    if how == "SIGKILL":
        s.kill()
    else:
        assert s.stop() == 0
        source = s.site_dir("eu-ie") / "media" / ".work" / video["id"] / "source"
        assert source.is_file(), "shutdown shelves the job with its source"
    s.start()
    done = wait_status(s, token, video["id"], timeout=180)
    assert done["status"] == "ready", done
    assert abs(done["duration_ms"] - 8000) <= 100
    for site in ("eu-ie", "eu-no"):
        leftovers = [e for e in media_entries(s, site) if not e.startswith(video["id"] + "/")
                     and e != video["id"]]
        assert leftovers == [], (site, leftovers)
        assert published(s, site, video["id"]) == ["360.mp4", "720.mp4", "result.json",
                                                   "thumb.jpg"]
    assert "media_job_resumed" in s.logs()
