"""Multi-node routing: a node answers only for the regions it serves (421 otherwise)."""
from conftest import Reel, assert_problem


def test_node_serving_only_eu_answers_421_for_us_users(tmp_path):
    s = Reel(tmp_path).start()  # all regions
    us, us_token = s.signup(country="US")
    de, de_token = s.signup(country="DE")
    assert s.stop() == 0

    eu_node = Reel(tmp_path / "eu-node", overrides={("server", "regions"): "eu"})
    eu_node.data = s.data
    eu_node.start()
    try:
        b = assert_problem(eu_node.get(f"/api/v1/users/{us['id']}"), 421)
        assert b["region"] == "us" and b["type"] == "/problems/wrong-region"
        assert_problem(eu_node.get("/api/v1/me", token=us_token), 421)
        r = eu_node.post("/api/v1/accounts", json={"username": "newyorker", "password": "long enough",
                                                    "email": "ny@example.com", "country": "US"})
        assert assert_problem(r, 421)["region"] == "us"
        # The EU user is served as usual.
        assert eu_node.get("/api/v1/me", token=de_token).json()["id"] == de["id"]
        # The node opened no store for the regions it does not serve.
        assert eu_node.get(f"/api/v1/users/{de['id']}").status_code == 200
    finally:
        assert eu_node.stop() == 0


def test_unknown_region_in_serve_list_is_refused(reel_factory):
    s = reel_factory(overrides={("server", "regions"): "eu mars"}, start=False)
    try:
        s.start(timeout=10)
        started = True
    except RuntimeError as e:
        started = False
        assert "no region named 'mars'" in str(e)
    assert not started
