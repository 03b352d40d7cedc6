"""The HTML report: a static folder that opens in headless Chromium without touching the
network, with headline numbers, plots, a page per org and per most active maker.

Inputs are built here (events, milestones and stages whose figures the test knows), so
every number checked comes from the test, not from the code under test.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphminer.config import parse_config
from graphminer.errors import BadInput
from graphminer.report import ReportInputs, write_report

AS_OF = pd.Timestamp("2024-06-30T00:00:00Z")
ORGS = ["codeforexample", "mysociety-like", "g0v-like"]
MILESTONE_KEYS = [
    "first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "returning",
    "long_term", "maintainer", "triager", "reviewer", "core", "creator", "organiser",
    "coder_to_organiser", "repo_bridge", "org_bridge", "inactive", "gone", "returned",
]
N_MAKERS = 40
# Ground truth: how many of the makers reach each milestone (makers 0..n-1 reach it).
REACHED = {"first_contact": 40, "first_landed": 24, "returning": 15, "maintainer": 7,
           "organiser": 5, "org_bridge": 4, "core": 2, "long_term": 6}


def maker_key(number: int) -> str:
    # maker 39 has no GitHub account: keyed by an email that must never be shown
    return "git:hidden.person@example.org" if number == N_MAKERS - 1 else str(5000 + number)


def make_inputs(opt_out: list[str] | None = None) -> ReportInputs:
    rng = np.random.default_rng(7)
    rows = []
    for number in range(N_MAKERS):
        start = pd.Timestamp("2019-01-01T00:00:00Z") + pd.Timedelta(days=int(rng.integers(0, 1500)))
        # maker 0 is the most active, then 1, ...: activity falls with the number
        for action in range(N_MAKERS - number + 1):
            ts = min(start + pd.Timedelta(days=7 * action), AS_OF - pd.Timedelta(days=1))
            org = ORGS[(number + (action % 2)) % len(ORGS)] if number % 4 == 0 else ORGS[number % len(ORGS)]
            rows.append({"ts": ts, "maker": maker_key(number), "org": org, "repo": f"{org}/app{action % 3}",
                         "kind": ["issue_opened", "comment", "pr_opened", "commit"][action % 4],
                         "target": f"issue:{action}", "target_author": None, "details": "{}",
                         "is_bot": False})
    events = pd.DataFrame(rows)
    events["ts"] = pd.to_datetime(events["ts"], utc=True)
    first = events.groupby("maker")["ts"].min()
    index = pd.Index([maker_key(n) for n in range(N_MAKERS)], name="maker")
    milestones = pd.DataFrame(
        {key: pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]") for key in MILESTONE_KEYS})
    for key, count in REACHED.items():
        for number in range(count):
            offset = pd.Timedelta(days=0 if key == "first_contact" else 30 * (1 + number % 5))
            milestones.loc[maker_key(number), key] = min(first[maker_key(number)] + offset, AS_OF)
    org_rows = events.groupby(["maker", "org"])["ts"].min().rename("first_contact").to_frame()
    for key in MILESTONE_KEYS[1:]:
        org_rows[key] = milestones[key].reindex(org_rows.index.get_level_values("maker")).to_numpy()
    quarters = []
    for number in range(N_MAKERS):
        stage = "maintainer" if number < 7 else "contributor" if number < 24 else "participant"
        for quarter in pd.date_range("2023-01-01", "2024-04-01", freq="QS", tz="UTC"):
            quarters.append({"maker": maker_key(number), "quarter": quarter, "stage": stage,
                             "organiser": number < 5, "bridge": number < 4, "state": "active"})
    labels = {maker_key(n): f"maker-{n}" for n in range(N_MAKERS - 1)}
    labels["5003"] = '<script>alert("x")</script> & Zoë 🎉'
    text = "[people]\nopt_out = " + json.dumps(opt_out or []) + "\n"
    config = parse_config(text, source="test", base_dir=Path("."))
    return ReportInputs(events=events, milestones=milestones, org_milestones=org_rows,
                        stages=pd.DataFrame(quarters), as_of=AS_OF, labels=labels, config=config)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("r") / "report"
    write_report(out, make_inputs(opt_out=["maker-2"]), makers_limit=10)
    return out


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(folder.rglob("*.html")))


def test_first_screen_headline_numbers(report_dir):
    index = (report_dir / "index.html").read_text("utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", index))
    # maker-2 opted out: one fewer at every step they had reached
    assert re.search(r"\b39\s+people took part", text)
    assert re.search(r"\b23\s+had work accepted", text)
    assert re.search(r"\b6\s+became maintainers", text)
    assert re.search(r"\b4\s+became organisers", text)
    assert re.search(r"\b3\s+worked across organisations", text)
    assert "59% of them saw a contribution" in text  # 23 / 39


def test_pages_per_org_and_per_top_maker(report_dir):
    assert sorted(p.name for p in (report_dir / "orgs").iterdir()) == sorted(
        f"{org}.html" for org in ORGS)
    pages = sorted((report_dir / "makers").iterdir())
    assert len(pages) == 10
    index = (report_dir / "index.html").read_text("utf-8")
    # the ten most active, maker 2 (opted out) skipped: makers 0, 1, 3, ..., 10
    for number in [0, 1, *range(3, 11)]:
        assert f">maker-{number}<" in index or number == 3
    assert "&lt;script&gt;" in index and "<script>" not in index
    assert ">maker-11<" not in index
    for link in re.findall(r'href="(makers/[^"]+)"', index):
        assert (report_dir / link).is_file()
    for image in re.findall(r'src="([^"]+)"', index):
        assert (report_dir / image).is_file() and (report_dir / image).stat().st_size > 2000


def test_no_email_no_opted_out_no_other_host(report_dir):
    text = all_text(report_dir)
    assert "@" not in text
    assert "maker-2<" not in text and ">maker-2 " not in text
    # acts link to GitHub (links a reader follows); nothing is loaded from any host
    hosts = set(re.findall(r"(?:https?:)?//([a-z0-9.-]+\.[a-z]{2,})", text, re.I))
    assert hosts <= {"github.com"}, hosts
    assert not re.search(r'src="(https?:)?//', text, re.I)
    assert not re.search(r"<(script|link|iframe)\b", text, re.I)


def test_report_folder_has_ordinary_permissions(report_dir):
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(report_dir.stat().st_mode) == 0o777 & ~mask  # not mkdtemp's 0700


def test_existing_report_replaced_whole(tmp_path):
    out = tmp_path / "report"
    write_report(out, make_inputs(), makers_limit=5)
    assert len(list((out / "makers").iterdir())) == 5
    write_report(out, make_inputs(), makers_limit=3)
    assert len(list((out / "makers").iterdir())) == 3  # the earlier report's pages are gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_folder_with_foreign_files_refused_untouched(tmp_path):
    out = tmp_path / "project"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    (out / "main.py").write_bytes(b"print('mine')\n")
    before = tree_bytes(out)
    with pytest.raises(BadInput, match="did not write"):
        write_report(out, make_inputs(), makers_limit=3)
    assert tree_bytes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]  # no staging left


def test_file_added_to_an_earlier_report_is_kept(tmp_path):
    out = tmp_path / "report"
    write_report(out, make_inputs(), makers_limit=3)
    (out / "notes.txt").write_text("my notes", "utf-8")
    with pytest.raises(BadInput, match="notes.txt"):
        write_report(out, make_inputs(), makers_limit=3)
    assert (out / "notes.txt").read_text("utf-8") == "my notes"


def tree_bytes(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bad_output_folder(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        write_report(tmp_path / "no" / "report", make_inputs())
    blocker = tmp_path / "file"
    blocker.write_text("x", "utf-8")
    with pytest.raises(BadInput, match="is a file"):
        write_report(blocker, make_inputs())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")


def open_in_chromium(page: Path, work: Path) -> tuple[Path, set[str]]:
    """Open ``page`` in headless Chromium: its screenshot and the URLs the page itself
    asked the network for (Chromium's own update and account checks, whose initiator is
    'not an origin', are not the page's)."""
    shot, netlog = work / "shot.png", work / "netlog.json"
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         f"--user-data-dir={work / 'profile'}", f"--log-net-log={netlog}",
         f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert shot.is_file(), done.stderr[-2000:]
    text = netlog.read_text("utf-8").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # Chromium may stop before closing the JSON
        log = json.loads(text.rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    asked = {
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job and "url" in event.get("params", {})
        and event["params"].get("initiator") != "not an origin"
    }
    return shot, asked


def test_network_check_sees_a_page_that_reaches_out(tmp_path):
    page = tmp_path / "control.html"
    page.write_text('<p>control</p><img src="http://127.0.0.1:9/pixel.png">', "utf-8")
    _, asked = open_in_chromium(page, tmp_path)
    assert asked == {"http://127.0.0.1:9/pixel.png"}


def test_opens_in_headless_chromium_without_network(report_dir, tmp_path):
    shot, asked = open_in_chromium(report_dir / "index.html", tmp_path)
    assert asked == set(), asked
    from matplotlib.image import imread

    pixels = imread(str(shot))[:, :, :3]
    assert pixels.shape[:2] == (1600, 1280)
    # the page rendered: dark text and the headline blue, not a blank or error page
    assert (pixels.sum(axis=2) < 0.6).mean() > 0.005
    blue = (abs(pixels[:, :, 0] - 43 / 255) < 0.05) & (abs(pixels[:, :, 2] - 176 / 255) < 0.05)
    assert blue.mean() > 0.001
    keep = os.environ.get("GRAPHMINER_SCREENSHOT_DIR")
    if keep:  # kept for a person to look at
        shutil.copy(shot, Path(keep) / "report-first-screen.png")


def test_durations_read_as_people_say_them():
    from graphminer.report import plain_duration

    assert [plain_duration(d) for d in (0.0, 1.0, 5.0, 21.0, 91.0, 1000.0)] == [
        "a day", "1 day", "5 days", "3 weeks", "3 months", "2.7 years"]
    assert plain_duration(None) == "not yet reached by half of them"


# --- plain words: glossary, action kinds, timelines in date order, whose act it was ----


def with_triggers(inputs: ReportInputs) -> ReportInputs:
    """Triggers for maker 0: an organiser milestone reached through maker 1's act (maker 1
    joined a repo maker 0 created), one through opted-out maker 2's act, plain ones."""
    zero, one, two = maker_key(0), maker_key(1), maker_key(2)
    dates = inputs.milestones.loc[zero]
    repo = "codeforexample/app0"
    rows = [
        {"maker": zero, "milestone": "first_contact", "kind": "issue_opened", "trigger_repo": repo, "by": zero},
        {"maker": zero, "milestone": "first_landed", "kind": "pr_merged", "trigger_repo": repo, "by": zero},
        {"maker": zero, "milestone": "creator", "kind": "issue_opened", "trigger_repo": repo, "by": zero},
        {"maker": zero, "milestone": "organiser", "kind": "comment", "trigger_repo": repo, "by": one},
        {"maker": zero, "milestone": "org_bridge", "kind": "review", "trigger_repo": "g0v-like/app1", "by": two},
        {"maker": zero, "milestone": "maintainer", "kind": "merge_performed", "trigger_repo": repo},
    ]
    triggers = pd.DataFrame(rows)
    triggers["at"] = [dates[row["milestone"]] for row in rows]
    triggers["ts"] = triggers["at"]
    triggers["target"] = "issue:1"
    inputs.milestones.loc[zero, "creator"] = dates["first_contact"]
    return replace(inputs, triggers=triggers)


@pytest.fixture(scope="module")
def worded_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("words") / "report"
    write_report(out, with_triggers(make_inputs(opt_out=["maker-2"])), makers_limit=3)
    return out


def page_text(path: Path) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text("utf-8"))))


