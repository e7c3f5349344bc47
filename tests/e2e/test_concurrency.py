"""Public counters stay exact under concurrent likes and unlikes from many
users in every region (the same-store path and the cross-region outbox)."""
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import requests

from social_helpers import make_video

SITES = ["eu-ie", "us-va", "intl-ch"]


def test_concurrent_likes_and_unlikes_leave_exact_counters(server):
    creator, _ = server.signup(country="US")
    vid = make_video(server, creator["id"])
    countries = ["DE", "US", "JP"]

    def signup(i):
        _, token = server.signup(username=f"crowd_{i}", country=countries[i % 3])
        return token

    with ThreadPoolExecutor(32) as pool:
        tokens = list(pool.map(signup, range(1000)))

    local = __import__("threading").local()

    def call(method, token):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        r = local.http.request(method, server.url(f"/api/v1/videos/{vid}/like"), timeout=60,
                               headers={"Authorization": "Bearer " + token})
        return r.status_code

    def likes():
        return server.get(f"/api/v1/videos/{vid}").json()["likes"]

    # 1,000 users like at once.
    with ThreadPoolExecutor(48) as pool:
        codes = list(pool.map(lambda t: call("PUT", t), tokens))
    assert codes == [204] * 1000
    assert likes() == 1000

    # Then 500 unlike while the other 500 like again (idempotent: no change),
    # every request sent twice, all interleaved.
    work = []
    for i in range(500):
        work += [("DELETE", tokens[i]), ("PUT", tokens[500 + i])]
    work = work + work
    with ThreadPoolExecutor(48) as pool:
        codes = list(pool.map(lambda w: call(*w), work))
    assert codes == [204] * len(work)
    assert likes() == 500

    # The counter agrees with the like records, which sit in the likers' own
    # regions, and no delta is left in any outbox.
    records = 0
    for site in SITES:
        con = sqlite3.connect(f"file:{server.site_dir(site) / 'reel.db'}?mode=ro", uri=True)
        records += con.execute("SELECT count(*) FROM likes WHERE video_id = ?",
                               (int(vid),)).fetchone()[0]
        assert con.execute("SELECT count(*) FROM counter_outbox").fetchone()[0] == 0
        con.close()
    assert records == 500
    assert server.get(f"/api/v1/videos/{vid}", token=tokens[0]).json()["liked_by_me"] is False
    assert server.get(f"/api/v1/videos/{vid}", token=tokens[999]).json()["liked_by_me"] is True
