//! Hostile rule files, data and plans (issue 16): each reproducer of a crash, an escape,
//! a hang or a silent loss, as a regression test. See `docs/security.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AS_OF: &str = "2026-11-20T00:00:00Z";

use common::{Ran as Out, root, run_funnel_with as funnel_with, show_run as show};

fn funnel_in(dir: &Path, args: &[&str]) -> Out {
    funnel_with(dir, args, Stdio::null())
}

/// A fresh empty folder.
fn scratch(name: &str) -> PathBuf {
    common::scratch("hardening", name)
}

/// A project with the rules `rules` and the CLI test data (contacts c1, c2, …).
fn project(name: &str, rules: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("rules.funnel"), rules).unwrap();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for f in ["contacts.csv", "events.csv", "accounts.csv", "changes.csv"] {
        std::fs::copy(root().join("tests/cli/run/data").join(f), data.join(f)).unwrap();
    }
    dir
}

const SCHEMA: &str = "contact {\n  job_title: text?\n  lead_stage: one of (lead, mql, sql) with history\n  account: account?\n}\naccount { name: text }\nevent page_viewed { url: text }\nevent email_bounced { kind: one of (hard, soft) }\n";

fn rules(body: &str) -> String {
    format!("{SCHEMA}{body}\n")
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn run_lists(dir: &Path, extra: &[&str]) -> Out {
    let mut args = vec![
        "run",
        "rules.funnel",
        "--data",
        "data",
        "--as-of",
        AS_OF,
        "-q",
        "-o",
        "out.csv",
        "--lists",
        "lists",
    ];
    args.extend_from_slice(extra);
    funnel_in(dir, &args)
}

// ------------------------------------------------------------------ --lists names

#[test]
fn list_names_cannot_leave_the_lists_folder() {
    let dir = project(
        "lists_escape",
        &rules("segment `../../escaped` = job_title is present\npersonas `a/b` { `../c` = true }"),
    );
    let o = run_lists(&dir, &[]);
    assert_eq!(o.code, 0, "{}", show(&o));
    assert_eq!(
        listing(&dir.join("lists")),
        [
            "persona.a%2Fb.%2E%2E%2Fc.csv",
            "segment.%2E%2E%2F%2E%2E%2Fescaped.csv"
        ]
    );
    assert!(!dir.join("escaped.csv").exists());
    assert!(!dir.parent().unwrap().join("segment.escaped.csv").exists());
}

#[test]
fn list_names_of_dotted_names_do_not_collide() {
    let dir = project(
        "lists_dots",
        &rules("personas `a.b` { c = true }\npersonas a { `b.c` = true }"),
    );
    let o = run_lists(&dir, &[]);
    assert_eq!(o.code, 0, "{}", show(&o));
    assert_eq!(
        listing(&dir.join("lists")),
        ["persona.a%2Eb.c.csv", "persona.a.b%2Ec.csv"]
    );
}

#[test]
fn lists_differing_only_in_case_are_refused_and_nothing_is_written() {
    let dir = project(
        "lists_case",
        &rules("segment Hot = true\nsegment hot = true"),
    );
    std::fs::write(dir.join("out.csv"), "old\n").unwrap();
    let o = run_lists(&dir, &[]);
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(o.stderr.contains("differs only in case"), "{}", show(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("out.csv")).unwrap(),
        "old\n"
    );
    assert!(!dir.join("lists").exists(), "{:?}", listing(&dir));
    assert_eq!(listing(&dir), ["data", "out.csv", "rules.funnel"]);
}

// ------------------------------------------------------------------ atomic outputs

#[test]
fn a_run_that_fails_writing_lists_replaces_and_leaves_nothing() {
    let dir = project(
        "lists_fail",
        &rules("segment hot = true\nsegment cold = false"),
    );
    std::fs::write(dir.join("out.csv"), "old\n").unwrap();
    // A folder where a list file must go: the list cannot be written.
    std::fs::create_dir_all(dir.join("lists/segment.hot.csv")).unwrap();
    let o = run_lists(&dir, &["--skip-bad-rows"]);
    assert_eq!(o.code, 2, "{}", show(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("out.csv")).unwrap(),
        "old\n"
    );
    assert_eq!(listing(&dir.join("lists")), ["segment.hot.csv"]);
    assert_eq!(listing(&dir), ["data", "lists", "out.csv", "rules.funnel"]);
}

#[test]
fn a_failed_run_with_skip_bad_rows_leaves_no_rejects_file() {
    let dir = project("rejects_fail", &rules("segment hot = true"));
    std::fs::write(
        dir.join("data/contacts.csv"),
        "id,job_title,lead_stage,account\nc1,CEO,nope,a1\nc2,x,lead,a1\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("lists/segment.hot.csv")).unwrap();
    let o = run_lists(&dir, &["--skip-bad-rows"]);
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(!dir.join("rejects.csv").exists(), "{}", show(&o));
    assert!(!dir.join("out.csv").exists());
}

#[test]
fn stale_lists_and_a_stale_rejects_file_are_removed() {
    let dir = project("stale", &rules("segment hot = true\nsegment cold = false"));
    let lists = dir.join("lists");
    std::fs::create_dir_all(&lists).unwrap();
    for old in [
        "segment.gone.csv",
        "tier.old.band.csv",
        "account.segment.x.csv",
    ] {
        std::fs::write(lists.join(old), "id\nc9\n").unwrap();
    }
    std::fs::write(lists.join("notes.txt"), "mine").unwrap();
    std::fs::write(dir.join("rejects.csv"), "file,line\nold,1\n").unwrap();
    let o = run_lists(&dir, &["--skip-bad-rows"]);
    assert_eq!(o.code, 0, "{}", show(&o));
    assert_eq!(
        listing(&lists),
        ["notes.txt", "segment.cold.csv", "segment.hot.csv"]
    );
    assert!(!dir.join("rejects.csv").exists());
}

// ------------------------------------------------------------------ CSV injection

#[test]
fn csv_outputs_neutralise_formulas() {
    let dir = project(
        "formula",
        &rules("value title = job_title\nsegment hot = lead_stage in (lead, mql)"),
    );
    std::fs::write(
        dir.join("data/contacts.csv"),
        "id,job_title,lead_stage,account\n=cmd|' /C calc'!A0,+SUM(1),lead,a1\n@x,-2,lead,a1\nc3,\"\tTAB\",nope,a1\n",
    )
    .unwrap();
    let o = run_lists(&dir, &["--skip-bad-rows"]);
    assert_eq!(o.code, 0, "{}", show(&o));
    let out = std::fs::read_to_string(dir.join("out.csv")).unwrap();
    assert!(out.contains("'=cmd|' /C calc'!A0,'+SUM(1),true"), "{out}");
    assert!(out.contains("'@x,'-2,true"), "{out}");
    let list = std::fs::read_to_string(dir.join("lists/segment.hot.csv")).unwrap();
    assert_eq!(list, "id\n'=cmd|' /C calc'!A0\n'@x\n");
    let rejects = std::fs::read_to_string(dir.join("rejects.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(rejects.as_bytes());
    let mut raws = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        for cell in &record {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{rejects}"
            );
        }
        raws.push(record.get(4).unwrap().to_string());
    }
    assert!(raws.contains(&"c3,\tTAB,nope,a1".to_string()), "{rejects}");
}

// ------------------------------------------------------------------ links, FIFOs, size

#[cfg(unix)]
#[test]
fn use_does_not_follow_links_out_of_the_project() {
    let dir = scratch("use_links");
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd.funnel")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.join("etc")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.funnel")).unwrap();
    for target in ["passwd.funnel", "etc/passwd", "zero.funnel"] {
        std::fs::write(dir.join("rules.funnel"), format!("use \"{target}\"\n")).unwrap();
        let o = funnel_in(&dir, &["check", "rules.funnel"]);
        assert_eq!(o.code, 1, "{target}: {}", show(&o));
        assert!(
            o.stderr.contains("outside the project folder"),
            "{}",
            show(&o)
        );
        assert!(!o.stderr.contains("root:"), "{}", show(&o));
    }
}

