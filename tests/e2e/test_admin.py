"""Operators and the custodian gateway (issue 6, part 1).

The matrix: every admin route x (same-region custodian, same-region support,
same-region moderator, other-region custodian, plain user, anonymous), the
expected status, and an audit record for every allowed and every refused
access to personal data (checked with `reel audit verify` and the log's
record count)."""
import subprocess

import pytest

from conftest import REEL_BIN, Reel, assert_problem

PW = "operator password"


def add_operator(server, region, role, username):
    r = subprocess.run([REEL_BIN, "operator", "add", "--config", str(server.config_path),
                        "--data", str(server.data), "--region", region, "--role", role,
                        "--username", username], input=PW + "\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    token = server.post("/api/v1/sessions", json={"username": username, "password": PW}).json()["token"]
    return token


def audit_records(server, region):
    site = {"eu": "eu-ie", "us": "us-va", "intl": "intl-ch"}[region]
    r = subprocess.run([REEL_BIN, "audit", "verify", "--config", str(server.config_path),
                        "--data", str(server.data), "--region", region],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    import re
    m = re.search(r"(\d+) records?", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    return int(m.group(1))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    s = Reel(tmp_path_factory.mktemp("admin")).start()
    actors = {
        "eu_custodian": add_operator(s, "eu", "custodian", "eu_custodian"),
        "eu_support": add_operator(s, "eu", "support", "eu_support"),
        "eu_moderator": add_operator(s, "eu", "moderator", "eu_moderator"),
        "us_custodian": add_operator(s, "us", "custodian", "us_custodian"),
        "plain_user": s.signup(country="DE")[1],
        "anonymous": None,
    }
    subject, _ = s.signup(country="FR", email="subject.fr@example.fr")
    yield s, actors, subject
    assert s.stop() == 0


EXPECTED = {
    "eu_custodian": 200, "eu_support": 200, "eu_moderator": 200,
    "us_custodian": 403, "plain_user": 403, "anonymous": 401,
}


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_admin_user_view_matrix(world, actor):
    s, actors, subject = world
    before = audit_records(s, "eu")
    r = s.get(f"/api/v1/admin/users/{subject['id']}?purpose=ticket+4711", token=actors[actor])
    assert r.status_code == EXPECTED[actor], (actor, r.text)
    after = audit_records(s, "eu")
    if actor == "anonymous":
        assert after == before, "no actor, nothing to record"
        assert_problem(r, 401)
    else:
        assert after == before + 1, f"{actor}: every allowed and refused access is recorded"
    if r.status_code == 200:
        user = r.json()["user"]
        assert user["id"] == subject["id"]
        if actor == "eu_moderator":
            assert "email" not in user and "country" not in user
        else:
            assert user["email"] == "subject.fr@example.fr"
    elif r.status_code == 403:
        b = assert_problem(r, 403)
        assert ("another region" in b["detail"]) == (actor == "us_custodian")


def test_purpose_is_required(world):
    s, actors, subject = world
    r = s.get(f"/api/v1/admin/users/{subject['id']}", token=actors["eu_custodian"])
    assert_problem(r, 400, "purpose")


def test_unknown_subject(world):
    s, actors, _ = world
    assert_problem(s.get("/api/v1/admin/users/nope?purpose=x", token=actors["eu_custodian"]), 400, "id")


def test_operator_cli_errors(world):
    s, _, _ = world
    base = [REEL_BIN, "operator", "add", "--config", str(s.config_path), "--data", str(s.data)]
    r = subprocess.run(base + ["--region", "eu", "--role", "king", "--username", "x_king"],
                       input=PW, capture_output=True, text=True)
    assert r.returncode == 2 and "--role" in r.stderr
    r = subprocess.run(base + ["--region", "mars", "--role", "support", "--username", "x_mars"],
                       input=PW, capture_output=True, text=True)
    assert r.returncode == 1 and "mars" in r.stderr
    r = subprocess.run(base + ["--region", "eu", "--role", "support", "--username", "eu_custodian"],
                       input=PW, capture_output=True, text=True)
    assert r.returncode == 1 and "taken" in r.stderr
    r = subprocess.run(base + ["--region", "eu", "--role", "support", "--username", "x_short"],
                       input="short\n", capture_output=True, text=True)
    assert r.returncode == 1 and "8 characters" in r.stderr
    r = subprocess.run(base + ["--region", "eu", "--role", "support"], input=PW,
                       capture_output=True, text=True)
    assert r.returncode == 2
