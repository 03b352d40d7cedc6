"""fakehub's rate limits, secondary limits, seeded faults, request log and Date header, over real HTTP."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from graphminer.fakehub.testing import serve

WORLD = Path(__file__).parent / "fixtures" / "fakehub-small.json"
REPO = "/repos/civic/site"


def auth(token: str) -> dict:
    return {"Authorization": f"token {token}"}


def test_exhaustion_gives_403_until_reset_and_rate_limit_never_counts():
    """The window resets on the hub's clock, which the test moves past the reset: a busy
    machine cannot let it lapse early."""
    with serve(WORLD, rate_limit=3, rate_window=3600, limit_status=403) as hub:
        statuses = [requests.get(hub.url + REPO, headers=auth("t1")) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 200]
        assert [r.headers["X-RateLimit-Remaining"] for r in statuses] == ["2", "1", "0"]
        assert [r.headers["X-RateLimit-Used"] for r in statuses] == ["1", "2", "3"]
        assert all(r.headers["X-RateLimit-Limit"] == "3" and r.headers["X-RateLimit-Resource"] == "core"
                   for r in statuses)
        reset = int(statuses[0].headers["X-RateLimit-Reset"])
        limits = requests.get(hub.url + "/rate_limit", headers=auth("t1"))
        assert limits.json()["resources"]["core"] == {"limit": 3, "used": 3, "remaining": 0, "reset": reset}
        # another token has its own budget
        assert requests.get(hub.url + REPO, headers=auth("t2")).status_code == 200
        refused = [requests.get(hub.url + REPO, headers=auth("t1")) for _ in range(3)]
        hub.advance_clock(1800)  # half way: still refused
        refused.append(requests.get(hub.url + REPO, headers=auth("t1")))
        assert all(r.status_code == 403 for r in refused)
        assert all(r.json()["message"].startswith("API rate limit exceeded") for r in refused)
        assert all(r.headers["X-RateLimit-Remaining"] == "0" for r in refused)
        assert all(int(r.headers["X-RateLimit-Reset"]) == reset for r in refused)
        hub.advance_clock(1801)  # past the reset (a whole second, rounded up)
        again = requests.get(hub.url + REPO, headers=auth("t1"))
        assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "2"
        assert int(again.headers["X-RateLimit-Reset"]) > reset
        stats = hub.stats()
        assert stats["by_token"]["t1"]["counted"] == 4  # /rate_limit and the 403s cost nothing
        assert stats["by_token"]["t1"]["requests"] == 4 + 1 + len(refused)
        assert stats["by_status"]["403"] == len(refused)


def test_no_token_has_the_60_limit():
    with serve(WORLD, rate_limit=1000) as hub:
        response = requests.get(hub.url + REPO)
        assert response.headers["X-RateLimit-Limit"] == "60"
        assert response.headers["X-RateLimit-Remaining"] == "59"
        assert requests.get(hub.url + REPO, headers=auth("x")).headers["X-RateLimit-Limit"] == "1000"


def test_secondary_limit_has_retry_after_and_costs_nothing():
    with serve(WORLD, faults="secondary=1,seed=1") as hub:
        response = requests.get(hub.url + REPO, headers=auth("s"))
        assert response.status_code == 403
        assert response.headers["Retry-After"] == "1"
        assert "secondary rate limit" in response.json()["message"]
        assert hub.stats()["counted"] == 0


def test_fault_kinds_show_on_the_wire():
    with serve(WORLD, faults="error=1,seed=3") as hub:
        assert {requests.get(hub.url + REPO).status_code for _ in range(12)} <= {500, 502, 503}
    with serve(WORLD, faults="drop=1") as hub:
        with pytest.raises(requests.ConnectionError):
            requests.get(hub.url + REPO)
    with serve(WORLD, faults="truncate=1") as hub:
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
            requests.get(hub.url + REPO)
    with serve(WORLD, faults="slow=1") as hub:
        started = time.monotonic()
        assert requests.get(hub.url + REPO).status_code == 200
        assert time.monotonic() - started >= 2.0


def outcomes(spec: str, n: int = 120) -> list[str]:
    """What each of ``n`` identical sequential requests got, as seen by a client."""
    seen = []
    with serve(WORLD, faults=spec) as hub:
        for i in range(n):
            try:
                response = requests.get(f"{hub.url}{REPO}/issues?page={i % 4 + 1}", timeout=10)
                complete = len(response.content) == int(response.headers.get("Content-Length", 0))
                seen.append(f"{response.status_code}{'' if complete else '-short'}")
            except requests.exceptions.ChunkedEncodingError:
                seen.append("truncated")
            except requests.ConnectionError:
                seen.append("dropped")
        logged = [line.get("fault") for line in hub.log_lines()]
    assert len(logged) == n
    return seen


def test_faults_repeat_exactly_for_the_same_seed():
    spec = "error=0.1,drop=0.05,truncate=0.05,secondary=0.05,seed=7"
    first, second = outcomes(spec), outcomes(spec)
    assert first == second
    kinds = set(first)
    assert "200" in kinds and kinds & {"500", "502", "503"} and "dropped" in kinds and "403" in kinds
    assert "truncated" in kinds
    assert outcomes(spec.replace("seed=7", "seed=8")) != first


@pytest.mark.parametrize("spec, problem", [
    ("error=2", "between 0 and 1"), ("boom=0.1", "unknown fault"), ("error", "KEY=VALUE"),
    ("error=0.6,drop=0.6", "more than 1"), ("seed=x", "whole number"),
])
def test_bad_fault_spec_is_exit_2(spec, problem):
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "serve", str(WORLD), "--faults", spec],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and problem in result.stderr and "--faults" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_log_lines_are_written_as_requests_arrive_and_date_is_wall_clock():
    with serve(WORLD) as hub:
        response = requests.get(hub.url + REPO + "/issues?state=all&per_page=2", headers=auth("log-token"))
        served_at = parsedate_to_datetime(response.headers["Date"]).timestamp()
        assert abs(served_at - time.time()) < 5
        lines = hub.log_lines()  # read while the server runs: flushed per line
        assert len(lines) == 1
        line = lines[0]
        assert set(line) == {"ts", "method", "path", "query", "status", "token", "counted"}
        assert (line["method"], line["path"], line["query"], line["status"], line["token"], line["counted"]) == (
            "GET", REPO + "/issues", {"state": "all", "per_page": "2"}, 200, "log-token", True)
        requests.get(hub.url + "/rate_limit")
        assert hub.log_lines()[1]["token"] is None and hub.log_lines()[1]["counted"] is False
        assert hub.stats()["by_token"]["null"] == {"requests": 1, "counted": 0}


@pytest.mark.parametrize("flags, named", [
    (["--rate-limit", "0"], "--rate-limit"), (["--rate-window", "0"], "--rate-window"),
    (["--port", "70000"], "--port"),
])
def test_bad_serve_flags_are_one_line_exit_2(flags, named):
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "serve", str(WORLD), *flags],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