#[cfg(unix)]
#[test]
fn a_test_file_cannot_name_rules_outside_the_project() {
    let dir = scratch("test_links");
    std::os::unix::fs::symlink("/etc/passwd", dir.join("rules.funnel")).unwrap();
    std::fs::write(dir.join("a.funnel-test"), "rules \"rules.funnel\"\n").unwrap();
    std::fs::write(
        dir.join("b.funnel-test"),
        "rules \"../../../../../../etc/passwd\"\n",
    )
    .unwrap();
    for t in ["a.funnel-test", "b.funnel-test"] {
        let o = funnel_in(&dir, &["test", t]);
        assert_ne!(o.code, 0, "{}", show(&o));
        assert!(
            o.stderr.contains("outside the project folder")
                || o.stdout.contains("outside the project folder"),
            "{}",
            show(&o)
        );
        assert!(
            !o.stderr.contains("root:") && !o.stdout.contains("root:"),
            "{}",
            show(&o)
        );
    }
}

/// Runs `funnel` with a deadline: a hang is a failure, not a stuck test run.
fn within(secs: u64, dir: &Path, args: &[&str], stdin: Stdio) -> Out {
    let mut child = common::funnel_command(dir, args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return Out::of(child.wait_with_output().unwrap());
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("`funnel {}` did not finish in {secs}s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn devices_fifos_and_endless_stdin_are_refused() {
    let dir = project("devices", &rules("segment hot = true"));
    let fifo = dir.join("fifo.funnel");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for args in [
        vec!["check", "/dev/zero"],
        vec!["check", "fifo.funnel"],
        vec!["fmt", "--check", "fifo.funnel"],
    ] {
        let o = within(20, &dir, &args, Stdio::null());
        assert_eq!(o.code, 2, "{args:?}: {}", show(&o));
        assert!(o.stderr.contains("not a regular file"), "{}", show(&o));
    }
    for cmd in ["check", "fmt"] {
        let zero = std::fs::File::open("/dev/zero").unwrap();
        let o = within(30, &dir, &[cmd, "-"], Stdio::from(zero));
        assert_eq!(o.code, 2, "{cmd}: {}", show(&o));
        assert!(o.stderr.contains("FUNNEL_MAX_SOURCE_BYTES"), "{}", show(&o));
    }
    std::fs::remove_file(dir.join("data/events.csv")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("data/events.csv"))
            .status()
            .unwrap()
            .success()
    );
    let o = within(
        20,
        &dir,
        &["run", "rules.funnel", "--data", "data", "--as-of", AS_OF],
        Stdio::null(),
    );
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(o.stderr.contains("not a regular file"), "{}", show(&o));
}

// ------------------------------------------------------------------ expressions

fn check_in_thread(text: String) -> Vec<funnel::diag::Diagnostic> {
    // The default test thread stack (2 MiB), smaller than the CLI's main thread.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || funnel::check::check_text("long.funnel", &text).diagnostics)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn a_long_plus_chain_is_an_error_not_a_stack_overflow() {
    let chain = vec!["1"; 150_000].join("+");
    let text = format!("contact {{ a: int? }}\nvalue v = {chain}\n");
    assert!(text.len() > 290_000);
    let diags = check_in_thread(text.clone());
    assert!(
        diags
            .iter()
            .any(|d| d.code.as_str() == "E0103" && d.message.contains("operators")),
        "{diags:?}"
    );
    let formatted = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || funnel::syntax::format_source(funnel::syntax::FileId(0), &text).is_err())
        .unwrap()
        .join()
        .unwrap();
    assert!(formatted);
}

