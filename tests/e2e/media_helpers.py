"""What the media end-to-end tests share: inputs made with the Debian `ffmpeg`
program (test code only — Reel itself uses libav), checks made with
`ffprobe` (an independent reader of what Reel wrote), uploads, and a look at
the media directories for leftovers."""
import hashlib
import json
import os
import pathlib
import shutil
import struct
import subprocess
import time

import pytest

HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg/ffprobe not installed")

# Quick transcodes: the ladder and its checks are the same at any preset.
MEDIA_OVERRIDES = {("media", "x264_preset"): "ultrafast", ("media", "workers"): "2"}


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_clip(path, width=360, height=640, seconds=2.0, audio=True, fps=25, vfr=False,
              faststart=False):
    """An H.264 (+ AAC) MP4 test pattern; with vfr, frame intervals vary."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    if vfr:
        # Keep every frame of some stretches and every other frame of others:
        # intervals of 1/fps and 2/fps, timestamps kept (variable frame rate).
        args += ["-vf", "select='lt(mod(n\\,20)\\,10)+not(mod(n\\,2))'", "-fps_mode", "vfr"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    if faststart:
        args += ["-movflags", "+faststart"]
    ffmpeg(*args, str(path))
    return path


def make_audio_only(path, seconds=2):
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}", "-c:a", "aac", str(path))
    return path


def make_image(path):
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=1", "-frames:v", "1", str(path))
    return path


def ffprobe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                          "-show_streams", str(path)], check=True, capture_output=True).stdout
    return json.loads(out)


def frame_intervals(path):
    """Distinct video frame durations (in ms, rounded) of a file."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts_time", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True).stdout
    pts = sorted(float(x) for x in out.split() if x and x != "N/A")
    return {round((b - a) * 1000) for a, b in zip(pts, pts[1:])}


def top_level_boxes(path):
    """Names of an MP4's top-level boxes, in file order."""
    names = []
    with open(path, "rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                return names
            size, name = struct.unpack(">I4s", head)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
                f.seek(size - 16, os.SEEK_CUR)
            elif size == 0:
                names.append(name.decode("latin-1"))
                return names
            else:
                f.seek(size - 8, os.SEEK_CUR)
            names.append(name.decode("latin-1"))


def claim_duration(path, seconds):
    """Rewrites the duration fields of mvhd, tkhd and mdhd so the header
    claims `seconds` over the data actually there (a lying header). Returns
    how many boxes were patched."""
    data = bytearray(pathlib.Path(path).read_bytes())
    patched = 0

    def walk(start, end):
        nonlocal patched
        pos = start
        while pos + 8 <= end:
            size, name = struct.unpack(">I4s", data[pos:pos + 8])
            header = 8
            if size == 1:
                size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
                header = 16
            if size < header or pos + size > end:
                return
            body = pos + header
            if name in (b"moov", b"trak", b"mdia"):
                walk(body, pos + size)
            elif name in (b"mvhd", b"mdhd", b"tkhd"):
                version = data[body]
                if name == b"tkhd":
                    # tkhd: times, track id, reserved, then the duration (movie timescale)
                    scale = movie_scale[0]
                    off = body + (4 + 16 + 8 if version == 1 else 4 + 8 + 8)
                else:
                    off_scale = body + (4 + 16 if version == 1 else 4 + 8)
                    scale = struct.unpack(">I", data[off_scale:off_scale + 4])[0]
                    if name == b"mvhd":
                        movie_scale[0] = scale
                    off = off_scale + 4
                value = seconds * scale
                if version == 1:
                    data[off:off + 8] = struct.pack(">Q", value)
                else:
                    data[off:off + 4] = struct.pack(">I", min(value, 0xFFFFFFFF))
                patched += 1
            pos += size

    movie_scale = [1000]
    walk(0, len(data))
    pathlib.Path(path).write_bytes(bytes(data))
    return patched


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def upload(server, token, path, caption="", filename=None):
    with open(path, "rb") as f:
        files = {"file": (filename or os.path.basename(path), f, "video/mp4")}
        return server.post("/api/v1/videos", token=token, files=files,
                           data={"caption": caption}, timeout=120)


def wait_status(server, token, video_id, timeout=120):
    """Polls the video until it leaves `processing`; returns it."""
    deadline = time.time() + timeout
    while True:
        r = server.get(f"/api/v1/videos/{video_id}", token=token)
        assert r.status_code == 200, r.text
        video = r.json()
        if video["status"] != "processing" or time.time() > deadline:
            return video
        time.sleep(0.2)


def media_entries(server, site):
    """Every file and directory under a site's media/ other than the
    layout's own empty private directories, as paths relative to media/."""
    root = server.site_dir(site) / "media"
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            found.append(os.path.normpath(os.path.join(rel, name)))
        for name in dirnames:
            p = os.path.normpath(os.path.join(rel, name))
            if p not in (".work", ".incoming", ".uploads", ".trash"):
                found.append(p)
    return sorted(found)


def published(server, site, video_id):
    d = server.site_dir(site) / "media" / str(video_id)
    return sorted(os.listdir(d)) if d.is_dir() else []
