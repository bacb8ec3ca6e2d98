//! The report of the bundled B2B example, opened in headless Chromium (Debian's
//! `chromium`, driven by `tests/browser/report.mjs` through playwright-core) with every
//! request off the machine refused: no console message or page error, no request
//! leaving, no serious or critical axe-core violation at desktop and phone widths, no
//! sideways scrolling of the page, the member search works with script and the page
//! works without, the print style hides the navigation and printing opens every folded
//! part; every chart drew what it says; every count in the page equals what `funnel
//! run` gives at the same moment; and the screenshots the docs show
//! (`docs/img/report-*.png`) are taken from it.
//!
//! `.ci/run` installs `chromium` and the npm packages (`tests/browser`). On a developer
//! machine without them the test is reported as ignored (`SKIPPED: …`, with what to
//! install); in CI (`CI=true`) a missing one fails it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-11-20T00:00:00Z";
const RULES: &str = "examples/b2b/rules.funnel";

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Chromium, node and the npm packages, or why not.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let browser = on_path(&["chromium", "chromium-browser"]).ok_or("chromium is not installed")?;
    let node = on_path(&["node"]).ok_or("node is not installed")?;
    let modules = common::root().join("tests/browser/node_modules");
    for m in ["playwright-core", "axe-core"] {
        if !modules.join(m).is_dir() {
            return Err(format!(
                "the npm package {m} is missing (run `npm ci` in tests/browser)"
            ));
        }
    }
    Ok((browser, node))
}

fn funnel(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_funnel"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "funnel {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `funnel run` as of `at`: (contacts CSV, accounts CSV) as rows of column → value.
fn run_at(tmp: &Path, at: &str) -> (Csv, Csv) {
    let tag = at.replace(':', "");
    let (c, a) = (
        tmp.join(format!("contacts-{tag}.csv")),
        tmp.join(format!("accounts-{tag}.csv")),
    );
    funnel(&[
        "run",
        RULES,
        "-q",
        "--data",
        "examples/b2b/data",
        "--as-of",
        at,
        "-o",
        c.to_str().unwrap(),
        "--accounts-output",
        a.to_str().unwrap(),
    ]);
    (Csv::read(&c), Csv::read(&a))
}

/// A results CSV: the header and every row.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(path: &Path) -> Csv {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        Csv { header, rows }
    }

    fn col(&self, name: &str) -> Vec<&str> {
        let i = self
            .header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column `{name}`"));
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }

    /// Rows with `value` in column `name`.
    fn count(&self, name: &str, value: &str) -> usize {
        self.col(name).iter().filter(|v| **v == value).count()
    }

    /// The segments: columns that only hold `true` and `false`.
    fn segments(&self) -> Vec<String> {
        self.header
            .iter()
            .filter(|h| self.col(h).iter().all(|v| *v == "true" || *v == "false"))
            .cloned()
            .collect()
    }

    fn ids_in(&self, segment: &str) -> BTreeSet<String> {
        self.col("id")
            .into_iter()
            .zip(self.col(segment))
            .filter(|(_, v)| *v == "true")
            .map(|(id, _)| id.to_string())
            .collect()
    }
}

/// One table row of the page: its `data-name`, its header cell's text, the `data-n`
/// of its count cells, and its `data-in`/`data-out` pairs.
#[derive(Debug)]
struct Row {
    name: String,
    head: String,
    ns: Vec<usize>,
    moves: Vec<(usize, usize)>,
    /// The text of every `<td>`.
    cells: Vec<String>,
}

