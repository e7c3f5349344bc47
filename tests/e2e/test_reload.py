"""Config reload: SIGHUP makes `reel serve` read its config file again.

A valid file applies the settings read afresh by every request (log level,
request logging, rate limits, body and text limits) and logs every other
change as needing a restart; a file that would not start — a syntax error,
an unknown key, a site outside its region's storage countries — is refused
with the message a start would print, and the server runs on with its old
config (issue 6: "startup and config reload refuse any site outside the
region's allowed countries")."""
import signal
import time

from conftest import make_config


def outcomes(server):
    return [line for line in server.logs().splitlines()
            if "event=config_reloaded " in line or "event=config_reload_refused " in line]


def reload(server, text, event="config_reloaded", timeout=10):
    """Writes `text` as the server's config, sends SIGHUP and returns the log
    line of the outcome (`event=...`), failing if another outcome came."""
    before = len(outcomes(server))
    server.config_path.write_text(text)
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = outcomes(server)
        if len(lines) > before:
            assert f"event={event} " in lines[before], lines[before]
            return lines[before]
        time.sleep(0.05)
    raise AssertionError(f"no reload outcome in the log:\n{server.logs()[-3000:]}")


def statuses(server, n):
    return [server.get("/healthz").status_code for _ in range(n)]


def assert_serving_unlimited(server):
    assert server.proc.poll() is None
    assert statuses(server, 30) == [200] * 30


def test_reload_applies_rate_limits_and_logging(reel_factory):
    server = reel_factory()
    assert_serving_unlimited(server)  # test default: no rate limiting

    line = reload(server, make_config({("limits", "rate_ip_per_s"): "1",
                                       ("limits", "rate_ip_burst"): "2"}))
    assert "changed=2" in line and "needs_restart=0" in line
    assert 'key="[limits] rate_ip_per_s"' in server.logs()
    got = statuses(server, 10)
    assert got[:2] == [200, 200] and got.count(429) >= 7, got
    r = server.get("/healthz")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1

    # Raised again: requests pass at once, with no restart.
    reload(server, make_config({("limits", "rate_ip_per_s"): "100000",
                                ("limits", "rate_ip_burst"): "100000"}))
    assert_serving_unlimited(server)

    # Request logging off, then on again.
    reload(server, make_config({("log", "requests"): "off"}))
    server.get("/after-requests-off")
    reload(server, make_config())
    server.get("/after-requests-on")
    time.sleep(0.2)
    assert "after-requests-off" not in server.logs()
    assert "after-requests-on" in server.logs()

    # The log level up to warn: info lines (requests) stop; the outcome of
    # the reload itself is still written, and so is the way back to info.
    line = reload(server, make_config({("log", "level"): "warn"}))
    assert "changed=1" in line
    server.get("/at-warn")
    line = reload(server, make_config())
    assert "changed=1" in line
    server.get("/at-info")
    time.sleep(0.2)
    assert "at-warn" not in server.logs() and "at-info" in server.logs()


def test_reload_refuses_site_outside_region(reel_factory):
    server = reel_factory()
    text = make_config({("limits", "rate_ip_per_s"): "1", ("limits", "rate_ip_burst"): "1"})
    bad = text.replace("[site eu-no]\ncountry = NO", "[site eu-no]\ncountry = US")
    assert bad != text
    line = reload(server, bad, event="config_reload_refused")
    assert "level=error" in line
    assert "residency" in line and "region eu" in line and "site eu-no" in line and "US" in line
    assert "event=config_reloaded" not in server.logs()
    # Still serving, with the old limits (no rate limiting), not the file's.
    assert_serving_unlimited(server)

    # A US region replica moved to a country outside its storage countries.
    bad = make_config().replace("[site sg]\ncountry = SG", "[site sg]\ncountry = CN")
    assert bad != make_config()
    line = reload(server, bad, event="config_reload_refused")
    assert "region us" in line and "site sg" in line
    assert_serving_unlimited(server)

    # The server also restarts on its unchanged data with the original file.
    server.config_path.write_text(make_config())
    server.restart()
    assert_serving_unlimited(server)


def test_reload_refuses_syntax_error_and_unknown_key(reel_factory):
    server = reel_factory()
    good = make_config({("limits", "rate_ip_per_s"): "1", ("limits", "rate_ip_burst"): "1"})

    line = reload(server, good.replace("[limits]", "[limits]\nthis line is not ini", 1),
                  event="config_reload_refused")
    assert "syntax error" in line and "reel.ini:" in line
    assert_serving_unlimited(server)

    line = reload(server, good.replace("[limits]", "[limits]\nrate_ip_per_sec = 1", 1),
                  event="config_reload_refused")
    assert "unknown key" in line and "rate_ip_per_sec" in line
    assert_serving_unlimited(server)

    line = reload(server, good.replace("[limits]", "[limit]", 1), event="config_reload_refused")
    assert "unknown section" in line
    line = reload(server, make_config({("limits", "rate_ip_burst"): "0"}),
                  event="config_reload_refused")
    assert "rate_ip_burst" in line and "out of range" in line
    assert_serving_unlimited(server)

    # A missing file is refused too; the server keeps running.
    server.config_path.unlink()
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "No such file" not in server.logs() and time.time() < deadline:
        time.sleep(0.05)
    assert "event=config_reload_refused" in server.logs() and "No such file" in server.logs()
    assert_serving_unlimited(server)
    server.config_path.write_text(make_config())


def test_reload_restart_only_keys_are_logged_not_applied(reel_factory):
    server = reel_factory()
    line = reload(server, make_config({("server", "threads"): "3",
                                       ("media", "workers"): "1",
                                       ("limits", "max_connections"): "64"}))
    assert "changed=0" in line and "needs_restart=3" in line
    logs = server.logs()
    for key in ("[server] threads", "[media] workers", "[limits] max_connections"):
        assert f'event=config_reload_needs_restart key="{key}"' in logs, logs[-3000:]
    assert_serving_unlimited(server)

    # Sites and regions: a new site, a region with a changed replica list.
    extra = "\n[site eu-de]\ncountry = DE\n"
    text = make_config(extra=extra).replace("replicas = eu-no", "replicas = eu-no, eu-de", 1)
    assert "eu-no, eu-de" in text
    line = reload(server, text)
    logs = server.logs()
    assert 'key="[site eu-de]"' in logs and 'key="[region eu] replicas"' in logs
    assert "needs_restart=2" in line  # (threads etc. are back to the running values)

    # A restart-only key alongside a reloadable one: the reloadable one applies.
    line = reload(server, make_config({("server", "threads"): "3",
                                       ("limits", "rate_ip_per_s"): "1",
                                       ("limits", "rate_ip_burst"): "1"}))
    assert "changed=2" in line and "needs_restart=1" in line
    assert 429 in statuses(server, 5)
