"""Residency scan (issue 6, "It must show"): after an end-to-end run in which
EU, US and other-region ("intl") users interact with each other — follows,
likes, comments, shares, engagement events, uploads, interests, For You —
the server is stopped and every file of every site is scanned. Each user's
e-mail, username-bound personal records and events must be found only under
the sites of that user's home region (its primary and its replicas), and the
e-mail (encrypted at rest) nowhere in plain text at all.

Which sites belong to which region comes from the server's config file (the
one derived from config/reel.ini), cross-checked with GET /api/v1/regions.

Per region there is a creator (two videos), a fan and a lurker:
- creators follow each other and the other regions' fans, like and comment
  on the other regions' videos: so a creator's and a fan's id may sit in
  another region's files, but only as *someone else's* reference to them
  (a follow's followee, an event's creator), never as their own record;
- fans follow, like, comment on, share and watch every creator's videos;
- lurkers do the same but nobody abroad follows them and they upload
  nothing: their id, username and e-mail are in no file outside their
  region's sites, in any encoding.
[rec] sessions_max is tiny so the engine spills idle sessions to the
store's rec_sessions; each lurker's session is pushed out by a user of the
same region picked to land in the same session shard."""
import configparser
import json
import pathlib
import sqlite3
import struct
import subprocess

import pytest

from conftest import REEL_BIN, Reel
from social_helpers import dump_events, make_videos

COUNTRIES = {"eu": ("DE", "FR", "IT"), "us": ("US", "US", "PR"), "intl": ("BR", "JP", "CH")}
ROLES = ("creator", "fan", "lurker")
PASSWORD = "correct horse battery"

# (table, column naming the user whose record the row is)
PERSONAL_COLUMNS = [("users", "id"), ("sessions", "user_id"), ("operators", "user_id"),
                    ("follows", "follower_id"), ("likes", "user_id"), ("comments", "author_id"),
                    ("shares", "user_id"), ("user_interests", "user_id"),
                    ("rec_sessions", "user_id"), ("videos", "creator_id")]

# Event log segments (src/events/README.md): 64-byte header, 64-byte records,
# little-endian; user_id at 16, creator_id at 32 of each record.
SEG_HEADER = RECORD = 64
USER_AT, CREATOR_AT = 16, 32


def region_bits(user_id):
    return (int(user_id) >> 57) & 63


# -- the deployment's regions and sites, from the config -------------------

def read_layout(server):
    cp = configparser.ConfigParser(interpolation=None, strict=False,
                                   comment_prefixes=(";", "#"), inline_comment_prefixes=None)
    cp.read_string(server.config_path.read_text())
    data_dir = server.data
    sites = {}
    for sec in cp.sections():
        if sec.startswith("site "):
            name = sec.split(None, 1)[1]
            path = cp[sec].get("path")
            sites[name] = pathlib.Path(path) if path else data_dir / "sites" / name
    regions = {}
    for sec in cp.sections():
        if sec.startswith("region "):
            name = sec.split(None, 1)[1]
            r = cp[sec]
            names = [r["primary"]] + r.get("replicas", "").split()
            regions[name] = {"id": int(r["id"]), "sites": names}
    return regions, sites


# -- the run ---------------------------------------------------------------

def session_shard(user_id):
    """The recommendation engine's session shard of a user (rec/session.h:
    rec_mix64(user ^ 0x5e55) % SESSION_SHARDS, rec/idmap.h's mixer)."""
    m = (1 << 64) - 1
    x = int(user_id) ^ 0x5E55
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & m
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & m
    x ^= x >> 31
    return x % 64