/// The body rows of `<table data-table="NAME">`.
fn table(dom: &str, name: &str) -> Vec<Row> {
    let start = dom
        .find(&format!("data-table=\"{name}\""))
        .unwrap_or_else(|| panic!("no table `{name}`"));
    let end = start + dom[start..].find("</table>").unwrap();
    let body = &dom[start..end];
    let body = &body[body.find("<tbody>").unwrap_or(0)..];
    let row = Regex::new(r#"(?s)<tr(?: data-name="([^"]*)")?>(.*?)</tr>"#).unwrap();
    let head = Regex::new(r"(?s)<th[^>]*>(.*?)</th>").unwrap();
    let n = Regex::new(r#"data-n="(\d+)""#).unwrap();
    let mv = Regex::new(r#"data-in="(\d+)" data-out="(\d+)""#).unwrap();
    let tags = Regex::new(r"<[^>]+>").unwrap();
    let td = Regex::new(r"(?s)<td[^>]*>(.*?)</td>").unwrap();
    row.captures_iter(body)
        .map(|c| Row {
            name: c.get(1).map_or("", |m| m.as_str()).replace("&amp;", "&"),
            head: head
                .captures(&c[2])
                .map(|h| tags.replace_all(&h[1], "").trim().to_string())
                .unwrap_or_default(),
            ns: n
                .captures_iter(&c[2])
                .map(|x| x[1].parse().unwrap())
                .collect(),
            moves: mv
                .captures_iter(&c[2])
                .map(|x| (x[1].parse().unwrap(), x[2].parse().unwrap()))
                .collect(),
            cells: td
                .captures_iter(&c[2])
                .map(|x| tags.replace_all(&x[1], "").trim().to_string())
                .collect(),
        })
        .collect()
}

fn by_name<'a>(rows: &'a [Row], name: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no row `{name}`"))
}

/// The browser test, shown as skipped (with what to install) without Chromium, Node.js
/// or the npm packages.
fn main() {
    common::external::run(vec![common::external::needing(
        "report_renders_in_a_browser",
        || {
            tools()
                .err()
                .map(|why| format!("{why}; `.ci/run` installs them (apt-get install chromium nodejs, npm ci in tests/browser)"))
        },
        || report_renders_in_a_browser(tools().unwrap()),
    )])
}

fn report_renders_in_a_browser((browser, node): (PathBuf, PathBuf)) {
    let root = common::root();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let page = tmp.join("report.html");
    funnel(&[
        "report",
        RULES,
        "--data",
        "examples/b2b/data",
        "--as-of",
        AS_OF,
        "-o",
        page.to_str().unwrap(),
    ]);
    let shots = root.join("docs/img");
    std::fs::create_dir_all(&shots).unwrap();
    let dom_path = tmp.join("dom.html");
    let out = Command::new("timeout")
        .arg("300")
        .arg(&node)
        .arg(root.join("tests/browser/report.mjs"))
        .arg(&page)
        .arg(&dom_path)
        .arg(&shots)
        .env("CHROMIUM", &browser)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the browser check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["console"], serde_json::json!([]), "console messages");
    assert_eq!(seen["errors"], serde_json::json!([]), "page errors");
    assert_eq!(
        seen["remote"],
        serde_json::json!([]),
        "requests off the machine"
    );
    let serious: Vec<_> = seen["axe"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(serious.is_empty(), "axe-core: {serious:#?}");
    for w in seen["widths"].as_array().unwrap() {
        assert_eq!(w["overflow"], 0, "the page scrolls sideways: {w}");
    }
    let search = &seen["search"];
    let (rows, visible) = (
        search["rows"].as_u64().unwrap(),
        search["visible"].as_u64().unwrap(),
    );
    assert!(visible > 0 && visible < rows, "member search: {search}");
    assert_eq!(
        search["opened"], search["visible"],
        "one match per list: {search}"
    );
    let print = &seen["print"];
    assert_eq!(
        print,
        &serde_json::json!({"nav": false, "box": false, "closed": 0}),
        "print style"
    );
    let plain = &seen["noscript"];
    assert_eq!(plain["search_shown"], false, "no search box without script");
    assert!(plain["tables"].as_u64().unwrap() > 40, "{plain}");
    assert_eq!(plain["opened"], 1, "a member list opens from the keyboard");
    for width in ["desktop", "phone"] {
        for section in [
            "top",
            "overview",
            "movement",
            "overlap",
            "lifecycle",
            "scores",
        ] {
            let png = std::fs::read(shots.join(format!("report-{section}-{width}.png"))).unwrap();
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 10_000,
                "{section} {width}"
            );
        }
    }

    let dom = std::fs::read_to_string(&dom_path).unwrap();
    assert!(
        dom.contains("<h1>Audience report</h1>"),
        "page did not load"
    );
    assert!(dom.contains("As of <time datetime=\"2026-11-20T00:00:00Z\">Friday 20 November 2026"));

    // Every chart drew what it says, and something.
    let svg = Regex::new(r#"(?s)<svg [^>]*data-chart="(\w+)" data-(bars|series)="(\d+)".*?</svg>"#)
        .unwrap();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for c in svg.captures_iter(&dom) {
        let said: usize = c[3].parse().unwrap();
        let mark = if &c[2] == "bars" {
            "class=\"bar"
        } else {
            "<polyline class=\"series\""
        };
        assert_eq!(c[0].matches(mark).count(), said, "a {} chart", &c[1]);
        assert!(said > 0, "an empty {} chart", &c[1]);
        *kinds.entry(c[1].to_string()).or_default() += 1;
    }
    for k in [
        "histogram",
        "movement",
        "sparkline",
        "lines",
        "stacked",
        "bars",
    ] {
        assert!(kinds.contains_key(k), "no {k} chart: {kinds:?}");
    }
    // Every count shows its own number.
    let cell = Regex::new(r#"data-n="(\d+)">([^<]*)<"#).unwrap();
    let mut counts = 0;
    for c in cell.captures_iter(&dom) {
        assert_eq!(c[2].replace(',', ""), c[1], "a count cell");
        counts += 1;
    }
    assert!(counts > 2000, "{counts} count cells");

    // The numbers are the runs'.
    let moments: Vec<String> = (0..=12)
        .rev()
        .map(|k| {
            let t: chrono::DateTime<chrono::Utc> = AS_OF.parse().unwrap();
            (t - chrono::Duration::weeks(k)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .collect();
    let runs: Vec<(Csv, Csv)> = moments.iter().map(|m| run_at(&tmp, m)).collect();
    let (now_c, now_a) = runs.last().unwrap();
    let (week_c, week_a) = &runs[runs.len() - 2];
    let card = |name: &str| -> usize {
        let re = Regex::new(&format!(r#"data-card="{name}">([\d,]+)<"#)).unwrap();
        re.captures(&dom).unwrap()[1]
            .replace(',', "")
            .parse()
            .unwrap()
    };
    assert_eq!(card("contacts"), now_c.rows.len());
    assert_eq!(card("accounts"), now_a.rows.len());
    let segments = now_c.segments();
    let change = Regex::new(r#"data-d="(-?\d+)""#).unwrap();
    for (word, now, week) in [("contacts", now_c, week_c), ("accounts", now_a, week_a)] {
        let rows = table(&dom, &format!("segments-{word}"));
        assert_eq!(rows.len(), now.segments().len(), "{word}");
        let body = &dom[dom
            .find(&format!("data-table=\"segments-{word}\""))
            .unwrap()..];
        for r in &rows {
            assert_eq!(r.ns[0], now.count(&r.name, "true"), "segment `{}`", r.name);
            let at = body.find(&format!("data-name=\"{}\"", r.name)).unwrap();
            let d: i64 = change.captures(&body[at..]).unwrap()[1].parse().unwrap();
            let expected = now.count(&r.name, "true") as i64 - week.count(&r.name, "true") as i64;
            assert_eq!(d, expected, "change of `{}`", r.name);
        }
    }
    // Movement: now, this week, all weeks, and week by week, from the runs' members.
    let csv = |k: usize, account: bool| if account { &runs[k].1 } else { &runs[k].0 };
    for (key, kind_rows) in [
        ("segment", table(&dom, "movement-segment")),
        ("tier", table(&dom, "movement-tier")),
        ("persona", table(&dom, "movement-persona")),
    ] {
        let steps = table(&dom, &format!("steps-{key}"));
        assert_eq!(steps.len(), kind_rows.len());
        for r in &kind_rows {
            let account = r.name.ends_with(" (accounts)");
            let label = r.name.trim_end_matches(" (accounts)");
            let (col, value) = match label.split_once(" = ") {
                Some((c, v)) => (c, v),
                None => (label, "true"),
            };
            let members = |k: usize| -> BTreeSet<String> {
                let t = csv(k, account);
                t.col("id")
                    .into_iter()
                    .zip(t.col(col))
                    .filter(|(_, v)| *v == value)
                    .map(|(id, _)| id.to_string())
                    .collect()
            };
            let at: Vec<BTreeSet<String>> = (0..runs.len()).map(members).collect();
            let moves: Vec<(usize, usize)> = at
                .windows(2)
                .map(|w| {
                    (
                        w[1].difference(&w[0]).count(),
                        w[0].difference(&w[1]).count(),
                    )
                })
                .collect();
            let last = *moves.last().unwrap();
            let all = moves.iter().fold((0, 0), |(a, b), (e, l)| (a + e, b + l));
            assert_eq!(
                r.ns,
                vec![at.last().unwrap().len(), last.0, last.1, all.0, all.1],
                "movement of `{}`",
                r.name
            );
            assert_eq!(
                by_name(&steps, &r.name).moves,
                moves,
                "`{}` week by week",
                r.name
            );
        }
    }
    // Overlap: pairs of segments from the run.
    let overlap = table(&dom, "overlap");
    assert!(overlap.len() >= 40);
    for (i, r) in overlap.iter().enumerate() {
        let a = now_c.ids_in(&r.name);
        for (j, other) in overlap.iter().enumerate() {
            let both = a.intersection(&now_c.ids_in(&other.name)).count();
            assert_eq!(
                r.ns[j], both,
                "overlap of `{}` and `{}` ({i}, {j})",
                r.name, other.name
            );
        }
    }
    // Tier and persona shares, bands, persona × tier.
    for list in ["readiness", "buying_role", "journey", "social_persona"] {
        for r in table(&dom, &format!("shares-{list}")) {
            let key = if r.name == "(none)" {
                ""
            } else {
                r.name.as_str()
            };
            assert_eq!(r.ns[0], now_c.count(list, key), "{list} {}", r.name);
        }
    }
    for r in table(&dom, "bands-sales_ready") {
        let band = r.name.trim_start_matches("readiness = ");
        assert_eq!(r.ns[0], now_c.count("readiness", band), "band {band}");
    }
    for list in ["buying_role", "journey", "social_persona"] {
        let cross = format!("cross-{list}-readiness");
        let bands = ["low", "middle", "high", ""];
        for r in table(&dom, &cross) {
            let persona = if r.name == "(none)" {
                ""
            } else {
                r.name.as_str()
            };
            for (j, band) in bands.iter().enumerate() {
                let n = now_c
                    .col(list)
                    .iter()
                    .zip(now_c.col("readiness"))
                    .filter(|(p, b)| **p == persona && *b == *band)
                    .count();
                assert_eq!(r.ns[j], n, "{cross} {persona} {band}");
            }
        }
    }
    // Score histograms: the zeros apart, the bins of the rest over the score's range.
    for (score, hi) in [
        ("sales_ready", 100.0),
        ("crm_interest", 100.0),
        ("fit", 50.0),
        ("engagement", 100.0),
        ("lead_quality", 150.0),
    ] {
        let values: Vec<f64> = now_c
            .col(score)
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect();
        let rows = table(&dom, &format!("score-{score}"));
        let split = rows[0].cells[0] == "exactly 0";
        let counts: Vec<usize> = rows.iter().map(|r| r.ns[0]).collect();
        let (zeros, bins) = match split {
            true => (Some(counts[0]), &counts[1..]),
            false => (None, &counts[..]),
        };
        assert_eq!(bins.len(), funnel::report::BINS, "{score}");
        if let Some(z) = zeros {
            assert_eq!(
                z,
                values.iter().filter(|v| **v == 0.0).count(),
                "{score} zeros"
            );
        }
        let mut expected = vec![0; funnel::report::BINS];
        for v in values.iter().filter(|v| zeros.is_none() || **v != 0.0) {
            expected[funnel::report::bin(*v, 0.0, hi)] += 1;
        }
        assert_eq!(bins, expected, "{score} bins");
    }
    assert!(
        dom.contains("score exactly 0</strong>"),
        "a zero spike is called out"
    );
    // Top accounts: the score and the number of contacts (from the contacts file).
    let data = Csv::read(&root.join("examples/b2b/data/contacts.csv"));
    let top = table(&dom, "top-committee");
    assert_eq!(top.len(), 10);
    for r in top {
        let i = now_a.col("id").iter().position(|id| *id == r.name).unwrap();
        assert_eq!(
            r.cells[0],
            now_a.col("committee")[i],
            "committee of {}",
            r.name
        );
        assert_eq!(
            r.ns,
            vec![data.count("account", &r.name)],
            "contacts of {}",
            r.name
        );
    }
    // Members: every listed id is in its segment; 20 at most.
    for (run, segments) in [(now_c, &segments), (now_a, &now_a.segments())] {
        for seg in segments {
            let ids = run.ids_in(seg);
            let marker = format!("data-table=\"members-{seg}\"");
            if ids.is_empty() {
                assert!(!dom.contains(&marker));
                continue;
            }
            let listed = table(&dom, &format!("members-{seg}"));
            assert_eq!(listed.len(), ids.len().min(20), "{seg}");
            for r in listed {
                assert!(ids.contains(&r.head), "{} is not in {seg}", r.head);
            }
        }
    }
}
