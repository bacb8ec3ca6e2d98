//! `funnel serve` under test: a server started on a free loopback port in a scratch
//! folder (killed when dropped), and a small HTTP/1.1 client over `TcpStream` for plain
//! requests and for reading Server-Sent Events. Self-contained, so that the load bench
//! (`benches/serve_load.rs`) uses it too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The write key the tests' servers take.
pub const KEY: &str = "wk_test_0123456789";

/// The rules the tests serve: a page view, a purchase, a plan and an account link.
pub const RULES: &str = r#"
contact {
  email: text
  plan: one of (free, pro)?
  company: account?
}
account { name: text }
event page_viewed { url: text }
event order_completed { amount: number }

segment visitors = page_viewed within 30d
segment recent = page_viewed within 1h
segment buyers = order_completed within 365d
segment pro = plan = pro
value orders = count(order_completed)
"#;

/// Writes the rules (`rules.funnel`) and a data folder (`data/`) with contacts c1 and
/// c2 and account acme into `dir`.
pub fn project(dir: &Path) {
    std::fs::write(dir.join("rules.funnel"), RULES).unwrap();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("contacts.csv"),
        "id,email,plan,company\nc1,one@example.com,free,acme\nc2,two@example.com,,\n",
    )
    .unwrap();
    std::fs::write(data.join("accounts.csv"), "id,name\nacme,Acme\n").unwrap();
    std::fs::write(data.join("events.csv"), "contact_id,event,at,url,amount\n").unwrap();
}

/// The arguments of `funnel serve` on a [`project`] folder, on a free port, with
/// `extra` flags.
pub fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "serve",
        "rules.funnel",
        "--data",
        "data",
        "--state",
        "state",
        "--listen",
        "127.0.0.1:0",
        "--write-key",
        KEY,
    ];
    args.extend_from_slice(extra);
    args
}

/// A running `funnel serve`.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub dir: PathBuf,
}

impl Server {
    /// Starts `funnel serve rules.funnel --data data --state state` in `dir` (see
    /// [`project`]) on a free port, with `extra` flags.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let args = args(extra);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_funnel"))
            .args(&args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr);
        let mut line = String::new();
        let mut seen = String::new();
        let addr = loop {
            line.clear();
            if lines.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("funnel serve stopped before listening:\n{seen}");
            }
            seen.push_str(&line);
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep reading stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = lines.read_to_string(&mut sink);
        });
        Server {
            child,
            addr,
            dir: dir.to_path_buf(),
        }
    }

    /// A request with the write key.
    pub fn call(&self, method: &str, path: &str, body: &str) -> Response {
        request(
            &self.addr,
            method,
            path,
            &[("Authorization", &basic(KEY))],
            body,
        )
    }

    /// Kills the server at once (SIGKILL) and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `Basic base64(key:)`.
pub fn basic(key: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{key}:").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// A response: status, headers (names lower-cased) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// `STATUS body`, for snapshots.
    pub fn show(&self) -> String {
        format!("{} {}", self.status, self.body)
    }
}

/// One HTTP/1.1 request (`Connection: close`); the whole response.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    try_request(addr, method, path, headers, body).unwrap()
}

/// [`request`], with a failed connection as an error.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    // A server may answer (413, 401) before reading a large body, and close.
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()));
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader)?;
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        while let Some(chunk) = read_chunk(&mut reader) {
            body.extend(chunk);
        }
    } else {
        let _ = reader.read_to_end(&mut body);
    }
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn read_head(reader: &mut impl BufRead) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP status line: {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok((status, headers))
}

/// One chunk of a chunked body; `None` at the end (or when the connection closed).
fn read_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let size = usize::from_str_radix(line.trim(), 16).ok()?;
    if size == 0 {
        return None;
    }
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk).ok()?;
    chunk.truncate(size);
    Some(chunk)
}

/// One Server-Sent Event: its `id` and `data`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sse {
    pub id: String,
    pub data: serde_json::Value,
}

/// Opens `GET path` as an event stream (with `headers` besides the key) and reads
/// `count` events, or fewer when `timeout` passes first.
pub fn events(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    count: usize,
    timeout: Duration,
) -> (u16, Vec<Sse>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut head = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nAuthorization: {}\r\n",
        basic(KEY)
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let deadline = Instant::now() + timeout;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let mut out = Vec::new();
    let mut status = 0;
    while out.len() < count && Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if status != 200 {
            break;
        }
        out = parse_events(body);
    }
    out.truncate(count);
    (status, out)
}

/// The events in a (chunked) SSE body read so far; chunk-size lines are skipped.
fn parse_events(body: &str) -> Vec<Sse> {
    let mut out = Vec::new();
    let (mut id, mut data) = (None, None);
    for line in body.split('\n').map(|l| l.trim_end_matches('\r')) {
        if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("data:") {
            data = serde_json::from_str::<serde_json::Value>(v.trim()).ok();
        }
        if let (Some(i), Some(d)) = (&id, &data) {
            out.push(Sse {
                id: i.clone(),
                data: d.clone(),
            });
            id = None;
            data = None;
        }
    }
    out
}
