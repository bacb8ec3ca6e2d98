//! `funnel watch`: the example stream replayed, refused inputs, refused rules and the
//! start of a replayed clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{root, run_funnel, show_run};

const RULES: &str = "examples/live/rules.funnel";
const DATA: &str = "examples/b2b/data";

#[test]
fn the_example_stream_replays_to_the_same_changes() {
    let r = run_funnel(
        &root(),
        &[
            "watch",
            RULES,
            "--data",
            DATA,
            "--clock",
            "replay",
            "--input",
            "examples/live/inputs.ndjson",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", show_run(&r));
    // Every line is a change, in time order, numbered from 1.
    let mut last = String::new();
    for (i, line) in r.stdout.lines().enumerate() {
        let c: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(c["seq"], i as u64 + 1);
        let at = c["at"].as_str().unwrap().to_owned();
        assert!(at >= last, "{line} after {last}");
        last = at;
    }
    insta::assert_snapshot!(show_run(&r));
}

#[test]
fn a_refused_input_names_its_line_and_field_and_the_rest_is_applied() {
    let stdin = concat!(
        r#"{"event":{"contact_id":"c005","event":"email_clicked","at":"2026-11-22T09:15:00Z","campaign":"x","link":"/service/a"}}"#,
        "\n",
        r#"{"event":{"contact_id":"c005","event":"email_clicked","at":"2026-11-22T09:16:00Z","campaign":"x"}}"#,
        "\n",
        r#"{"event":{"contact_id":"nobody","event":"page_viewed","at":"2026-11-22T09:17:00Z","url":"/","seconds":1}}"#,
        "\n",
        r#"{"contact":{"id":"c005","lead_stage":"boss\u001b[31m"},"at":"2026-11-22T09:18:00Z"}"#,
        "\n",
        "not json\n",
        r#"{"clock":"2026-11-22T10:00:00Z"}"#,
        "\n",
    );
    let r = run_funnel(
        &root(),
        &["watch", RULES, "--data", DATA, "--clock", "replay"],
        stdin,
    );
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains('\u{1b}'), "{}", r.stderr);
    insta::assert_snapshot!(show_run(&r));
}

#[test]
fn rankings_are_refused_with_their_name() {
    let r = run_funnel(
        &root(),
        &[
            "watch",
            "examples/b2b/rules.funnel",
            "--data",
            DATA,
            "--as-of",
            "2026-11-20T00:00:00Z",
        ],
        "",
    );
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(show_run(&r));
}

#[test]
fn a_replayed_clock_needs_a_start() {
    let r = run_funnel(
        &root(),
        &["watch", RULES, "--data", DATA, "--clock", "replay"],
        "{\"account\":{\"id\":\"a99\",\"name\":\"X\"}}\n",
    );
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(show_run(&r));
}

#[test]
fn the_real_clock_reads_stdin_to_its_end() {
    let now = chrono::Utc::now().to_rfc3339();
    let stdin = format!(
        "{}\n",
        serde_json::json!({"event": {"contact_id": "c005", "event": "email_clicked", "at": now,
            "campaign": "x", "link": "/service/a"}})
    );
    let r = run_funnel(&root(), &["watch", RULES, "--data", DATA], &stdin);
    assert_eq!(r.code, 0, "{}", show_run(&r));
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("\"definition\":\"service_interest\"")
                && l.contains("\"cause\":{\"input\":1")),
        "{}",
        show_run(&r)
    );
}
