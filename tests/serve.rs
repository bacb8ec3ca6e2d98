//! `funnel serve` over HTTP: the write key, Segment payloads and the 400s for input that
//! does not fit the schema, batches applied whole or not at all, retried messages
//! applied once, members paging, the change stream and its resumption (also after a
//! restart), limits, and a `kill -9` during sustained load losing nothing acknowledged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::serve::{KEY, Server, basic, events, project, request, try_request};
use serde_json::{Value, json};
use std::time::Duration;

fn server(name: &str) -> Server {
    let dir = common::scratch("serve", name);
    project(&dir);
    Server::start(&dir, &[])
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn track(user: &str, event: &str, properties: Value) -> Value {
    json!({"type": "track", "userId": user, "event": event, "properties": properties, "timestamp": now()})
}

fn results(s: &Server, id: &str) -> Value {
    let r = s.call("GET", &format!("/v1/contacts/{id}"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["results"].clone()
}

#[test]
fn the_write_key_is_needed_everywhere() {
    let s = server("auth");
    let body = track("c1", "page_viewed", json!({"url": "/a"})).to_string();
    let none = request(&s.addr, "POST", "/v1/track", &[], &body);
    let wrong = request(
        &s.addr,
        "POST",
        "/v1/track",
        &[("Authorization", &basic("wk_test_0123456788"))],
        &body,
    );
    let read = request(&s.addr, "GET", "/v1/contacts/c1", &[], "");
    let stream = request(&s.addr, "GET", "/v1/changes", &[], "");
    for r in [&none, &wrong, &read, &stream] {
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(r.json()["error"].as_str().unwrap().contains("write key"));
    }
    assert!(none.headers.iter().any(|(k, _)| k == "www-authenticate"));
    // The key in the body, as Segment also takes it.
    let mut with_key = track("c1", "page_viewed", json!({"url": "/a"}));
    with_key["writeKey"] = json!(KEY);
    let ok = request(&s.addr, "POST", "/v1/track", &[], &with_key.to_string());
    assert_eq!(ok.show(), r#"200 {"success":true}"#);
    with_key["writeKey"] = json!("nope-nope-nope");
    let bad = request(&s.addr, "POST", "/v1/track", &[], &with_key.to_string());
    assert_eq!(bad.status, 401);
    assert_eq!(s.call("POST", "/v1/track", &body).status, 200);
}

#[test]
fn unknown_routes_and_methods_are_json_errors() {
    let s = server("routes");
    let r = s.call("GET", "/v2/nothing", "");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = s.call("GET", "/v1/track", "");
    assert_eq!(r.status, 405);
    assert!(r.json()["error"].is_string());
    let r = s.call("DELETE", "/v1/contacts/c1", "");
    assert_eq!(r.status, 405);
    let r = s.call("GET", "/v1/contacts/nobody", "");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
}

#[test]
fn payloads_that_do_not_fit_are_refused_with_the_field() {
    let s = server("refusals");
    let t = now();
    let cases: Vec<(&str, String)> = vec![
        ("/v1/track", "{not json".into()),
        ("/v1/track", "[1,2]".into()),
        ("/v1/track", json!({"event": "page_viewed", "properties": {"url": "/"}}).to_string()),
        ("/v1/track", json!({"userId": 7, "event": "page_viewed"}).to_string()),
        ("/v1/track", json!({"userId": "c1", "properties": {"url": "/"}}).to_string()),
        ("/v1/track", json!({"userId": "c1", "event": "page_viewed", "timestamp": "yesterday", "properties": {"url": "/"}}).to_string()),
        ("/v1/track", json!({"userId": "c1", "event": "page_viewed", "timestamp": "2099-01-01T00:00:00Z", "properties": {"url": "/"}}).to_string()),
        ("/v1/track", json!({"userId": "c1", "event": "page_viewed", "timestamp": t, "properties": {"at": "x"}}).to_string()),
        ("/v1/track", json!({"userId": "c1", "event": "page_viewed", "properties": "url"}).to_string()),
        ("/v1/batch", json!({"batch": {}}).to_string()),
        ("/v1/batch", json!({"batch": [{"type": "alias", "userId": "c1"}]}).to_string()),
        ("/v1/batch", json!({"batch": [{"userId": "c1"}]}).to_string()),
        ("/v1/batch", json!({"batch": [1]}).to_string()),
        ("/v1/identify", json!({"userId": "c1", "messageId": "x".repeat(201)}).to_string()),
    ];
    let shown = refusals(
        &s,
        cases.iter().map(|(p, b)| (*p, b.clone(), String::new())),
    );
    insta::assert_snapshot!(shown);
}

/// `POST path body` for each case, each refused with a 400: the answers, the current
/// time shown as `NOW`.
fn refusals<'a>(s: &Server, cases: impl Iterator<Item = (&'a str, String, String)>) -> String {
    let mut shown = String::new();
    for (path, body, label) in cases {
        let r = s.call("POST", path, &body);
        assert_eq!(r.status, 400, "{path} {body}: {}", r.body);
        shown.push_str(&format!("POST {path}{label}\n  -> {}\n", r.body));
    }
    // The server's clock in a message, and the times the cases were sent at.
    let time =
        regex::Regex::new(r"\(\d{4}-\d\d-\d\dT[0-9:]+Z\)|\d{4}-\d\d-\d\dT[0-9:]+\.\d+Z").unwrap();
    time.replace_all(&shown, "NOW").into_owned()
}

#[test]
fn tracking_calls_change_results() {
    let s = server("calls");
    assert_eq!(results(&s, "c1")["visitors"], json!(false));
    let page = json!({"userId": "c1", "properties": {"url": "/pricing"}, "timestamp": now()});
    assert_eq!(s.call("POST", "/v1/page", &page.to_string()).status, 200);
    assert_eq!(results(&s, "c1")["visitors"], json!(true));
    // `Order Completed` is the schema's `order_completed`.
    let order = track("c1", "Order Completed", json!({"amount": 12.5}));
    assert_eq!(s.call("POST", "/v1/track", &order.to_string()).status, 200);
    assert_eq!(results(&s, "c1")["buyers"], json!(true));
    let identify = json!({"userId": "c2", "traits": {"plan": "pro"}, "timestamp": now()});
    assert_eq!(
        s.call("POST", "/v1/identify", &identify.to_string()).status,
        200
    );
    assert_eq!(results(&s, "c2")["pro"], json!(true));
    let group = json!({"userId": "c2", "groupId": "globex", "traits": {"name": "Globex"}, "timestamp": now()});
    assert_eq!(s.call("POST", "/v1/group", &group.to_string()).status, 200);
    assert_eq!(s.call("GET", "/v1/accounts/globex", "").status, 200);
    let explain = s.call("GET", "/v1/contacts/c1?explain=1", "");
    assert_eq!(explain.status, 200, "{}", explain.body);
    assert!(explain.json().is_object());
}

#[test]
fn input_the_schema_refuses_is_a_400_naming_the_segment_field() {
    let s = server("schema_refusals");
    let t = now();
    let cases = [
        (
            "/v1/track",
            json!({"userId": "c1", "event": "signed_up", "timestamp": t}),
        ),
        (
            "/v1/track",
            json!({"userId": "c1", "event": "order_completed", "timestamp": t, "properties": {"amount": "lots"}}),
        ),
        (
            "/v1/identify",
            json!({"userId": "c1", "timestamp": t, "traits": {"plan": "enterprise"}}),
        ),
        (
            "/v1/identify",
            json!({"userId": "c99", "timestamp": t, "traits": {"plan": "pro"}}),
        ),
        (
            "/v1/group",
            json!({"userId": "c1", "groupId": "newco", "timestamp": t, "traits": {"name": 5}}),
        ),
    ];
    let shown = refusals(
        &s,
        cases
            .iter()
            .map(|(p, b)| (*p, b.to_string(), format!(" {b}"))),
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn a_batch_is_applied_whole_or_not_at_all() {
    let s = server("batch");
    let bad = json!({"batch": [
        {"type": "identify", "userId": "c20", "traits": {"email": "new@example.com"}, "timestamp": now()},
        track("c1", "page_viewed", json!({"url": "/a"})),
        track("c1", "order_completed", json!({"amount": "lots"})),
    ]});
    let r = s.call("POST", "/v1/batch", &bad.to_string());
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["item"], json!(2));
    assert_eq!(r.json()["field"], json!("properties.amount"));
    assert_eq!(s.call("GET", "/v1/contacts/c20", "").status, 404);
    assert_eq!(results(&s, "c1")["visitors"], json!(false));
    // Fixed, the same batch goes in whole; a new contact and its event may share one.
    let good = json!({"batch": [
        {"type": "identify", "userId": "c20", "traits": {"email": "new@example.com"}, "timestamp": now()},
        track("c1", "page_viewed", json!({"url": "/a"})),
        track("c20", "order_completed", json!({"amount": 3})),
    ]});
    let r = s.call("POST", "/v1/batch", &good.to_string());
    assert_eq!(r.show(), r#"200 {"success":true}"#);
    assert_eq!(results(&s, "c1")["visitors"], json!(true));
    assert_eq!(results(&s, "c20")["orders"], json!(1));
}

#[test]
fn a_retried_message_is_applied_once() {
    let s = server("dedupe");
    let mut order = track("c1", "order_completed", json!({"amount": 1}));
    order["messageId"] = json!("m-1");
    for _ in 0..3 {
        assert_eq!(s.call("POST", "/v1/track", &order.to_string()).status, 200);
    }
    let batch = json!({"batch": [order.clone(), {
        "type": "track", "userId": "c1", "event": "order_completed",
        "properties": {"amount": 2}, "messageId": "m-2", "timestamp": now()
    }, order]});
    assert_eq!(s.call("POST", "/v1/batch", &batch.to_string()).status, 200);
    assert_eq!(results(&s, "c1")["orders"], json!(2));
}

#[test]
fn members_come_in_pages() {
    let s = server("members");
    let mut batch = Vec::new();
    for i in 3..15 {
        batch.push(json!({"type": "identify", "userId": format!("c{i:02}"), "traits": {"email": format!("{i}@example.com")}, "timestamp": now()}));
        batch.push(track(
            &format!("c{i:02}"),
            "page_viewed",
            json!({"url": "/"}),
        ));
    }
    let r = s.call("POST", "/v1/batch", &json!({ "batch": batch }).to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let q = if after.is_empty() {
            String::new()
        } else {
            format!("&after={after}")
        };
        let page = s.call(
            "GET",
            &format!("/v1/segments/visitors/members?limit=5{q}"),
            "",
        );
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        let ids: Vec<String> = serde_json::from_value(page["members"].clone()).unwrap();
        assert!(ids.len() <= 5);
        all.extend(ids);
        match page["next"].as_str() {
            Some(n) => after = n.to_string(),
            None => break,
        }
    }
    let want: Vec<String> = (3..15).map(|i| format!("c{i:02}")).collect();
    assert_eq!(all, want);
    let r = s.call("GET", "/v1/segments/nothing/members", "");
    assert_eq!(r.status, 404, "{}", r.body);
    let r = s.call("GET", "/v1/segments/visitors/members?limit=0", "");
    assert_eq!(r.status, 400, "{}", r.body);
}

/// The seq of each event, and that each is a change of `definition` for `contact`.
fn seqs(events: &[common::serve::Sse]) -> Vec<u64> {
    events
        .iter()
        .map(|e| {
            let seq = e.data["seq"].as_u64().unwrap();
            assert_eq!(e.id, seq.to_string());
            seq
        })
        .collect()
}

#[test]
fn the_change_stream_resumes_from_an_id_also_after_a_restart() {
    let dir = common::scratch("serve", "sse");
    project(&dir);
    let s = Server::start(&dir, &[]);
    let addr = s.addr.clone();
    // A stream opened before the changes sees them as they come.
    let live = std::thread::spawn(move || {
        events(
            &addr,
            "/v1/changes?after=0",
            &[],
            3,
            Duration::from_secs(20),
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    let inputs = [
        (
            "/v1/identify",
            json!({"userId": "c2", "traits": {"plan": "pro"}, "timestamp": now()}),
        ),
        ("/v1/track", track("c2", "page_viewed", json!({"url": "/"}))),
        (
            "/v1/track",
            track("c1", "order_completed", json!({"amount": 5})),
        ),
    ];
    for (path, body) in &inputs {
        assert_eq!(s.call("POST", path, &body.to_string()).status, 200);
    }
    let (status, seen) = live.join().unwrap();
    assert_eq!(status, 200);
    let all = seqs(&seen);
    assert!(all.len() >= 3, "{seen:?}");
    assert_eq!(all, (1..=all.len() as u64).collect::<Vec<_>>());
    let first = &seen[0].data;
    assert_eq!(
        (
            first["id"].clone(),
            first["definition"].clone(),
            first["change"].clone()
        ),
        (json!("c2"), json!("pro"), json!("entered"))
    );
    // Resumed with Last-Event-ID, and with ?after=.
    let (_, again) = events(
        &s.addr,
        "/v1/changes",
        &[("Last-Event-ID", "1")],
        2,
        Duration::from_secs(10),
    );
    assert_eq!(seqs(&again), vec![2, 3]);
    let (_, again) = events(
        &s.addr,
        "/v1/changes?after=2",
        &[],
        1,
        Duration::from_secs(10),
    );
    assert_eq!(again[0], seen[2]);
    let (status, _) = events(
        &s.addr,
        "/v1/changes?after=x",
        &[],
        1,
        Duration::from_secs(5),
    );
    assert_eq!(status, 400);
    // After a restart the stream resumes from the log in the state folder.
    s.kill();
    let s = Server::start(&dir, &[]);
    let (_, after_restart) = events(
        &s.addr,
        "/v1/changes?after=0",
        &[],
        3,
        Duration::from_secs(10),
    );
    assert_eq!(after_restart, seen[..3].to_vec());
    assert_eq!(results(&s, "c2")["pro"], json!(true));
    assert_eq!(results(&s, "c1")["orders"], json!(1));
}

#[test]
fn hostile_requests_are_refused_and_the_server_stays_up() {
    let s = server("hostile");
    // Refused on its Content-Length, before the body is sent (a server that closes on
    // an unread body may reset the connection under the client's feet).
    let r = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&s.addr).unwrap();
        let head = format!(
            "POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            basic(KEY),
            600 * 1024
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .parse()
            .unwrap_or(0);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        common::serve::Response {
            status,
            headers: Vec::new(),
            body,
        }
    };
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("at most"));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = s.call("POST", "/v1/track", &deep);
    assert_eq!(r.status, 400);
    let many = json!({"batch": vec![json!({"type": "track"}); 2_501]});
    let r = s.call("POST", "/v1/batch", &many.to_string());
    assert_eq!(r.status, 400);
    assert!(r.body.contains("at most 2500"), "{}", r.body);
    let r = request(
        &s.addr,
        "GET",
        "/v1/contacts/c1",
        &[("Authorization", "Basic \u{7f}\u{7f}")],
        "",
    );
    assert!(matches!(r.status, 400 | 401), "{}", r.body);
    // Still serving.
    assert_eq!(s.call("GET", "/v1/contacts/c1", "").status, 200);
}

#[test]
fn a_second_server_on_the_same_state_is_refused() {
    let dir = common::scratch("serve", "lock");
    project(&dir);
    let _first = Server::start(&dir, &[]);
    let second = common::funnel_command(&dir, &common::serve::args(&[]))
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another `funnel serve`"));
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = common::scratch("serve", "flags");
    project(&dir);
    let run = |data: &str, key: &str, extra: &[&str]| {
        let mut args = vec!["serve", "rules.funnel", "--data", data, "--state", "s"];
        args.extend(["--write-key", key]);
        args.extend_from_slice(extra);
        common::Ran::of(common::funnel_command(&dir, &args).output().unwrap())
    };
    let short = run("data", "short", &[]);
    let remote = run("data", KEY, &["--listen", "0.0.0.0:0"]);
    let no_data = run("nowhere", KEY, &[]);
    let shown = [short, remote, no_data]
        .iter()
        .map(common::show_run)
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(shown);
}

/// Sends batches of `order_completed` events from several threads until killed; each
/// batch's messages have ids, so a retry is caught.
#[test]
fn kill_9_during_load_loses_nothing_acknowledged_and_applies_nothing_twice() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = common::scratch("serve", "kill9");
    project(&dir);
    let s = Server::start(&dir, &["--snapshot-every", "15"]);
    let stop = Arc::new(AtomicBool::new(false));
    // (contact, batch body, events, acknowledged?) of every batch sent
    type Sent = Vec<(String, String, usize, bool)>;
    let sent: Arc<Mutex<Sent>> = Arc::default();
    let mut senders = Vec::new();
    for thread in 0..4 {
        let (addr, stop, sent) = (s.addr.clone(), stop.clone(), sent.clone());
        senders.push(std::thread::spawn(move || {
            let contact = if thread % 2 == 0 { "c1" } else { "c2" };
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let batch: Vec<Value> = (0..10)
                    .map(|i| json!({"type": "track", "userId": contact, "event": "order_completed",
                        "properties": {"amount": i}, "messageId": format!("t{thread}-{n}-{i}"), "timestamp": now()}))
                    .collect();
                n += 1;
                let body = json!({ "batch": batch }).to_string();
                let acked = try_request(&addr, "POST", "/v1/batch", &[("Authorization", &basic(KEY))], &body)
                    .is_ok_and(|r| r.status == 200);
                sent.lock().unwrap().push((contact.to_string(), body, 10, acked));
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(2_500));
    s.kill();
    stop.store(true, Ordering::SeqCst);
    for t in senders {
        t.join().unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    let count = |contact: &str, acked_only: bool| -> u64 {
        sent.iter()
            .filter(|(c, _, _, a)| c == contact && (*a || !acked_only))
            .map(|(_, _, n, _)| *n as u64)
            .sum()
    };
    assert!(
        count("c1", true) > 0,
        "no batch was acknowledged before the kill"
    );
    let s = Server::start(&dir, &[]);
    for contact in ["c1", "c2"] {
        let orders = results(&s, contact)["orders"].as_u64().unwrap();
        assert!(
            orders >= count(contact, true),
            "{contact}: {orders} < acknowledged {}",
            count(contact, true)
        );
        assert!(
            orders <= count(contact, false),
            "{contact}: {orders} > sent {}",
            count(contact, false)
        );
    }
    // The clients retry what was not acknowledged (and, to be sure, what was): each
    // message counts once.
    for (_, body, _, _) in &sent {
        let r = s.call("POST", "/v1/batch", body);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for contact in ["c1", "c2"] {
        assert_eq!(
            results(&s, contact)["orders"].as_u64().unwrap(),
            count(contact, false)
        );
    }
}

#[test]
fn time_alone_makes_changes_at_their_exact_moment() {
    let s = server("time");
    // A page view 1 h minus 4 s ago: `recent` (within 1h) holds for 4 more seconds.
    let viewed = chrono::Utc::now() - chrono::Duration::hours(1) + chrono::Duration::seconds(4);
    let at = viewed.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let page = json!({"userId": "c1", "properties": {"url": "/"}, "timestamp": at});
    assert_eq!(s.call("POST", "/v1/page", &page.to_string()).status, 200);
    let (_, changes) = events(
        &s.addr,
        "/v1/changes?after=0",
        &[],
        3,
        Duration::from_secs(10),
    );
    let left: Vec<_> = changes
        .iter()
        .filter(|c| c.data["definition"] == json!("recent") && c.data["change"] == json!("left"))
        .collect();
    assert_eq!(left.len(), 1, "{changes:?}");
    assert_eq!(left[0].data["cause"], json!("time"));
    let moment: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(left[0].data["at"].clone()).unwrap();
    let exact = viewed + chrono::Duration::hours(1);
    assert!(
        moment >= exact && moment - exact < chrono::Duration::milliseconds(1),
        "left at {moment}, the window ended at {exact}"
    );
    assert_eq!(results(&s, "c1")["recent"], json!(false));
    assert_eq!(results(&s, "c1")["visitors"], json!(true));
}

#[test]
fn a_state_made_with_other_rules_is_refused() {
    let dir = common::scratch("serve", "other_rules");
    project(&dir);
    Server::start(&dir, &[]).kill();
    let rules = std::fs::read_to_string(dir.join("rules.funnel")).unwrap();
    std::fs::write(
        dir.join("rules.funnel"),
        rules + "segment free = plan = free\n",
    )
    .unwrap();
    let again = common::Ran::of(
        common::funnel_command(&dir, &common::serve::args(&[]))
            .output()
            .unwrap(),
    );
    assert_eq!(again.code, 2, "{}", common::show_run(&again));
    assert!(
        again.stderr.contains("was made with other rules"),
        "{}",
        again.stderr
    );
}