#[test]
fn long_and_or_chains_take_linear_time() {
    let terms = |op: &str| {
        (0..40_000)
            .map(|i| format!("a {op} {i}"))
            .collect::<Vec<_>>()
    };
    let text = format!(
        "contact {{ a: int? }}\nsegment x = {}\nsegment y = {}\n",
        terms("=").join(" or "),
        terms("!=").join(" and ")
    );
    let start = Instant::now();
    let diags = check_in_thread(text);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    // Quadratic took minutes; linear takes seconds even in a debug build on a busy machine.
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn an_and_chain_wider_than_the_limit_is_an_error() {
    let terms: Vec<String> = (0..50_001).map(|i| format!("a = {i}")).collect();
    let text = format!(
        "contact {{ a: int? }}\nsegment x = {}\n",
        terms.join(" and ")
    );
    let diags = check_in_thread(text);
    assert!(
        diags.iter().any(|d| d.message.contains("expression width")),
        "{diags:?}"
    );
}

// ------------------------------------------------------------------ plans

#[test]
fn a_hand_edited_plan_is_refused_not_a_panic() {
    let dir = project(
        "bad_plan",
        &rules("score s in 0..10 = 3\nsegment hot = s > 1"),
    );
    let o = funnel_in(&dir, &["compile", "rules.funnel", "-o", "plan.json"]);
    assert_eq!(o.code, 0, "{}", show(&o));
    let plan = std::fs::read_to_string(dir.join("plan.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let bad = [
        ("range", serde_json::json!([10.0, 0.0])),
        ("node", serde_json::json!(99)),
    ];
    for (what, value) in bad {
        let mut j = json.clone();
        match what {
            "range" => j["nodes"][0]["kind"]["score"]["range"] = value,
            _ => j["nodes"][1]["kind"]["segment"]["binary"]["lhs"]["node"] = value,
        }
        std::fs::write(dir.join("bad.json"), serde_json::to_string(&j).unwrap()).unwrap();
        for cmd in [
            vec![
                "run", "--plan", "bad.json", "--data", "data", "--as-of", AS_OF,
            ],
            vec![
                "explain",
                "--plan",
                "bad.json",
                "--data",
                "data",
                "--as-of",
                AS_OF,
                "--contact",
                "c1",
            ],
            vec![
                "report", "--plan", "bad.json", "--data", "data", "--as-of", AS_OF, "-o", "r.html",
            ],
        ] {
            let o = funnel_in(&dir, &cmd);
            assert_eq!(o.code, 2, "{what} {cmd:?}: {}", show(&o));
            assert!(o.stderr.contains("not a valid Funnel plan"), "{}", show(&o));
        }
    }
    json["nodes"][0]["kind"]["score"]["range"] = serde_json::json!([0.0, 10.0]);
    std::fs::write(dir.join("good.json"), serde_json::to_string(&json).unwrap()).unwrap();
    let o = funnel_in(
        &dir,
        &[
            "run",
            "--plan",
            "good.json",
            "--data",
            "data",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(o.code, 0, "{}", show(&o));
}

// ------------------------------------------------------------------ data

#[test]
fn a_near_miss_data_file_name_is_an_error() {
    for (name, suggestion) in [("Events.csv", "events.csv"), ("event.csv", "events.csv")] {
        let dir = project(&format!("near_{name}"), &rules("segment hot = page_viewed"));
        std::fs::rename(dir.join("data/events.csv"), dir.join("data").join(name)).unwrap();
        let o = funnel_in(
            &dir,
            &["run", "rules.funnel", "--data", "data", "--as-of", AS_OF],
        );
        assert_eq!(o.code, 2, "{}", show(&o));
        assert!(
            o.stderr.contains(name) && o.stderr.contains(suggestion),
            "{}",
            show(&o)
        );
    }
}

#[test]
fn a_huge_csv_record_is_refused_early() {
    let dir = project("huge_record", &rules("segment hot = true"));
    let mut text = b"id,job_title,lead_stage,account\nc1,".to_vec();
    text.extend(std::iter::repeat_n(b'x', 3 << 20));
    text.extend_from_slice(b",lead,a1\n");
    std::fs::write(dir.join("data/contacts.csv"), &text).unwrap();
    let o = funnel_in(
        &dir,
        &["run", "rules.funnel", "--data", "data", "--as-of", AS_OF],
    );
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(o.stderr.contains("FUNNEL_MAX_RECORD_BYTES"), "{}", show(&o));
    std::fs::write(
        dir.join("data/contacts.ndjson"),
        [b"{\"id\":\"".as_slice(), &vec![b'y'; 3 << 20], b"\"}\n"].concat(),
    )
    .unwrap();
    std::fs::remove_file(dir.join("data/contacts.csv")).unwrap();
    let o = funnel_in(
        &dir,
        &["run", "rules.funnel", "--data", "data", "--as-of", AS_OF],
    );
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(o.stderr.contains("FUNNEL_MAX_RECORD_BYTES"), "{}", show(&o));
}

#[test]
fn ndjson_duplicate_keys_are_refused() {
    let dir = project("ndjson_dup", &rules("segment hot = true"));
    std::fs::remove_file(dir.join("data/contacts.csv")).unwrap();
    std::fs::write(
        dir.join("data/contacts.ndjson"),
        "{\"id\":\"c1\",\"lead_stage\":\"lead\",\"lead_stage\":\"mql\"}\n",
    )
    .unwrap();
    let o = funnel_in(
        &dir,
        &["run", "rules.funnel", "--data", "data", "--as-of", AS_OF],
    );
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(o.stderr.contains("appears twice"), "{}", show(&o));
}

// ------------------------------------------------------------------ regex

#[test]
fn a_regex_too_big_to_compile_fails_check_with_its_place() {
    let text = rules("segment s = job_title matches /a{1000}{1000}/");
    let checked = funnel::check::check_text("rules.funnel", &text);
    let d = checked
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0308" || d.message.contains("compiled regex size"))
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    assert!(d.message.contains("compiled regex size"), "{d:?}");
    assert!(d.span.start > 0);
}

// ------------------------------------------------------------------ dbt

#[test]
fn dbt_schema_yml_quotes_every_name() {
    let dir = project(
        "dbt",
        &rules("segment `a: b` = true\nsegment `&x` = true\nsegment `#c` = true"),
    );
    let o = funnel_in(
        &dir,
        &[
            "sql",
            "rules.funnel",
            "--dialect",
            "duckdb",
            "--dbt",
            "models",
        ],
    );
    assert_eq!(o.code, 0, "{}", show(&o));
    let yml = std::fs::read_to_string(dir.join("models/schema.yml")).unwrap();
    for name in ["\"a: b\"", "\"&x\"", "\"#c\""] {
        assert!(yml.contains(&format!("- name: {name}\n")), "{yml}");
    }
}

// ------------------------------------------------------------------ terminal and CI logs

/// No line of `text` is a forged CI command, and no control character but the line
/// feed reaches it.
fn assert_log_safe(text: &str) {
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "forged line {line:?} in\n{text}"
        );
    }
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' || ('\u{202a}'..='\u{202e}').contains(&c)),
        "control character in\n{text:?}"
    );
}

#[test]
fn diagnostics_escape_literals_and_source_text() {
    let dir = project(
        "diag_escape",
        &rules(
            "segment s = lead_stage = \"x\\n::error file=a::forged\\u{1b}[31m\"  # \u{1b}[2J\u{202e}\n",
        ),
    );
    let o = funnel_in(&dir, &["check", "rules.funnel"]);
    assert_eq!(o.code, 1, "{}", show(&o));
    assert!(o.stderr.contains("\\n::error"), "{}", show(&o));
    assert_log_safe(&o.stderr);
    let o = funnel_in(&dir, &["check", "--format", "github", "rules.funnel"]);
    let text = format!("{}{}", o.stdout, o.stderr);
    let commands: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    assert!(!commands.is_empty(), "{}", show(&o));
    for line in text.lines().filter(|l| l.contains("forged")) {
        assert!(
            line.starts_with("::error file=rules.funnel"),
            "{}",
            show(&o)
        );
    }
}

#[test]
fn bad_row_messages_and_explain_escape_data() {
    let dir = project(
        "data_escape",
        &rules("segment s = job_title is present and lead_stage = lead"),
    );
    std::fs::write(
        dir.join("data/events.csv"),
        "contact_id,event,at,url,kind\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("data/changes.csv"),
        "contact_id,attribute,value,at\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("data/contacts.csv"),
        "id,job_title,lead_stage,account\nc1,\"\u{1b}[31mCEO\n::error file=b::forged\",lead,a1\nc2,x,\"no\n::error file=c::forged\u{1b}[2J\",a1\n",
    )
    .unwrap();
    let o = funnel_in(
        &dir,
        &["run", "rules.funnel", "--data", "data", "--as-of", AS_OF],
    );
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(o.stderr.contains("forged"), "{}", show(&o));
    assert_log_safe(&o.stderr);
    std::fs::write(
        dir.join("data/contacts.csv"),
        "id,job_title,lead_stage,account\n\"c1\u{1b}[2J\",\"\u{1b}[31mCEO\n::error file=b::forged\",lead,a1\n",
    )
    .unwrap();
    let o = funnel_in(
        &dir,
        &[
            "explain",
            "rules.funnel",
            "--data",
            "data",
            "--as-of",
            AS_OF,
            "--contact",
            "c1\u{1b}[2J",
        ],
    );
    assert_eq!(o.code, 0, "{}", show(&o));
    assert!(o.stdout.contains("forged"), "{}", show(&o));
    assert_log_safe(&o.stdout);
}

#[test]
fn diff_output_escapes_names_labels_and_ids() {
    // Contact ids come from data, names, bands and rule labels from rule files (raw
    // control characters inside a string literal included): none reaches the
    // terminal or a CI log raw, in the human or the Markdown format.
    let dir = scratch("diff_escapes");
    let schema = "contact { job_title: text?, stage: one of (lead, mql) }\n";
    let old = format!(
        "{schema}segment `s\u{1b}[2J` = job_title = \"CEO\"\n\
         score q {{\n  +5 if job_title = \"\u{1b}[31m\u{7}label\"\n}}\n\
         tiers t of q {{ `hot\u{202e}` 5..10, cold 0..4 }}\n"
    );
    let new = format!(
        "{schema}segment `s\u{1b}[2J` = job_title is present\n\
         score q {{\n  +7 if job_title = \"\u{1b}[31m\u{7}label\"\n}}\n\
         tiers t of q {{ `hot\u{202e}` 8..10, cold 0..7 }}\n"
    );
    std::fs::write(dir.join("old.funnel"), old).unwrap();
    std::fs::write(dir.join("new.funnel"), new).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("data/contacts.csv"),
        "id,job_title,stage\n\"c1\u{1b}[2J\n::error file=x::id\",\u{1b}[31m\u{7}label,lead\n\
         c2,CEO,mql\n\"@org/team|x`\",Dev,lead\n",
    )
    .unwrap();
    for format in ["human", "markdown"] {
        let o = funnel_in(
            &dir,
            &[
                "diff",
                "old.funnel",
                "new.funnel",
                "--data",
                "data",
                "--as-of",
                AS_OF,
                "--format",
                format,
            ],
        );
        assert_eq!(o.code, 0, "{}", show(&o));
        assert!(o.stdout.contains("entered"), "{}", show(&o));
        assert!(o.stdout.contains("c1\\u{1b}[2J\\n::error"), "{}", show(&o));
        if format == "markdown" {
            // Ids are code spans: no mention, link or formatting, no early end of cell.
            assert!(o.stdout.contains("`@org/team\\|x'`"), "{}", show(&o));
        }
        assert_log_safe(&o.stdout);
        assert_log_safe(&o.stderr);
    }
}

