"""The operator matrix (issue 6, "It must show"): every admin/operator route x
every kind of caller -> the exact status, and for every access the gateway
decides (allowed or refused) exactly one record in the right region's audit
log, naming the actor, the role, the actor's region, the action, the
outcome, the purpose and — for a person's data — the person's pseudonym.

The routes are the ones registered under /api/v1/admin in src/api/*.c
(admin.c, privacy.c, stats_routes.c, audit_routes.c); the expectations come
from docs/api.md ("Operators", "Audit log") and the gateway's policy table
(src/region/gateway.h). A new route is one entry in ROUTES plus one line in
MATRIX; a new kind of caller one entry in ACTORS plus one column.

How the audit log is read: a custodian of each region who is not one of the
callers under test (the "auditor") reads GET /api/v1/admin/audit before and
after the request. Each of the auditor's reads is itself recorded (it is the
newest record of its page); every other record above the first read's index
was written because of the request under test."""
import re
import subprocess
from dataclasses import dataclass

import pytest

from conftest import REEL_BIN, Reel, assert_problem
from test_admin import add_operator

REGIONS = ("eu", "us", "intl")
PURPOSE = "matrix check 42"  # sent as ?purpose=matrix+check+42


@dataclass(frozen=True)
class Route:
    method: str
    path: str          # {subject} is replaced by a fresh EU subject's id
    action: str        # the gateway action recorded
    fields: tuple      # the fields the record names (None: depends on the role, see below)
    purpose: str       # what the record's purpose says
    data_region: str   # whose data: "eu", or "actor" (the caller's own region)
    personal: bool     # about one person (record has a subject pseudonym)


ROUTES = {
    "user.read": Route("GET", "/api/v1/admin/users/{subject}?purpose=matrix+check+42",
                       "user.read", None, PURPOSE, "eu", True),
    "user.export": Route("GET", "/api/v1/admin/users/{subject}/export?purpose=matrix+check+42",
                         "user.export", ("profile", "email", "records", "events", "audit"),
                         PURPOSE, "eu", True),
    "user.deactivate": Route("POST",
                             "/api/v1/admin/users/{subject}/deactivate?purpose=matrix+check+42",
                             "user.deactivate", ("status", "sessions"), PURPOSE, "eu", True),
    "stats.active-users": Route("GET", "/api/v1/admin/stats/active-users?region=eu&period=day",
                                "stats.read", ("active_users",), "analytics", "eu", False),
    "stats.trending": Route("GET", "/api/v1/admin/stats/trending?region=eu&limit=5",
                            "stats.read", ("trending",), "analytics", "eu", False),
    "stats.overview": Route("GET", "/api/v1/admin/stats/overview",
                            "stats.aggregate", ("active_users",), "overview", "actor", False),
    "audit.read": Route("GET", "/api/v1/admin/audit?region=eu&limit=3",
                        "audit.read", ("audit_log",), "dashboard", "eu", False),
}

# name -> (region, role) of the caller; role None = plain user, region None = anonymous.
ACTORS = {
    "eu_custodian": ("eu", "custodian"),
    "eu_support": ("eu", "support"),
    "eu_moderator": ("eu", "moderator"),
    "us_custodian": ("us", "custodian"),
    "plain_user": ("eu", None),
    "anonymous": (None, None),
}

# The expected status of each route for each caller (columns in ACTORS order).
MATRIX = {
    #                     eu_cust eu_sup eu_mod us_cust plain anon
    "user.read":          (200,   200,   200,   403,    403,  401),
    "user.export":        (200,   403,   403,   403,    403,  401),
    "user.deactivate":    (204,   403,   204,   403,    403,  401),
    "stats.active-users": (200,   200,   200,   403,    403,  401),
    "stats.trending":     (200,   200,   200,   403,    403,  401),
    "stats.overview":     (200,   200,   200,   200,    403,  401),
    "audit.read":         (200,   403,   403,   403,    403,  401),
}

CASES = [(route, actor, status) for route, row in MATRIX.items()
         for actor, status in zip(ACTORS, row)]


