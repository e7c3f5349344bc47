"""Media replication within borders (issue 6, part 3): a region's published
media is copied to each of its replica sites before the video is marked
ready, and to no other region's site; deletions reach the replicas; a
start-up check repairs a replica that missed copies or deletions; after
`reel site promote` the promoted site serves every ready video and takes
the new uploads, copying them to the former primary."""
import filecmp
import os
import shutil
import subprocess

from conftest import REEL_BIN
from media_helpers import (MEDIA_OVERRIDES, make_clip, media_entries, needs_ffmpeg, published,
                           upload, wait_status)

pytestmark = needs_ffmpeg

FILES = ["360.mp4", "720.mp4", "result.json", "thumb.jpg"]


def same_media(s, a, b, video_id):
    da, db = (s.site_dir(x) / "media" / video_id for x in (a, b))
    match, mismatch, errors = filecmp.cmpfiles(da, db, FILES, shallow=False)
    return sorted(match) == FILES and not mismatch and not errors


def ready_video(s, token, path):
    video = upload(s, token, path).json()
    video = wait_status(s, token, video["id"])
    assert video["status"] == "ready", video
    return video["id"]


def test_media_replicated_repaired_and_served_after_promotion(reel_factory, tmp_path):
    s = reel_factory(overrides=MEDIA_OVERRIDES)
    _, eu = s.signup(country="FR")
    _, us = s.signup(country="US")
    clip = make_clip(tmp_path / "c.mp4", 360, 640, 1.0)
    a = ready_video(s, eu, clip)
    b = ready_video(s, eu, clip)
    c = ready_video(s, eu, clip)
    u = ready_video(s, us, clip)

    # Within borders: each region's sites, and only those.
    for v in (a, b, c):
        assert same_media(s, "eu-ie", "eu-no", v)
        for other in ("us-va", "sg", "intl-ch"):
            assert published(s, other, v) == []
    assert same_media(s, "us-va", "sg", u)
    assert published(s, "eu-ie", u) == [] and published(s, "eu-no", u) == []

    # A deletion reaches the replica.
    assert s.delete(f"/api/v1/videos/{c}", token=eu).status_code == 204
    assert published(s, "eu-no", c) == []

    # The replica misses a copy, holds a damaged one and keeps a video the
    # primary deleted while it was away; the next start repairs all three.
    assert s.stop() == 0
    replica = s.site_dir("eu-no") / "media"
    shutil.rmtree(replica / a)
    with open(replica / b / "720.mp4", "r+b") as f:
        f.truncate(1000)
    shutil.copytree(s.site_dir("eu-ie") / "media" / b, replica / "148000000000000001")
    s.start()
    assert same_media(s, "eu-ie", "eu-no", a) and same_media(s, "eu-ie", "eu-no", b)
    assert not (replica / "148000000000000001").exists()
    assert "media_replica_synced" in s.logs()

    # Failover: the primary site is lost; the replica is promoted and serves.
    served = {v: s.get(f"/media/{v}/720.mp4").content for v in (a, b)}
    assert s.stop() == 0
    shutil.rmtree(s.site_dir("eu-ie") / "media")
    r = subprocess.run([REEL_BIN, "site", "promote", "eu-no", "--config", str(s.config_path),
                        "--data", str(s.data)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    s.start()
    for v, data in served.items():
        r = s.get(f"/media/{v}/720.mp4")
        assert r.status_code == 200 and r.content == data
        video = s.get(f"/api/v1/videos/{v}").json()
        assert video["status"] == "ready"
        for rendition in video["renditions"]:
            assert s.get(rendition["url"]).status_code == 200
    # The former primary is now the replica: brought back by the start-up
    # check, and new uploads land on eu-no first and are copied to eu-ie.
    for v in (a, b):
        assert same_media(s, "eu-no", "eu-ie", v)
    d = ready_video(s, eu, clip)
    assert same_media(s, "eu-no", "eu-ie", d)
    assert s.delete(f"/api/v1/videos/{d}", token=eu).status_code == 204
    assert published(s, "eu-no", d) == [] and published(s, "eu-ie", d) == []
    for site in ("eu-ie", "eu-no"):
        assert not [e for e in media_entries(s, site) if e.startswith(".")]
    assert sorted(os.listdir(s.site_dir("eu-no") / "media")) == sorted(
        [".incoming", ".trash", ".uploads", ".work", a, b])