def ok(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    return r


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    s = Reel(tmp_path_factory.mktemp("residency"),
             overrides={("rec", "sessions_max"): "16"}).start()
    try:
        return end_to_end_run(s)
    finally:
        if s.proc:
            s.kill()


def end_to_end_run(s):
    regions, sites = read_layout(s)
    # The config and the public regions list agree on where data lives.
    listed = {i["name"]: [x["name"] for x in i["sites"]] for i in ok(s.get("/api/v1/regions"), 200)
              .json()["items"]}
    assert listed == {r: v["sites"] for r, v in regions.items()}, (listed, regions)
    assert set(regions) == set(COUNTRIES)

    users = {}  # key -> dict(user, token, region, email, expected counts)
    for region, countries in COUNTRIES.items():
        for role, country in zip(ROLES, countries):
            key = f"{region}_{role}"
            username = f"resi_{key}"
            email = f"resi.{region}.{role}@mail-{region}.example"
            body = {"username": username, "password": PASSWORD, "email": email,
                    "country": country}
            if role == "lurker":
                body["interests"] = ["lurking", f"{region}life"]
            r = ok(s.post("/api/v1/accounts", json=body), 201).json()
            assert r["user"]["home_region"] == region
            users[key] = dict(user=r["user"], id=r["user"]["id"], token=r["token"], region=region,
                              username=username, email=email, follows=set(), likes=set(),
                              comments=0, shares=0, interests=role == "lurker", events={})
    videos = {}
    for region in COUNTRIES:
        c = users[f"{region}_creator"]
        videos[region] = make_videos(s, c["id"], 2, caption=f"{region} clip {{i}} #{region}trip",
                                     duration_ms=10000)
    # The engines register every ready video at start.
    s.restart()

    def count_event(u, kind, n=1):
        u["events"][kind] = u["events"].get(kind, 0) + n

    def follow(u, target):
        ok(s.put(f"/api/v1/users/{target['id']}/follow", token=u["token"]), 204)
        u["follows"].add(target["id"])
        count_event(u, "follow")

    def like(u, video):
        ok(s.put(f"/api/v1/videos/{video}/like", token=u["token"]), 204)
        u["likes"].add(video)
        count_event(u, "like")

    def comment(u, video):
        ok(s.post(f"/api/v1/videos/{video}/comments", token=u["token"],
                  json={"text": f"comment by {u['username']}"}), 201)
        u["comments"] += 1
        count_event(u, "comment")

    def share(u, video):
        ok(s.post(f"/api/v1/videos/{video}/shares", token=u["token"]), 201)
        u["shares"] += 1
        count_event(u, "share")

    def watch(u, vids, skip=None):
        events = []
        for v in vids:
            events += [{"type": "impression", "video_id": v}, {"type": "play", "video_id": v},
                       {"type": "watch", "video_id": v, "watched_ms": 9000}]
        if skip:
            events.append({"type": "skip", "video_id": skip, "watched_ms": 500})
        ok(s.post("/api/v1/events", token=u["token"], json={"events": events}), 202)
        for e in events:
            count_event(u, e["type"])

    all_videos = [v for vs in videos.values() for v in vs]
    for region in COUNTRIES:
        creator = users[f"{region}_creator"]
        for other in COUNTRIES:
            if other == region:
                continue
            follow(creator, users[f"{other}_creator"])
            follow(creator, users[f"{other}_fan"])
            like(creator, videos[other][0])
            comment(creator, videos[other][1])
        watch(creator, [v for o in COUNTRIES if o != region for v in videos[o]])
    for region in COUNTRIES:
        fan = users[f"{region}_fan"]
        lurker = users[f"{region}_lurker"]
        ok(s.put("/api/v1/me/interests", token=fan["token"],
                 json={"interests": ["travel", f"{region}trip"]}), 200)
        fan["interests"] = True
        for other in COUNTRIES:
            follow(fan, users[f"{other}_creator"])
            follow(lurker, users[f"{other}_creator"])
            for v in videos[other]:
                like(fan, v)
            like(lurker, videos[other][0])
            comment(fan, videos[other][0])
            comment(lurker, videos[other][1])
            share(fan, videos[other][1])
            share(lurker, videos[other][0])
        watch(fan, all_videos, skip=videos[region][0])
        watch(lurker, all_videos)
    for u in users.values():
        ok(s.get("/api/v1/feed/foryou?limit=5", token=u["token"]), 200)

    # Push each lurker's session out of the engine's memory into its home
    # store: a user of the same region in the same shard takes its place.
    fillers = []
    for region, countries in COUNTRIES.items():
        lurker = users[f"{region}_lurker"]
        for _ in range(600):
            f, ftoken = s.signup(country=countries[0])
            fillers.append((f["id"], f["username"]))
            if session_shard(f["id"]) == session_shard(lurker["id"]):
                ok(s.get("/api/v1/feed/foryou?limit=2", token=ftoken), 200)
                break
        else:
            raise AssertionError(f"no user of {region} landed in the lurker's session shard")

    assert s.stop() == 0, s.logs()[-4000:]
    dumps = {r: dump_events(s, r) for r in regions}
    files = {p: p.read_bytes() for p in s.data.rglob("*") if p.is_file()}
    return dict(server=s, regions=regions, sites=sites, users=users, videos=videos,
                fillers=fillers, dumps=dumps, files=files)


# -- helpers over the stopped deployment -------------------------------------

def home_sites(run, u):
    return run["regions"][u["region"]]["sites"]


def foreign_sites(run, u):
    return [name for name in run["sites"] if name not in home_sites(run, u)]


def site_of(run, path):
    for name, d in run["sites"].items():
        if d in path.parents:
            return name
    return None


def query(run, site, sql, *args):
    db = run["sites"][site] / "reel.db"
    assert db.exists(), db
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def personal_rows(run, site, u):
    """The user's own records in one site's store, by kind."""
    uid = int(u["id"])
    one = lambda sql, *a: query(run, site, sql, *a)
    return {
        "users": one("SELECT id FROM users WHERE id = ?", uid),
        "users_by_name": one("SELECT id FROM users WHERE username = ? COLLATE NOCASE", u["username"]),
        "sessions": one("SELECT id FROM sessions WHERE user_id = ?", uid),
        "follows": one("SELECT followee_id FROM follows WHERE follower_id = ?", uid),
        "likes": one("SELECT video_id FROM likes WHERE user_id = ?", uid),
        "comments": one("SELECT id FROM comments WHERE author_id = ?", uid),
        "shares": one("SELECT id FROM shares WHERE user_id = ?", uid),
        "user_interests": one("SELECT hashtags FROM user_interests WHERE user_id = ?", uid),
        "rec_sessions": one("SELECT length(state) FROM rec_sessions WHERE user_id = ?", uid),
        "videos": one("SELECT id FROM videos WHERE creator_id = ?", uid),
    }


def segment_records(path, data):
    assert data[:8] == b"REELEVLG", path
    out = []
    for at in range(SEG_HEADER, len(data) - RECORD + 1, RECORD):
        rec = data[at:at + RECORD]
        user_id, _video, creator_id = struct.unpack_from("<QQQ", rec, USER_AT)
        out.append((at, rec[4], user_id, creator_id))
    return out


def segments(run, site):
    d = run["sites"][site] / "events"
    return {p: data for p, data in run["files"].items() if p.parent == d and p.suffix == ".seg"}


USERS = [f"{r}_{role}" for r in COUNTRIES for role in ROLES]


# -- the scan ----------------------------------------------------------------

def test_every_site_was_scanned(run):
    for name, d in run["sites"].items():
        assert (d / "reel.db").exists(), f"site {name} has no store"
        assert segments(run, name), f"site {name} has no event log segment"
    # Every file is under a site, the username directory or the custodians' keys.
    for p in run["files"]:
        rel = p.relative_to(run["server"].data)
        assert site_of(run, p) or rel.parts[0] in ("directory", "custody") or p.name == "reel.lock", p


def test_plain_email_is_in_no_file(run):
    """E-mails are sealed with the region's key: no file of the data
    directory — any site, the directory, the key files — holds one in clear."""
    emails = [u["email"].encode() for u in run["users"].values()]
    emails += [f"{name}@example.com".encode() for _, name in run["fillers"]]
    hits = [(str(p), e) for p, data in run["files"].items() for e in emails if e in data]
    assert not hits, f"plain e-mail at rest: {hits}"
    # Nor even the distinctive local part or domain of one.
    for u in run["users"].values():
        local, domain = u["email"].split("@")
        hits = [p for p, data in run["files"].items()
                if local.encode() in data or domain.encode() in data]
        assert not hits, (u["email"], hits)


@pytest.mark.parametrize("key", USERS)
def test_personal_records_only_in_home_sites(run, key):
    u = run["users"][key]
    expected = {"users": 1, "users_by_name": 1, "follows": len(u["follows"]),
                "likes": len(u["likes"]), "comments": u["comments"], "shares": u["shares"],
                "user_interests": 1 if u["interests"] else 0,
                "videos": 2 if key.endswith("creator") else 0}
    for site in home_sites(run, u):
        rows = personal_rows(run, site, u)
        for kind, n in expected.items():
            assert len(rows[kind]) == n, (key, site, kind, rows[kind])
        assert len(rows["sessions"]) >= 1, (key, site)
        assert {str(r[0]) for r in rows["follows"]} == u["follows"], (key, site)
        assert {str(r[0]) for r in rows["likes"]} == u["likes"], (key, site)
        if key.endswith("lurker"):
            assert len(rows["rec_sessions"]) == 1 and rows["rec_sessions"][0][0] > 0, (key, site)
    for site in foreign_sites(run, u):
        rows = personal_rows(run, site, u)
        assert all(v == [] for v in rows.values()), (key, site, rows)


def test_every_personal_row_of_every_store_is_a_local_users(run):
    """Whatever the tests did not track (other users' sessions, spilled
    sessions of anyone): every personal row in a site's store belongs to a
    user of the site's region, and every user row is also in its region's
    other sites."""
    site_region = {s: r for r, v in run["regions"].items() for s in v["sites"]}
    seen_kinds = set()
    for site, region in site_region.items():
        rid = run["regions"][region]["id"]
        for table, column in PERSONAL_COLUMNS:
            values = [v for (v,) in query(run, site, f"SELECT {column} FROM {table}")]
            if values:
                seen_kinds.add(table)
            bad = [v for v in values if region_bits(v) != rid]
            assert not bad, f"{site} ({region}): {table}.{column} holds users of other regions: {bad}"
    assert {"users", "sessions", "follows", "likes", "comments", "shares", "user_interests",
            "rec_sessions", "videos"} <= seen_kinds, seen_kinds
    for region, v in run["regions"].items():
        ids = [sorted(query(run, site, "SELECT id, username FROM users")) for site in v["sites"]]
        assert all(x == ids[0] for x in ids), f"{region}: the replicas differ from the primary"


@pytest.mark.parametrize("key", USERS)
def test_events_only_in_home_log(run, key):
    u = run["users"][key]
    for region, events in run["dumps"].items():
        own = [e for e in events if e["user_id"] == u["id"]]
        if region == u["region"]:
            counts = {}
            for e in own:
                counts[e["type"]] = counts.get(e["type"], 0) + 1
            assert counts == u["events"], (key, counts, u["events"])
        else:
            assert own == [], (key, region, own[:3])
            # In another region's log the user is at most what someone
            # there engaged with: the creator of a video, a followed user.
            other = [e for e in events if f'"{u["id"]}"' in json.dumps(e)]
            assert all(e["creator_id"] == u["id"] and e["user_id"] != u["id"] for e in other), \
                (key, region, other[:3])


def test_every_event_of_every_log_is_a_local_users(run):
    """Parsed from the raw segment files of every site (primaries and
    replicas): each record's user is of the site's region, and a replica's
    log is the primary's."""
    for region, v in run["regions"].items():
        rid = run["regions"][region]["id"]
        per_site = []
        for site in v["sites"]:
            recs = []
            for p, data in sorted(segments(run, site).items()):
                recs += [(t, uid, cid) for _, t, uid, cid in segment_records(p, data)]
            bad = [uid for _, uid, _ in recs if region_bits(uid) != rid]
            assert not bad, f"{site}: events of users of other regions: {bad[:5]}"
            per_site.append(recs)
        assert per_site[0], f"{region}: empty log"
        assert all(x == per_site[0] for x in per_site), f"{region}: replica log differs"
        assert len(per_site[0]) == len(run["dumps"][region])


@pytest.mark.parametrize("key", USERS)
def test_raw_id_in_foreign_logs_only_as_creator(run, key):
    """U's id as 8 little-endian bytes in another region's segment files sits
    only in a record's creator_id field."""
    u = run["users"][key]
    needle = int(u["id"]).to_bytes(8, "little")
    for site in foreign_sites(run, u):
        for p, data in segments(run, site).items():
            at = data.find(needle)
            while at >= 0:
                assert at >= SEG_HEADER and (at - SEG_HEADER) % RECORD == CREATOR_AT, \
                    f"{key}'s id at byte {at} of {p}, not a creator reference"
                at = data.find(needle, at + 1)
    # ...while its own events are in every home site's segments.
    for site in home_sites(run, u):
        mine = [r for p, d in segments(run, site).items() for r in segment_records(p, d)
                if r[2] == int(u["id"])]
        assert len(mine) == sum(u["events"].values()), (key, site)


@pytest.mark.parametrize("region", list(COUNTRIES))
def test_lurker_leaves_no_trace_abroad(run, region):
    """A user nobody abroad follows and who uploads nothing: not its id (as
    text or 8 bytes either way round), username or e-mail in any file of
    another region's sites."""
    u = run["users"][f"{region}_lurker"]
    n = int(u["id"])
    needles = [str(n).encode(), n.to_bytes(8, "little"), n.to_bytes(8, "big"),
               u["username"].encode(), u["email"].encode()]
    foreign = set(foreign_sites(run, u))
    hits = [(str(p), nd) for p, data in run["files"].items() if site_of(run, p) in foreign
            for nd in needles if nd in data]
    assert not hits, hits
    # It is at home, though (no vacuous pass): in every home site's store.
    for site in home_sites(run, u):
        data = run["files"][run["sites"][site] / "reel.db"]
        assert n.to_bytes(8, "big") in data or str(n).encode() in data or u["username"].encode() in data


@pytest.mark.parametrize("key", USERS)
def test_username_only_in_home_sites(run, key):
    u = run["users"][key]
    foreign = set(foreign_sites(run, u))
    name = u["username"].encode()
    hits = [str(p) for p, data in run["files"].items() if site_of(run, p) in foreign and name in data]
    assert not hits, (key, hits)
    for site in home_sites(run, u):
        assert name in run["files"][run["sites"][site] / "reel.db"], (key, site)
