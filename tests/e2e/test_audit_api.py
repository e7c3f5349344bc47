"""GET /api/v1/admin/audit: the region's audit log with its verification, for
the operators' dashboard — who may read it, paging, and that tampering shows."""
import pathlib

import pytest

from conftest import Reel, assert_problem
from test_admin import add_operator


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    s = Reel(tmp_path_factory.mktemp("auditapi")).start()
    ops = {
        "eu_custodian": add_operator(s, "eu", "custodian", "au_eu_custodian"),
        "eu_support": add_operator(s, "eu", "support", "au_eu_support"),
        "us_custodian": add_operator(s, "us", "custodian", "au_us_custodian"),
    }
    user, token = s.signup(country="DE")
    yield s, ops, user, token
    assert s.stop() == 0


def audit(s, token, query="region=eu"):
    return s.get("/api/v1/admin/audit?" + query, token=token)


def test_custodian_reads_its_region_log_verified(world):
    s, ops, user, _ = world
    # An access to the user's data, then the log.
    r = s.get(f"/api/v1/admin/users/{user['id']}?purpose=ticket+42", token=ops["eu_support"])
    assert r.status_code == 200, r.text
    r = audit(s, ops["eu_custodian"])
    assert r.status_code == 200, r.text
    body = r.json()
    v = body["verification"]
    assert body["region"] == "eu"
    assert v["intact"] is True and v["first_bad"] is None, v
    assert v["records"] == v["tree_size"] >= 2 and v["heads"] == v["records"]
    assert len(v["root"]) == 64 and len(v["public_key"]) == 64 and v["signed_at"].endswith("Z")
    items = body["items"]
    # Newest first: this very read is the newest record, the support read before it.
    assert items[0]["action"] == "audit.read" and items[0]["outcome"] == "allowed"
    assert items[0]["role"] == "custodian" and items[0]["subject"] is None
    assert [i["index"] for i in items] == sorted((i["index"] for i in items), reverse=True)
    read = next(i for i in items if i["action"] == "user.read" and i["purpose"] == "ticket 42")
    assert read["role"] == "support" and read["actor_region"] == "eu"
    assert len(read["subject"]) == 32 and user["id"] not in r.text  # a pseudonym, never the id
    assert "email" in read["fields"]


@pytest.mark.parametrize("who,status", [("eu_support", 403), ("us_custodian", 403),
                                        ("user", 403), ("anonymous", 401)])
def test_only_the_regions_custodians(world, who, status):
    s, ops, _, token = world
    t = {"user": token, "anonymous": None}.get(who, ops.get(who))
    assert_problem(audit(s, t), status)


def test_refusals_are_recorded(world):
    s, ops, _, _ = world
    assert audit(s, ops["eu_support"]).status_code == 403
    items = audit(s, ops["eu_custodian"]).json()["items"]
    assert any(i["action"] == "audit.read" and i["role"] == "support" and i["outcome"] == "refused"
               for i in items), items


def test_paging_newest_first_without_gaps(world):
    s, ops, _, _ = world
    seen, cursor = [], None
    while True:
        q = "region=eu&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = audit(s, ops["eu_custodian"], q).json()
        seen += [i["index"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    # Each page's read adds a record above the cursor: the pages still cover
    # every index below the first page's top exactly once.
    assert seen == list(range(seen[0], -1, -1))


@pytest.mark.parametrize("query,field", [("", "region"), ("region=mars", "region"),
                                         ("region=eu&limit=0", "limit"),
                                         ("region=eu&limit=101", "limit"),
                                         ("region=eu&cursor=x", "cursor")])
def test_bad_queries(world, query, field):
    s, ops, _, _ = world
    assert_problem(audit(s, ops["eu_custodian"], query), 400, field)


def test_tampering_shows_as_not_intact(reel_factory):
    s = reel_factory()
    op = add_operator(s, "eu", "custodian", "au_tamper_custodian")
    assert audit(s, op).json()["verification"]["intact"] is True
    log = pathlib.Path(s.site_dir("eu-ie")) / "audit" / "audit.log"
    data = bytearray(log.read_bytes())
    data[48 + 4 + 10] ^= 0x01  # inside the first record (after header and frame length)
    log.write_bytes(bytes(data))
    v = audit(s, op).json()["verification"]
    assert v["intact"] is False and v["first_bad"] == 0, v
    assert v["message"]
