"""Video cards come from a cache (src/api/card_cache.c) once read twice; every
change this server makes to a video or its creator shows in the very next
answer, on every route that lists videos."""
from social_helpers import make_videos


def cards(server, path, token):
    """The videos of a list route (or a single video) by id."""
    r = server.get(path, token=token)
    assert r.status_code == 200, r.text
    body = r.json()
    items = body["items"] if "items" in body else [body]
    return {v["id"]: v for v in items}


def test_changes_show_at_once_through_the_card_cache(server):
    creator, ctoken = server.signup(country="DE")
    fan, ftoken = server.signup(country="US")  # another region's store
    first, second = make_videos(server, creator["id"], 2, caption="cached #cards")
    routes = [f"/api/v1/users/{creator['id']}/videos", f"/api/v1/videos/{first}",
              "/api/v1/hashtags/cards/videos"]

    def seen_by_fan():
        """What every route shows the fan: the same card everywhere."""
        views = [cards(server, p, ftoken)[first] for p in routes]
        for v in views[1:]:
            assert v == views[0], (views[0], v)
        return views[0]

    for _ in range(3):  # cached from the first read (or the second: api/card_cache.c)
        card = seen_by_fan()
    assert card["likes"] == 0 and card["liked_by_me"] is False
    assert card["creator"]["followers"] == 0

    assert server.put(f"/api/v1/videos/{first}/like", token=ftoken).status_code == 204
    card = seen_by_fan()
    assert card["likes"] == 1 and card["liked_by_me"] is True
    mine = cards(server, routes[0], ctoken)[first]
    assert mine["likes"] == 1 and mine["liked_by_me"] is False, "liked_by_me is per viewer"

    assert server.post(f"/api/v1/videos/{first}/comments", token=ftoken,
                       json={"text": "nice"}).status_code == 201
    assert seen_by_fan()["comments"] == 1
    assert server.post(f"/api/v1/videos/{first}/shares", token=ftoken).status_code == 201
    assert seen_by_fan()["shares"] == 1

    assert server.put(f"/api/v1/users/{creator['id']}/follow", token=ftoken).status_code == 204
    assert seen_by_fan()["creator"]["followers"] == 1
    r = server.patch("/api/v1/me", token=ctoken, json={"display_name": "Renamed", "bio": "new"})
    assert r.status_code == 200, r.text
    card = seen_by_fan()
    assert card["creator"]["display_name"] == "Renamed" and card["creator"]["bio"] == "new"
    assert cards(server, routes[0], ftoken)[second]["creator"]["display_name"] == "Renamed", \
        "every card of the creator"

    assert server.delete(f"/api/v1/videos/{first}/like", token=ftoken).status_code == 204
    assert seen_by_fan()["likes"] == 0

    assert server.delete(f"/api/v1/videos/{first}", token=ctoken).status_code == 204
    assert first not in cards(server, routes[0], ftoken)
    assert server.get(f"/api/v1/videos/{first}", token=ftoken).status_code == 404
    assert second in cards(server, routes[0], ftoken)


def test_a_deactivated_creator_leaves_every_list(server):
    creator, ctoken = server.signup(country="JP")
    viewer, vtoken = server.signup(country="DE")
    video, = make_videos(server, creator["id"], 1)
    path = f"/api/v1/users/{creator['id']}/videos"
    for _ in range(3):
        assert video in cards(server, f"/api/v1/videos/{video}", vtoken)
    assert server.delete("/api/v1/me", token=ctoken).status_code == 202
    assert server.get(f"/api/v1/videos/{video}", token=vtoken).status_code == 404
    r = server.get(path, token=vtoken)
    assert r.status_code == 404 or video not in {v["id"] for v in r.json()["items"]}