#[test]
fn formatting_keeps_rule_labels() {
    // Found by the `rules_gen` fuzzer: `fmt` breaks a long rule inside a list's
    // brackets, and the label (the rule's source text, spaces collapsed) became
    // `in ( soft )`: the plan changed, and `diff` reported an edited rule. Labels are
    // now the rule in the canonical layout, on one line.
    let text = "contact { a: int? }\nevent email_bounced { kind: one of (hard, soft) }\n\
                score s {\n  decay half_life 9d\n  \
                +7 if count_distinct(email_bounced.kind where kind in (soft) since 1902-06-15T00:30:00Z) > 0.0, at most 1\n  \
                -2   per   email_bounced where kind in(hard)\n}\n";
    let formatted = funnel::syntax::format_source(funnel::syntax::FileId(0), text).unwrap();
    assert!(formatted.contains("(\n"), "{formatted}");
    let plan = |t: &str| {
        funnel::plan::lower(&funnel::check::check_text("l.funnel", t).program.unwrap()).to_json()
    };
    let before = plan(text);
    assert_eq!(before, plan(&formatted));
    assert!(before.contains("where kind in (soft) since"), "{before}");
    assert!(
        before.contains("\"-2 per email_bounced where kind in (hard)\""),
        "{before}"
    );
}

