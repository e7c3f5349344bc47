"""`reel seed` makes real demo media through the upload path: every seeded
video is ready with renditions the server serves; --if-empty leaves a data
directory with users alone (what `make run` relies on); seeding media
refuses to run beside a live server, records-only seeding does not."""
import json
import subprocess

from conftest import REEL_BIN, Reel
from media_helpers import ffprobe, needs_ffmpeg

pytestmark = needs_ffmpeg


def seed(s, *args):
    return subprocess.run([REEL_BIN, "seed", "--config", str(s.config_path), "--data",
                           str(s.data), *args], capture_output=True, text=True, timeout=600)


def test_seeded_videos_are_real_and_playable(tmp_path):
    s = Reel(tmp_path / "seeded")
    r = seed(s, "--users", "3", "--videos", "3", "--max-seconds", "6", "--seed", "11", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["users"]) == 3 and len(out["videos"]) == 3

    # Again on a directory that has users: nothing happens.
    r = seed(s, "--if-empty")
    assert r.returncode == 0, r.stderr
    assert "already has users" in r.stdout

    s.start()
    try:
        shapes = set()
        for vid in out["videos"]:
            video = s.get(f"/api/v1/videos/{vid}").json()
            assert video["status"] == "ready", video
            assert 5000 - 100 <= video["duration_ms"] <= 6000 + 100
            assert [x["name"] for x in video["renditions"]] == ["720p", "360p"]
            shapes.add((video["width"], video["height"]))
            for rendition in video["renditions"]:
                r = s.get(rendition["url"])
                assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4"
            path = s.data / "sites" / _site(video) / "media" / vid / "720.mp4"
            streams = ffprobe(path)["streams"]
            assert streams[0]["codec_name"] == "h264"
            assert s.get(video["thumbnail_url"]).status_code == 200
        feed = s.get("/api/v1/feed/foryou?limit=10").json()["items"]
        assert {v["id"] for v in feed} == set(out["videos"]), "the feed opens on the seeded clips"

        # Beside the running server: media seeding refuses, records do not.
        r = seed(s, "--users", "1", "--videos", "1")
        assert r.returncode == 1 and "running" in r.stderr
        r = seed(s, "--users", "1", "--videos", "2", "--no-media", "--json")
        assert r.returncode == 0, r.stderr
        for vid in json.loads(r.stdout)["videos"]:
            assert s.get(f"/api/v1/videos/{vid}").json()["renditions"] == []
    finally:
        assert s.stop() == 0


def _site(video):
    return {"eu": "eu-ie", "us": "us-va", "intl": "intl-ch"}[video["creator"]["home_region"]]


def test_seed_usage_errors(tmp_path):
    s = Reel(tmp_path / "bad")
    for args in (["--max-seconds", "4"], ["--max-seconds", "31"], ["--preset", "warp"]):
        r = seed(s, *args)
        assert r.returncode == 2, (args, r.stderr)