def me_id(server, token):
    r = server.get("/api/v1/me", token=token)
    assert r.status_code == 200, r.text
    body = r.json()
    return body.get("user", body)["id"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    s = Reel(tmp_path_factory.mktemp("opmatrix")).start()
    tokens, ids = {}, {}
    for name, (region, role) in ACTORS.items():
        if region is None:
            tokens[name] = None
        elif role is None:
            tokens[name] = s.signup(country="DE")[1]
        else:
            tokens[name] = add_operator(s, region, role, "mx_" + name)
        if tokens[name]:
            ids[name] = me_id(s, tokens[name])
    auditors = {r: add_operator(s, r, "custodian", f"mx_{r}_auditor") for r in REGIONS}
    auditor_ids = {r: me_id(s, t) for r, t in auditors.items()}
    yield s, tokens, ids, auditors, auditor_ids
    assert s.stop() == 0


def audit_page(s, auditors, region, limit):
    r = s.get(f"/api/v1/admin/audit?region={region}&limit={limit}", token=auditors[region])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verification"]["intact"] is True, body["verification"]
    return body["items"]


def audit_tops(s, auditors):
    """The index of the newest record of every region's log (the auditor's own read)."""
    return {r: audit_page(s, auditors, r, 1)[0]["index"] for r in REGIONS}


def new_records(s, auditors, auditor_ids, tops):
    """region -> the records written since `tops`, oldest first, without the
    auditor's own reads."""
    out = {}
    for r in REGIONS:
        items = audit_page(s, auditors, r, 50)
        own = items[0]
        assert own["action"] == "audit.read" and own["actor_id"] == auditor_ids[r], own
        fresh = [i for i in items[1:] if i["index"] > tops[r]]
        assert len(fresh) < 49, "page too small for the records written"
        out[r] = sorted(fresh, key=lambda i: i["index"])
    return out


def expected_fields(route, actor):
    if route.fields is not None:
        return list(route.fields)
    # user.read: the moderator's view has no contact data, and so has its record.
    role = ACTORS[actor][1]
    return ["profile", "status"] if role == "moderator" else ["profile", "status", "email", "country"]


def refusal_reason(actor, data_region):
    region, role = ACTORS[actor]
    if role is None:
        return "only operators"
    if region != data_region:
        return "another region"
    return "role does not allow"


@pytest.mark.parametrize("route_name,actor,status", CASES,
                         ids=[f"{r}-{a}" for r, a, _ in CASES])
def test_operator_matrix(world, route_name, actor, status):
    s, tokens, ids, auditors, auditor_ids = world
    route = ROUTES[route_name]
    actor_region, role = ACTORS[actor]
    subject = subject_token = None
    path = route.path
    if "{subject}" in path:
        subject, subject_token = s.signup(country="FR")
        path = path.replace("{subject}", subject["id"])
    data_region = actor_region if route.data_region == "actor" else route.data_region

    tops = audit_tops(s, auditors)
    r = s.request(route.method, path, token=tokens[actor])
    assert r.status_code == status, (route_name, actor, r.status_code, r.text)
    records = new_records(s, auditors, auditor_ids, tops)

    # -- the answer ------------------------------------------------------
    if status == 401:
        assert_problem(r, 401)
    elif status == 403:
        body = assert_problem(r, 403)
        assert refusal_reason(actor, data_region) in body["detail"], body
    elif route_name == "user.read":
        user = r.json()["user"]
        assert user["id"] == subject["id"]
        assert ("email" in user) == (role != "moderator"), user
        assert r.json()["viewed_as"] == role
    elif route_name == "user.export":
        doc = r.json()
        assert doc["format"] == "reel-export/1" and doc["account"]["id"] == subject["id"]
    elif route_name in ("stats.active-users", "stats.trending"):
        assert r.json()["region"] == "eu"
    elif route_name == "stats.overview":
        assert {i["region"] for i in r.json()["items"]} == set(REGIONS)
    elif route_name == "audit.read":
        assert r.json()["region"] == "eu" and r.json()["verification"]["intact"] is True

    if subject_token:
        # Only an allowed deactivation deactivates.
        deactivated = route_name == "user.deactivate" and status == 204
        me = s.get("/api/v1/me", token=subject_token)
        assert me.status_code == (401 if deactivated else 200), (route_name, actor, me.text)

    # -- the audit log ---------------------------------------------------
    if actor == "anonymous":
        assert records == {r_: [] for r_ in REGIONS}, "no actor, nothing decided, nothing recorded"
        return
    for region in REGIONS:
        if region != data_region:
            assert records[region] == [], (region, records[region])
    assert len(records[data_region]) == 1, records[data_region]
    rec = records[data_region][0]
    assert rec["actor_id"] == ids[actor]
    assert rec["role"] == (role or "user")
    assert rec["actor_region"] == actor_region
    assert rec["action"] == route.action
    assert rec["outcome"] == ("allowed" if status < 400 else "refused")
    assert rec["purpose"] == route.purpose
    assert rec["fields"] == expected_fields(route, actor)
    if route.personal:
        assert re.fullmatch(r"[0-9a-f]{32}", rec["subject"]), rec
        assert subject["id"] not in str(rec)
        # The record is about this very person: it is in their export's
        # audit section (read by the subject, or by a custodian once the
        # subject can no longer log in).
        if s.get("/api/v1/me", token=subject_token).status_code == 200:
            doc = s.get("/api/v1/me/export", token=subject_token).json()
        else:
            doc = s.get(f"/api/v1/admin/users/{subject['id']}/export?purpose=matrix+verification",
                        token=auditors["eu"]).json()
        about = [a for a in doc["audit"] if a["index"] == rec["index"]]
        assert len(about) == 1, doc["audit"]
        assert about[0]["action"] == route.action and about[0]["outcome"] == rec["outcome"]
        assert about[0]["actor_role"] == rec["role"]
    else:
        assert rec["subject"] is None, rec


def test_matrix_covers_every_admin_route():
    """Every route under /api/v1/admin registered in src/api is in ROUTES."""
    import pathlib
    src = pathlib.Path(__file__).resolve().parents[2] / "src" / "api"
    registered = set()
    for f in src.glob("*.c"):
        text = f.read_text()
        for m in re.finditer(r'\.method\s*=\s*HTTP_(\w+),\s*\.pattern\s*=\s*"(/api/v1/admin[^"]*)"',
                             text):
            registered.add((m.group(1), m.group(2)))
    covered = {(r.method, r.path.split("?")[0].replace("{subject}", "{id}")) for r in ROUTES.values()}
    assert registered, "no admin routes found in src/api"
    assert registered <= covered, f"admin routes without a row in the matrix: {registered - covered}"


def test_cli_verification_agrees(world):
    """`reel audit verify` accepts every region's log after the matrix and
    counts the same records as the dashboard."""
    s, _, _, auditors, _ = world
    for region in REGIONS:
        r = subprocess.run([REEL_BIN, "audit", "verify", "--config", str(s.config_path),
                            "--data", str(s.data), "--region", region],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        m = re.search(r"(\d+) records?", r.stdout + r.stderr)
        assert m, r.stdout + r.stderr
        cli_count = int(m.group(1))
        # The dashboard's read is recorded before it verifies: one more.
        api = s.get(f"/api/v1/admin/audit?region={region}&limit=1", token=auditors[region]).json()
        assert api["verification"]["records"] == cli_count + 1, (region, cli_count, api)
