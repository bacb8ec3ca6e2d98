//! `funnel serve` with Segment's own SDKs sending to it: `segment-analytics-python`
//! (PyPI) and `@segment/analytics-node` (npm, pinned by
//! `tests/serve_clients/package-lock.json`) each identify a new contact, track an
//! `Order Completed`, send a page view and a group call; the results and the change
//! stream are then read over HTTP.
//!
//! `.ci/run` installs both. Without one the test is reported as ignored (`SKIPPED: …`,
//! with what to install); in CI (`CI=true`) a missing one fails it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::external::{needing, run};
use common::serve::{KEY, Server, events, project};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn clients() -> PathBuf {
    common::root().join("tests/serve_clients")
}

fn python_missing() -> Option<String> {
    let ok = Command::new("python3")
        .args(["-c", "import segment.analytics"])
        .output()
        .is_ok_and(|o| o.status.success());
    (!ok).then(|| {
        "the Python SDK is missing: `python3 -m pip install segment-analytics-python`".to_string()
    })
}

fn node_missing() -> Option<String> {
    let installed = clients()
        .join("node_modules/@segment/analytics-node")
        .is_dir();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (!(installed && node)).then(|| {
        "node or the Node SDK is missing: `(cd tests/serve_clients && npm ci)`".to_string()
    })
}

/// Runs `program script HOST KEY` against a fresh server and checks what `user` got.
fn sends(name: &str, program: &str, script: &str, user: &str, account: &str) {
    let dir = common::scratch("serve_clients", name);
    project(&dir);
    let s = Server::start(&dir, &[]);
    let out = Command::new(program)
        .arg(clients().join(script))
        .args([format!("http://{}", s.addr), KEY.to_string()])
        .current_dir(clients())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {script} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let r = s.call("GET", &format!("/v1/contacts/{user}"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let results = &r.json()["results"];
    for (definition, want) in [
        ("pro", json!(true)),
        ("buyers", json!(true)),
        ("visitors", json!(true)),
        ("orders", json!(1)),
    ] {
        assert_eq!(
            results[definition], want,
            "{definition} of {user}: {results}"
        );
    }
    assert_eq!(
        s.call("GET", &format!("/v1/accounts/{account}"), "").status,
        200
    );
    let (status, changes) = events(
        &s.addr,
        "/v1/changes?after=0",
        &[],
        4,
        Duration::from_secs(10),
    );
    assert_eq!(status, 200);
    let mut entered: Vec<String> = changes
        .iter()
        .filter(|c| c.data["id"] == json!(user) && c.data["change"] == json!("entered"))
        .map(|c| c.data["definition"].as_str().unwrap().to_string())
        .collect();
    entered.sort();
    assert_eq!(
        entered,
        ["buyers", "pro", "recent", "visitors"],
        "{changes:?}"
    );
}

fn main() {
    run(vec![
        needing(
            "segment_analytics_python_sends_to_funnel_serve",
            python_missing,
            || sends("python", "python3", "send.py", "py1", "pyco"),
        ),
        needing(
            "segment_analytics_node_sends_to_funnel_serve",
            node_missing,
            || sends("node", "node", "send.mjs", "js1", "jsco"),
        ),
    ])
}