def test_index_has_a_glossary_of_every_stage(worded_dir):
    index = (worded_dir / "index.html").read_text("utf-8")
    glossary = index.split('<dl class="glossary">', 1)[1].split("</dl>", 1)[0]
    for stage in ("participant", "contributor", "returning", "maintainer", "core"):
        assert f"<dt>{stage}</dt>" in glossary
    assert "<dt>organiser</dt>" in glossary and "<dt>as of</dt>" in glossary


def test_action_kinds_are_in_plain_words(worded_dir):
    text = all_text(worded_dir / "makers")
    for kind in ("pr_opened", "issue_opened", "review_comment", "merge_performed", "pr_merged"):
        assert kind not in text
    assert "proposed a change (opened a pull request)" in text and "opened an issue" in text


def test_maker_timeline_is_in_date_order_ties_in_the_rules_order(worded_dir):
    page = (worded_dir / "makers" / "maker-0.html").read_text("utf-8")
    table = page.split("<h2>Milestones, in the order they came</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([^<]+)</td>", table)
    dates = [date for date, _ in rows]
    assert dates == sorted(dates) and len(rows) >= 6
    # maker 0 reached these on one day: they read in the rules' order
    landed_on = next(date for date, words in rows if words == "had a contribution accepted")
    same_day = [words for date, words in rows if date == landed_on]
    assert same_day.index("had a contribution accepted") < same_day.index("came back with more") \
        < same_day.index("became a maintainer")
    assert [words for _, words in rows][:2] == ["took part", "started a project"]


def test_a_milestone_reached_through_someone_elses_act_says_so(worded_dir):
    text = page_text(worded_dir / "makers" / "maker-0.html")
    assert "maker-1 joined codeforexample/app0, a repo maker-0 created" in text
    assert "had a change accepted (pull request merged) in codeforexample/app0" in text
    assert "accepted someone's change (merged a pull request) in codeforexample/app0" in text
    # an opted-out person's act stays someone else's, without their name
    assert "through someone's act: someone reviewed a change in g0v-like/app1" in text
    assert "maker-2" not in text
