//! How fast the front end is: load + parse + check of a generated 10,000-line rule
//! file, against `serde_json` parsing a JSON document of the same size as a reference.
//!
//! Run with `cargo bench --bench check`. The input is generated deterministically, so
//! runs are comparable; the figure printed is the median of several iterations.

use funnel::syntax::load_source;
use funnel::syntax::loader::MemoryFs;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

const LINES: usize = 10_000;
const ITERATIONS: usize = 9;
const EVENTS: usize = 40;

/// A rule file of about `LINES` lines: a schema, then blocks of signals, segments,
/// scores, tiers and personas that refer to each other.
fn rule_file() -> String {
    let mut s = String::from("# generated for the benchmark\ncontact {\n");
    for a in 0..20 {
        let _ = writeln!(s, "  attr{a}: int? in 0..1000");
    }
    s.push_str("  title: text?\n  stage: one of (lead, mql, sql, customer) with history\n}\n");
    for e in 0..EVENTS {
        let _ = writeln!(
            s,
            "event ev{e} {{ url: text, n: int, share: number in 0..1 }}"
        );
    }
    let mut i = 0;
    while s.lines().count() < LINES {
        let e = i % EVENTS;
        let f = (i * 7 + 3) % EVENTS;
        let a = i % 20;
        let _ = write!(
            s,
            "\n# block {i}\n\
             signal sig{i} = ev{e} where url starts with \"/p{i}\" and n >= {a}\n\
             segment seg{i} = sig{i} within {d}d or ev{f} at least 3 times within 30d\n\
             \x20 or (attr{a} > {a} and title matches /manager|chef|stjóri/i)\n\
             score sc{i} in 0..100 {{\n\
             \x20 decay half_life 60d\n\
             \x20 +5 per sig{i}, at most 20\n\
             \x20 +10 * share per ev{f} where url contains \"demo\"\n\
             \x20 -5 if no ev{e} within 30d\n\
             }}\n\
             tiers tier{i} of sc{i} {{ low 0..30, mid 31..75, high 76..100 }}\n\
             personas role{i} {{\n\
             \x20 hot = tier{i} = high and stage in (mql, sql)\n\
             \x20 warm = seg{i} and sc{i} - sc{i}(30d ago) >= 10\n\
             \x20 cool = ev{e} in at least 2 of the last 4 weeks\n\
             }}\n",
            d = i % 90 + 1,
        );
        i += 1;
    }
    s
}

/// A JSON document of about `bytes` bytes: an array of small CRM-like records.
fn json_document(bytes: usize) -> String {
    let mut s = String::from("[");
    let mut i = 0;
    while s.len() < bytes {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "\n  {{\"id\": {i}, \"email\": \"contact{i}@example.com\", \"title\": \"Direktør {i}\", \
             \"score\": {}.{}, \"stage\": \"mql\", \"events\": [{i}, {}, {}], \"client\": {}}}",
            i % 100,
            i % 10,
            i * 3,
            i * 7,
            i % 2 == 0
        );
        i += 1;
    }
    s.push_str("\n]\n");
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let text = rule_file();
    let lines = text.lines().count();
    let bytes = text.len();
    let root = Path::new("/bench");
    let fs = MemoryFs::new();

    let mut diagnostics = 0;
    let funnel_times: Vec<Duration> = (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            let loaded = load_source(&fs, root, &root.join("bench.funnel"), "bench.funnel", &text);
            let checked = funnel::check::check(&loaded);
            let t = start.elapsed();
            diagnostics = checked.diagnostics.iter().filter(|d| d.is_error()).count();
            std::hint::black_box(checked);
            t
        })
        .collect();

    let json = json_document(bytes);
    let json_times: Vec<Duration> = (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            let t = start.elapsed();
            std::hint::black_box(v);
            t
        })
        .collect();

    let f = median(funnel_times).as_secs_f64();
    let j = median(json_times).as_secs_f64();
    let mb = bytes as f64 / 1e6;
    println!("funnel check: {lines} lines, {bytes} bytes, {diagnostics} errors");
    println!(
        "  load+parse+check  median {:8.2} ms  {:10.0} lines/s  {:7.2} MB/s",
        f * 1e3,
        lines as f64 / f,
        mb / f
    );
    println!(
        "  serde_json parse  median {:8.2} ms  {:10} bytes     {:7.2} MB/s",
        j * 1e3,
        json.len(),
        json.len() as f64 / 1e6 / j
    );
    println!(
        "  ratio: checking is {:.1}x the time of parsing the same size of JSON",
        f / j
    );
}
