"""The report's pages, read as a board member and an assistive tool would: lxml over the
written HTML of every page kind (index, where, org, maker), then headless Chromium.

Checked on every page kind: the sections the layout keeps (the per-year trend with years
as text, the "Where did they go" page, maker pages named by slug opening with their
story); no percentage for a group of fewer than 10 people without the mark; every image
has alt text; no page is named by a bare number; pages declare their language; tables have
header cells; stage colours meet WCAG AA contrast. The figures come from the test's own
inputs (tests/test_report.py's makers, and careers written here by hand).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from lxml import html as lxml_html
from test_report import AS_OF, chromium, make_inputs, maker_key, with_triggers

from graphminer.report import write_report

# what following found, by hand: maker 0 had work merged at gsa (government) and in their
# own account's repo (never named); maker 1 at codeforamerica (civic), twice
OUTSIDE = [
    (maker_key(0), "merged", "gsa", "government", "gsa/notify", "2024-03-01T00:00:00Z"),
    (maker_key(0), "merged", "maker-0", "other", "maker-0/own-notes", "2024-04-01T00:00:00Z"),
    (maker_key(1), "merged", "codeforamerica", "civic", "codeforamerica/form", "2024-02-01T00:00:00Z"),
    (maker_key(1), "merged", "codeforamerica", "civic", "codeforamerica/form", "2024-02-03T00:00:00Z"),
]
CAREERS = {
    "rules_version": "3", "as_of": "2024-06-30T00:00:00Z", "org": None, "landed": 23, "followed": 20,
    "destinations": [
        {"milestone": "landed_elsewhere", "words": "had work merged beyond the harvested organisations",
         "makers": 23, "reached": 2, "median_years": 0.5, "km_median_years": None,
         "cohorts": {"2019": [3, 1], "2020": [20, 1]}},
        {"milestone": "government", "words": "had work merged in government repositories", "makers": 23,
         "reached": 1, "median_years": 0.5, "km_median_years": None, "cohorts": {"2019": [3, 1], "2020": [20, 0]}},
        {"milestone": "civic_elsewhere", "words": "had work merged by another civic tech group", "makers": 23,
         "reached": 1, "median_years": 0.4, "km_median_years": None, "cohorts": {"2019": [3, 0], "2020": [20, 1]}},
    ],
    "owners": [
        {"owner": "gsa", "kind": "government", "people": 1, "changes": 1, "cohorts": {"2019": 1}},
        {"owner": "codeforamerica", "kind": "civic", "people": 1, "changes": 2, "cohorts": {"2020": 1}},
    ],
}


def followed_inputs():
    inputs = with_triggers(make_inputs(opt_out=["maker-2"]))
    outside = pd.DataFrame(OUTSIDE, columns=["maker", "act", "owner", "owner_kind", "repo", "at"])
    outside["at"] = pd.to_datetime(outside["at"], utc=True)
    outside["others"], outside["fork"] = None, 0
    # maker 0's government milestone, dated at the gsa merge, and the act behind it
    merged = pd.Timestamp("2024-03-01T00:00:00Z")
    empty = pd.Series(pd.NaT, index=inputs.milestones.index, dtype="datetime64[ns, UTC]")
    milestones = inputs.milestones.assign(government=empty, landed_elsewhere=empty)
    milestones.loc[maker_key(0), ["government", "landed_elsewhere"]] = merged
    act = {"maker": maker_key(0), "kind": "pr_merged_elsewhere", "trigger_repo": "gsa/notify",
           "target": "gsa/notify", "at": merged, "ts": merged, "by": maker_key(0)}
    triggers = pd.concat([inputs.triggers, pd.DataFrame([{**act, "milestone": "government"},
                                                         {**act, "milestone": "landed_elsewhere"}])],
                         ignore_index=True)
    return replace(inputs, milestones=milestones, triggers=triggers, outside=outside, careers=CAREERS)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pages") / "report"
    write_report(out, followed_inputs(), makers_limit=12)
    return out


def every_page(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def kinds(folder: Path) -> dict[str, Path]:
    """One page of each kind."""
    return {"index": folder / "index.html", "where": folder / "where.html",
            "org": sorted((folder / "orgs").iterdir())[0], "maker": folder / "makers" / "maker-0.html"}


def tree(path: Path):
    return lxml_html.fromstring(path.read_bytes())


def text_of(element) -> str:
    return re.sub(r"\s+", " ", element.text_content()).strip()


# --- the layout -----------------------------------------------------------------------------


def test_index_has_the_trend_per_year_with_years_as_text(pages):
    page = tree(pages / "index.html")
    heading = [h for h in page.iter("h2") if "per year" in h.text_content().lower()]
    assert len(heading) == 1
    section = heading[0].getparent()
    years = [text_of(th) for th in section.xpath(".//tbody/tr/th")]
    first = make_inputs(opt_out=["maker-2"]).milestones
    expected = sorted({when.year for when in first["first_contact"].dropna()})
    assert [int(year[:4]) for year in years] == list(range(expected[0], AS_OF.year + 1))
    assert years[-1].startswith(str(AS_OF.year)) and "to 30 June" in years[-1]  # a partial year says so
    # the row of each year counts what the inputs hold (maker 2 opted out)
    inputs = make_inputs(opt_out=["maker-2"])
    kept = inputs.milestones.drop(index=maker_key(2))
    for row in section.xpath(".//tbody/tr"):
        year = int(text_of(row.xpath("th")[0])[:4])
        cells = [int(text_of(td).replace(",", "")) for td in row.xpath("td")]
        assert cells == [int((kept[key].dt.year == year).sum())
                         for key in ("first_contact", "first_landed", "maintainer", "organiser")], year
    assert section.xpath(".//img")  # a plot beside the table


def test_where_did_they_go_page_names_destinations_with_counts(pages):
    page = tree(pages / "where.html")
    assert text_of(page.xpath("//title")[0]) == "Where did they go"
    assert text_of(page.xpath("//h1")[0]) == "Where did they go"
    rows = {text_of(row.xpath("th")[0]): [text_of(td) for td in row.xpath("td")]
            for row in page.xpath("//section[@id='by-name']//tbody/tr")}
    assert rows == {"gsa": ["government", "1", "1", "1", "0"], "codeforamerica": ["civic", "1", "2", "0", "1"]}
    assert "maker-0/own-notes" not in page.text_content()  # a person's own account is never named
    index = tree(pages / "index.html")
    assert index.xpath("//a[@href='where.html']")


def test_where_page_says_not_measured_without_following(tmp_path):
    write_report(tmp_path / "r", make_inputs(), makers_limit=2)
    page = tree(tmp_path / "r" / "where.html")
    assert text_of(page.xpath("//h1")[0]) == "Where did they go"
    assert "Not measured" in page.text_content() and not page.xpath("//span[@class='share']")


def test_maker_pages_are_named_by_slug_and_open_with_their_story(pages):
    names = sorted(path.name for path in (pages / "makers").iterdir())
    labels = [f"maker-{n}" for n in [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]
    labels[labels.index("maker-3")] = "script-alert-x-script-zoe"  # maker 3's label is markup: slugged
    assert names == sorted(f"{label}.html" for label in labels)
    for path in (pages / "makers").iterdir():
        page = tree(path)
        first = page.xpath("//main/*")[2]  # nav, h1, then the story
        assert first.get("class") == "story", path.name
        name = text_of(page.xpath("//h1")[0])
        assert text_of(first).startswith(f"{name} first took part in "), text_of(first)
    story = tree(pages / "makers" / "maker-0.html").xpath("//p[@class='story']")[0]
    words = text_of(story)
    # the milestones in order: first contact, then accepted, ..., the government destination
    assert words.index("first took part") < words.index("first change was accepted") \
        < words.index("became a maintainer")
    assert "had work merged in a government repository, gsa/notify" in words


def test_acts_link_to_github(pages):
    page = tree(pages / "makers" / "maker-0.html")
    links = [a.get("href") for a in page.xpath("//section[@id='milestones']//a")]
    assert links and all(link.startswith("https://github.com/") for link in links)
    assert "https://github.com/codeforexample/app0/issues/1" in links  # target issue:1 in that repo


def test_stage_strip_has_quarter_labels(pages):
    page = tree(pages / "makers" / "maker-0.html")
    cells = page.xpath("//ol[@class='strip']/li")
    stages = make_inputs().stages
    quarters = stages[stages["maker"] == maker_key(0)]["quarter"].sort_values()
    assert [text_of(cell.xpath("b")[0]) for cell in cells] == \
        [f"{q.year} Q{(q.month - 1) // 3 + 1}" for q in quarters]


def test_no_page_is_named_by_a_bare_number(pages):
    for path in every_page(pages):
        assert not re.fullmatch(r"m?\d+", path.stem), path


# --- honest figures -------------------------------------------------------------------------


def test_no_percentage_for_fewer_than_ten_people_without_the_mark(pages):
    checked = few = 0
    for path in every_page(pages):
        page = tree(path)
        for share in page.xpath("//span[@class='share']"):
            people = int(share.get("data-people"))
            checked += 1
            if people < 10:
                few += 1
                assert "%" not in share.text_content() and share.xpath("small[@class='few']"), path
        # any other "%" in the page text is a literature figure, marked as cited
        for node in page.xpath("//body//text()[contains(., '%')]"):
            parent = node.getparent()
            holders = [parent.get("class"), *(a.get("class") for a in parent.iterancestors())]
            assert {"share", "cited", "term"} & set(holders), (path.name, str(node))
    assert checked > 30 and few >= 3  # the 2019 cohort (3 people) and the bridges' small groups


def test_every_image_has_alt_text_and_exists(pages):
    seen = 0
    for path in every_page(pages):
        for image in tree(path).xpath("//img"):
            seen += 1
            alt = image.get("alt") or ""
            assert len(alt.split()) >= 8, (path.name, alt)  # says what it shows in words
            assert (path.parent / image.get("src")).is_file()
    assert seen >= 5


def test_pages_declare_their_language_and_tables_have_headers(pages):
    for path in every_page(pages):
        page = tree(path)
        assert page.get("lang") == "en", path
        for table in page.xpath("//table"):
            assert table.xpath(".//th"), path


def wcag_contrast(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours (written here from the standard)."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_stage_colours_meet_wcag_aa(pages):
    colours = set()
    for path in every_page(pages):
        colours |= set(re.findall(r'style="background:(#[0-9a-f]{6})"', path.read_text("utf-8")))
    assert len(colours) >= 4
    for colour in colours:
        assert wcag_contrast(colour, "#ffffff") >= 4.5, colour  # white text on it
        assert wcag_contrast(colour, "#f7fafc") >= 3.0, colour  # it against the page


# --- in the browser -------------------------------------------------------------------------

PROBE = """<script>
(function () {
  function rgb(text) { return text.match(/[\\d.]+/g).slice(0, 3).map(Number); }
  function lum(c) { return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]); }
  function lin(v) { v = v / 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  function ratio(a, b) { var x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
  window.addEventListener("load", function () {
    var out = {lang: document.documentElement.lang, images: [], colours: [], tables: 0, headless: 0};
    document.querySelectorAll("img").forEach(function (img) {
      out.images.push({alt: img.alt, width: img.naturalWidth});
    });
    document.querySelectorAll(".stage, .strip li").forEach(function (el) {
      var s = getComputedStyle(el);
      out.colours.push(ratio(rgb(s.color), rgb(s.backgroundColor)));
    });
    document.querySelectorAll("table").forEach(function (t) {
      out.tables += 1; if (!t.querySelector("th")) { out.headless += 1; }
    });
    var pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
})();
</script>"""


@pytest.mark.parametrize("kind", ["index", "where", "org", "maker"])
def test_every_page_kind_in_headless_chromium(pages, tmp_path, kind):
    """Chromium renders a copy of the page with a probe added: the language, every image
    loaded with its alt text, the computed text and background colours of every stage
    badge and strip cell, and a header cell in every table."""
    copy = tmp_path / "report"
    shutil.copytree(pages, copy)
    page = copy / kinds(pages)[kind].relative_to(pages)
    page.write_text(page.read_text("utf-8").replace("</body>", PROBE + "</body>"), "utf-8")
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    found = lxml_html.fromstring(done.stdout).xpath("//pre[@id='probe']")
    assert found, done.stderr[-2000:]
    probe = json.loads(found[0].text_content())
    assert probe["lang"] == "en"
    assert probe["tables"] > 0 and probe["headless"] == 0
    for image in probe["images"]:
        assert image["alt"].strip() and image["width"] > 0, image
    if kind in ("index", "maker"):
        assert probe["images"] or kind == "maker"
        assert probe["colours"], "stage badges drawn"
    for ratio in probe["colours"]:
        assert ratio >= 4.5, probe["colours"]