// ------------------------------------------------------------------ expansion and size

#[test]
fn as_of_reads_of_reads_stop_at_the_expansion_limit() {
    let mut text = String::from("contact { a: int? }\nscore a0 = a\n");
    for i in 1..16 {
        text.push_str(&format!("score a{i} = a{} + a{}({i}h ago)\n", i - 1, i - 1));
    }
    let start = Instant::now();
    let checked = funnel::check::check_text("asof.funnel", &text);
    assert!(checked.program.is_none());
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.code.as_str() == "E0104" && d.message.contains("as-of expansion")),
        "{:?}",
        checked.diagnostics
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    // The same shift at every level expands linearly and checks.
    let mut text = String::from("contact { a: int? }\nsegment s0 = a > 1\n");
    for i in 1..16 {
        text.push_str(&format!(
            "segment s{i} = s{} or s{}(2h ago)\n",
            i - 1,
            i - 1
        ));
    }
    assert!(
        funnel::check::check_text("asof.funnel", &text)
            .program
            .is_some()
    );
}

/// A chain of `n` signals, each built on the one before, and a segment that uses
/// `uses` of them.
fn signal_chain(n: usize, uses: std::ops::Range<usize>) -> String {
    let mut text = String::from(
        "contact { a: int? }\nevent page_viewed { seconds: int }\n\
         signal s0 = page_viewed where seconds > 0\n",
    );
    for i in 1..n {
        text.push_str(&format!("signal s{i} = s{} where seconds > {i}\n", i - 1));
    }
    let used: Vec<String> = uses.map(|i| format!("s{i}")).collect();
    text.push_str(&format!("segment all = {}\n", used.join(" or ")));
    text
}

