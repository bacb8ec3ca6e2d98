//! Load on `funnel serve` (a bench, not a test; figures only mean something on a quiet
//! machine): `cargo bench --bench serve_load -- [SECONDS]`.
//!
//! 1. ingest: 4 connections send `/v1/batch` requests of 500 `track` events as fast as
//!    the server acknowledges them, for SECONDS (default 5): events/s acknowledged;
//! 2. acknowledgement latency at half that rate: one request of 100 events every
//!    100/(rate/2) s, paced, from 4 threads: p50, p99 and max from send to 200;
//! 3. change visibility: 50 times, a new contact identified with `plan: pro` enters
//!    `pro`; the time from the 200 to its change arriving on `/v1/changes`.
//!
//! The server is the bench profile's `funnel`, on the tests' rules
//! (tests/common/serve.rs) over 10,000 contacts, with its state in a scratch folder
//! under `target/`; the events are spread over the contacts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/serve.rs"]
#[allow(dead_code)]
mod serve;

use serde_json::json;
use serve::{KEY, Server, basic, project, request};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// How many contacts the bench's data holds; events are spread over them.
const CONTACTS: usize = 10_000;

/// A batch of `n` page views, for contacts `b0`… spread from `start` on.
fn batch(n: usize, start: usize) -> String {
    let t = now();
    let items: Vec<_> = (0..n)
        .map(|i| {
            json!({"type": "track", "userId": format!("b{}", (start + i * 7919) % CONTACTS),
                "event": "page_viewed", "properties": {"url": "/bench"}, "timestamp": t})
        })
        .collect();
    json!({ "batch": items }).to_string()
}

fn post(addr: &str, body: &str) -> bool {
    request(
        addr,
        "POST",
        "/v1/batch",
        &[("Authorization", &basic(KEY))],
        body,
    )
    .status
        == 200
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve_load");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    project(&dir);
    let mut contacts = String::from("id,email,plan,company\n");
    for i in 0..CONTACTS {
        contacts.push_str(&format!("b{i},b{i}@example.com,free,\n"));
    }
    std::fs::write(dir.join("data/contacts.csv"), contacts).unwrap();
    let server = Server::start(&dir, &["--snapshot-every", "1000000"]);
    let addr = server.addr.clone();

    // 1. ingest
    let bodies: Arc<Vec<String>> = Arc::new((0..16).map(|k| batch(500, k * 500)).collect());
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (addr, bodies, done, stop) =
                (addr.clone(), bodies.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    k += 1;
                    if post(&addr, &bodies[k % bodies.len()]) {
                        done.fetch_add(500, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    println!(
        "ingest: {rate:.0} events/s acknowledged (batches of 500, 4 connections, {seconds} s)"
    );

    // 2. latency at half the rate
    let per_request = 100.0;
    let interval = Duration::from_secs_f64(per_request / (rate / 2.0).max(1.0) * 4.0);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let body = Arc::new(batch(100, 1));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (addr, body, latencies) = (addr.clone(), body.clone(), latencies.clone());
            std::thread::spawn(move || {
                let end = Instant::now() + Duration::from_secs(seconds);
                let mut next = Instant::now();
                while Instant::now() < end {
                    let sent = Instant::now();
                    if post(&addr, &body) {
                        latencies.lock().unwrap().push(sent.elapsed());
                    }
                    next += interval;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut l = latencies.lock().unwrap().clone();
    l.sort();
    println!(
        "ack latency at {:.0} events/s: p50 {:?}, p99 {:?}, max {:?} ({} requests of 100)",
        rate / 2.0,
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or_default(),
        l.len()
    );

    // 3. change visibility
    let arrived: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    {
        let (addr, arrived) = (addr.clone(), arrived.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut stream = std::net::TcpStream::connect(&addr).unwrap();
            let head = format!(
                "GET /v1/changes HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\n\r\n",
                basic(KEY)
            );
            stream.write_all(head.as_bytes()).unwrap();
            let mut buf = [0u8; 8192];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let at = Instant::now();
                let text = String::from_utf8_lossy(&buf[..n]);
                for id in text.split("\"id\":\"").skip(1) {
                    if let Some(id) = id.split('"').next() {
                        arrived.lock().unwrap().push((id.to_string(), at));
                    }
                }
            }
        });
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut visible = Vec::new();
    for i in 0..50 {
        let id = format!("v{i}");
        let body = json!({"batch": [{"type": "identify", "userId": id,
            "traits": {"email": "v@example.com", "plan": "pro"}, "timestamp": now()}]});
        let sent = request(
            &addr,
            "POST",
            "/v1/batch",
            &[("Authorization", &basic(KEY))],
            &body.to_string(),
        );
        let acked = Instant::now();
        assert_eq!(sent.status, 200, "{}", sent.body);
        let deadline = acked + Duration::from_secs(5);
        loop {
            if let Some((_, at)) = arrived.lock().unwrap().iter().find(|(c, _)| *c == id) {
                visible.push(at.saturating_duration_since(acked));
                break;
            }
            if Instant::now() > deadline {
                println!("change of {id} not seen within 5 s");
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    visible.sort();
    println!(
        "change visible after the 200: p50 {:?}, p99 {:?}, max {:?} ({} changes)",
        percentile(&visible, 0.5),
        percentile(&visible, 0.99),
        visible.last().copied().unwrap_or_default(),
        visible.len()
    );
    drop(server);
}
