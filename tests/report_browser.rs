//! The report of the bundled B2B example, opened in headless Chromium with the network
//! off: no console errors, every chart rendered with the expected number of bars and
//! lines, the tables hold `funnel run`'s numbers, and the screenshot the docs show
//! (`docs/img/report.png`) is taken from it.
//!
//! `.ci/run` installs Debian's `chromium`. On a developer machine without it the test
//! is reported as ignored (`SKIPPED: …`, with what to install); in CI (`CI=true`) a
//! missing browser fails it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-11-20T00:00:00Z";

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
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

/// Runs headless Chromium on a local page with the network off; returns (stdout, stderr).
fn browse(browser: &Path, profile: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let _ = std::fs::remove_dir_all(profile);
    let out = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Per column of a results CSV: value → rows.
fn tallies(csv_path: &Path) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut reader = csv::Reader::from_path(csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for rec in reader.records() {
        for (name, v) in header.iter().zip(rec.unwrap().iter()) {
            *out.entry(name.clone())
                .or_default()
                .entry(v.to_string())
                .or_default() += 1;
        }
    }
    out
}

/// The rows of `<table data-table="NAME">`: first cell → the cells after it.
fn table(dom: &str, name: &str) -> Vec<(String, Vec<String>)> {
    let start = dom
        .find(&format!("data-table=\"{name}\""))
        .unwrap_or_else(|| panic!("no table `{name}`"));
    let body = &dom[start..start + dom[start..].find("</table>").unwrap()];
    let row = Regex::new(r"(?s)<tr[^>]*>(.*?)</tr>").unwrap();
    let cell = Regex::new(r"(?s)<t[dh][^>]*>(.*?)</t[dh]>").unwrap();
    row.captures_iter(body)
        .skip(1)
        .map(|r| {
            let cells: Vec<String> = cell
                .captures_iter(&r[1])
                .map(|c| c[1].to_string())
                .collect();
            (cells[0].clone(), cells[1..].to_vec())
        })
        .collect()
}

/// The browser test, shown as skipped (with what to install) without Chromium.
fn main() {
    common::external::run(vec![common::external::needing(
        "report_renders_in_a_browser",
        || {
            chromium().is_none().then(|| {
                "Chromium is not installed: `apt-get install chromium` (Debian, Ubuntu)".into()
            })
        },
        || report_renders_in_a_browser(&chromium().unwrap()),
    )])
}

fn report_renders_in_a_browser(browser: &Path) {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser");
    std::fs::create_dir_all(&tmp).unwrap();
    let page = tmp.join("report.html");
    let (contacts, accounts) = (tmp.join("contacts.csv"), tmp.join("accounts.csv"));
    let data = ["--data", "examples/b2b/data", "--as-of", AS_OF];
    let rules = "examples/b2b/rules.funnel";
    funnel(&[&["report", rules, "-o", page.to_str().unwrap()], &data[..]].concat());
    funnel(
        &[
            &["run", rules, "-q", "-o", contacts.to_str().unwrap()][..],
            &["--accounts-output", accounts.to_str().unwrap()],
            &data,
        ]
        .concat(),
    );

    let (dom, log) = browse(browser, &tmp.join("profile"), &page, &["--dump-dom"]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(dom.contains("<h1>Funnel report</h1>"), "page did not load");

    // Every chart drew what it says, and something.
    let svg = Regex::new(r#"(?s)<svg [^>]*data-chart="(\w+)" data-(bars|series)="(\d+)".*?</svg>"#)
        .unwrap();
    let mut kinds: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for c in svg.captures_iter(&dom) {
        let said: usize = c[3].parse().unwrap();
        let mark = if &c[2] == "bars" {
            "class=\"bar\""
        } else {
            "<polyline"
        };
        assert_eq!(c[0].matches(mark).count(), said, "a {} chart", &c[1]);
        assert!(said > 0, "an empty {} chart", &c[1]);
        kinds.entry(c[1].to_string()).or_default().push(said);
    }
    let run_c = tallies(&contacts);
    let run_a = tallies(&accounts);
    let is = |t: &BTreeMap<String, usize>, v: &str| t.get(v).copied().unwrap_or(0);
    let segments_c: Vec<&String> = run_c
        .iter()
        .filter(|(_, t)| t.keys().all(|v| v == "true" || v == "false"))
        .map(|(n, _)| n)
        .collect();
    let segments_a: Vec<&String> = run_a
        .iter()
        .filter(|(_, t)| t.keys().all(|v| v == "true" || v == "false"))
        .map(|(n, _)| n)
        .collect();
    // Segment bars: one per contact segment, one per account segment, then top accounts.
    assert_eq!(kinds["bars"][0], segments_c.len());
    assert_eq!(kinds["bars"][1], segments_a.len());
    // Histograms: one per score, 20 bins each.
    assert_eq!(kinds["histogram"], vec![20; 8]);
    // Shares: 1 tier set and 3 persona lists, with "(none)" each.
    assert_eq!(kinds["stacked"].len(), 4);
    // Trends: the tier set has 3 bands; a sparkline per segment.
    assert_eq!(kinds["lines"], vec![3]);
    assert_eq!(
        kinds["sparkline"].len(),
        segments_c.len() + segments_a.len()
    );

    // The tables hold the run's numbers.
    let seg = table(&dom, "segments-contacts");
    assert_eq!(seg.len(), segments_c.len());
    for (name, cells) in &seg {
        assert_eq!(
            cells[0],
            is(&run_c[name], "true").to_string(),
            "segment `{name}`"
        );
    }
    for (name, cells) in table(&dom, "segments-accounts") {
        assert_eq!(
            cells[0],
            is(&run_a[&name], "true").to_string(),
            "segment `{name}`"
        );
    }
    for list in ["readiness", "buying_role", "journey", "social_persona"] {
        for (label, cells) in table(&dom, &format!("shares-{list}")) {
            let key = if label == "(none)" {
                ""
            } else {
                label.as_str()
            };
            assert_eq!(
                cells[0],
                is(&run_c[list], key).to_string(),
                "{list} {label}"
            );
        }
    }
    // The last trend column is now, and equals the run.
    for (name, cells) in table(&dom, "trend-segments") {
        let (name, run) = match name.strip_suffix(" (accounts)") {
            Some(n) => (n.to_string(), &run_a),
            None => (name, &run_c),
        };
        assert_eq!(cells.len(), 14, "12 weekly steps, now and a sparkline");
        assert_eq!(
            cells[12],
            is(&run[&name], "true").to_string(),
            "trend of `{name}`"
        );
    }

    // The screenshot the docs use.
    let shot = common::root().join("docs/img/report.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let (_, log) = browse(
        browser,
        &tmp.join("profile"),
        &page,
        &[
            "--window-size=1200,2600",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(!log.contains(":CONSOLE"), "console messages: {log}");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot"
    );
}