#[test]
fn chains_of_signals_stop_at_the_inlining_limit() {
    // Each signal's filter is copied into the signals built on it and into each use:
    // 3000 signals each on the last took 22 s and 6 GB in `check` (debug build), and
    // using all of 800 of them wrote a 0.75 GB plan for 400.
    let start = Instant::now();
    let checked = funnel::check::check_text("chain.funnel", &signal_chain(3000, 0..3000));
    assert!(checked.program.is_none());
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code.as_str(), "E0104");
    assert!(
        errors[0]
            .message
            .contains("(conditions inlined from signals)"),
        "{:?}",
        errors[0]
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    // Under the limit, a chain's filter is one flat `and`: the plan grows with the
    // conditions, not with the depth of the chain times its length.
    let checked = funnel::check::check_text("chain.funnel", &signal_chain(250, 249..250));
    let plan = funnel::plan::lower(&checked.program.expect("250 signals check"));
    let json = plan.to_json();
    assert!(json.len() < 200_000, "{} bytes", json.len());
}

#[test]
fn too_many_definitions_and_periods_are_diagnostics() {
    let mut text = String::from("contact { a: int? }\nsegment s0 = a > 1\n");
    for i in 1..=20_001 {
        text.push_str(&format!("segment s{i} = s{}\n", i - 1));
    }
    let checked = funnel::check::check_text("many.funnel", &text);
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.message.contains("(definitions)")),
        "{:?}",
        checked.diagnostics.first()
    );
    let text = rules("segment r = page_viewed in at least 1 of the last 100001 weeks");
    let checked = funnel::check::check_text("periods.funnel", &text);
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.message.contains("regularity test")),
        "{:?}",
        checked.diagnostics
    );
}

