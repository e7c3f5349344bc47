"""Helpers for the social and events tests: video records and log reading.

Uploads are the media pipeline's; until they exist, tests create ready video
records with `reel seed --creator` (through the same store calls the API
uses) and read a region's event log with `reel events dump` (read-only)."""
import json
import subprocess

from conftest import REEL_BIN


def make_videos(server, user_id, count=1, caption="Video {i} #reel", duration_ms=15000):
    """Creates `count` ready videos for user_id; returns their ids, oldest first."""
    out = subprocess.run(
        [REEL_BIN, "seed", "--config", str(server.config_path), "--data", str(server.data),
         "--creator", user_id, "--videos", str(count), "--caption", caption,
         "--duration-ms", str(duration_ms)],
        check=True, capture_output=True, timeout=120)
    return json.loads(out.stdout)["videos"]


def make_video(server, user_id, caption="A video #reel", duration_ms=15000):
    return make_videos(server, user_id, 1, caption, duration_ms)[0]


def dump_events(server, region):
    """Every event in a region's log, as dicts, in log order."""
    out = subprocess.run(
        [REEL_BIN, "events", "dump", "--config", str(server.config_path), "--data",
         str(server.data), "--region", region],
        check=True, capture_output=True, timeout=120)
    return [json.loads(line) for line in out.stdout.decode().splitlines() if line.strip()]


def page_through(server, path, token=None, limit=3, on_page=None):
    """Follows next_cursor to the end; returns every item. on_page(i) runs
    after each page (to insert rows between pages)."""
    items, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = server.get(url, token=token)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next_cursor"}, body
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        pages += 1
        if on_page:
            on_page(pages)
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert pages < 1000, "pagination does not end"