#[test]
fn a_huge_duration_is_an_error_not_an_overflow() {
    for body in [
        "score s {\n  decay half_life 9223372036854775807d\n  +1 per page_viewed\n}",
        "segment s = page_viewed within 9223372036854775807w",
        "segment s = page_viewed within 100001d",
    ] {
        let checked = funnel::check::check_text("big.funnel", &rules(body));
        assert!(checked.program.is_none(), "{body}");
        assert!(
            checked.diagnostics.iter().any(|d| d.is_error()),
            "{body}: {:?}",
            checked.diagnostics
        );
    }
}

// ------------------------------------------------------------------ Parquet

#[cfg(feature = "parquet")]
fn load_parquet_contacts(
    columns: Vec<(&str, arrow_array::ArrayRef)>,
) -> Result<funnel::engine::data::Loaded, String> {
    use funnel::engine::data::{Format, LoadOptions, Source, Sources, load_readers};
    let bytes = parquet_file(columns);
    let text =
        "contact { ltv: number?, seen: timestamp? }\nsegment s = ltv > 1 or seen is present\n";
    let program = funnel::check::check_text("p.funnel", text).program.unwrap();
    let plan = funnel::plan::lower(&program);
    load_readers(
        &plan.schema,
        Sources {
            contacts: Source::new("contacts.parquet", Format::Parquet, bytes.as_slice()),
            events: None,
            accounts: None,
            changes: None,
        },
        &LoadOptions::default(),
    )
    .map_err(|e| e.to_string())
}

/// A Parquet file of one row group holding `columns`.
#[cfg(feature = "parquet")]
fn parquet_file(columns: Vec<(&str, arrow_array::ArrayRef)>) -> Vec<u8> {
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(
        columns
            .iter()
            .map(|(n, a)| arrow_schema::Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        arrow_array::RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect())
            .unwrap();
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    bytes
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_nan_out_of_range_times_and_duplicate_columns_are_refused() {
    use arrow_array::{ArrayRef, Float64Array, StringArray, TimestampSecondArray};
    use std::sync::Arc;
    let ids = || Arc::new(StringArray::from(vec!["c1"])) as ArrayRef;
    let ok = load_parquet_contacts(vec![
        ("id", ids()),
        ("ltv", Arc::new(Float64Array::from(vec![2.0]))),
    ]);
    assert!(ok.is_ok(), "{ok:?}");
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let r = load_parquet_contacts(vec![
            ("id", ids()),
            ("ltv", Arc::new(Float64Array::from(vec![x]))),
        ]);
        assert!(
            r.as_ref().is_err_and(|e| e.contains("ltv")),
            "{x}: {:?}",
            r.map(|_| ())
        );
    }
    let r = load_parquet_contacts(vec![
        ("id", ids()),
        (
            "seen",
            Arc::new(TimestampSecondArray::from(vec![i64::MAX / 2])),
        ),
    ]);
    assert!(
        r.as_ref().is_err_and(|e| e.contains("out of range")),
        "{:?}",
        r.map(|_| ())
    );
    let r = load_parquet_contacts(vec![
        ("id", ids()),
        ("ltv", Arc::new(Float64Array::from(vec![1.0]))),
        ("ltv", Arc::new(Float64Array::from(vec![2.0]))),
    ]);
    assert!(
        r.as_ref().is_err_and(|e| e.contains("appears twice")),
        "{:?}",
        r.map(|_| ())
    );
}

#[cfg(feature = "parquet")]
#[test]
fn a_huge_parquet_value_or_row_group_is_refused_with_its_place() {
    use arrow_array::{ArrayRef, Float64Array, StringArray};
    use std::sync::Arc;
    // A value past the record limit (a CSV line could not hold it either).
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = load_parquet_contacts(vec![
        (
            "id",
            Arc::new(StringArray::from(vec!["c1", huge.as_str()])) as ArrayRef,
        ),
        ("ltv", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
    ]);
    let e = r.map(|_| ()).unwrap_err();
    assert!(
        e.contains("contacts.parquet[row group 1]:2")
            && e.contains("column `id`")
            && e.contains("3145728 bytes")
            && e.contains("FUNNEL_MAX_RECORD_BYTES"),
        "{e}"
    );
    // A row group bigger than the row group limit, before it is decompressed.
    let dir = scratch("parquet_row_group");
    std::fs::write(
        dir.join("rules.funnel"),
        "contact { ltv: number? }\nsegment s = ltv > 1\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let ids: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
    let file = parquet_file(vec![
        ("id", Arc::new(StringArray::from(ids)) as ArrayRef),
        ("ltv", Arc::new(Float64Array::from(vec![1.0; 1000]))),
    ]);
    std::fs::write(dir.join("data/contacts.parquet"), file).unwrap();
    let args = [
        "run",
        "rules.funnel",
        "--data",
        "data",
        "-q",
        "-o",
        "out.csv",
    ];
    let ok = common::Ran::of(common::funnel_command(&dir, &args).output().unwrap());
    assert_eq!(ok.code, 0, "{}", show(&ok));
    let out = common::funnel_command(&dir, &args)
        .env("FUNNEL_MAX_ROW_GROUP_BYTES", "1000")
        .output()
        .unwrap();
    let o = common::Ran::of(out);
    assert_eq!(o.code, 2, "{}", show(&o));
    assert!(
        o.stderr.contains("contacts.parquet[row group 1]")
            && o.stderr.contains("Parquet row group size")
            && o.stderr.contains("FUNNEL_MAX_ROW_GROUP_BYTES"),
        "{}",
        show(&o)
    );
}
