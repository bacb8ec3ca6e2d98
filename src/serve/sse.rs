//! `GET /v1/changes`: the change stream as Server-Sent Events. Each event is one change
//! (`event: change`, `id:` its `seq`, `data:` its JSON line). A client resumes after
//! the last `seq` it saw with the `Last-Event-ID` header (browsers' `EventSource` sends
//! it on reconnecting) or `?after=SEQ`; without either the stream starts with the next
//! change.

use super::changes::{Changes, Line};
use super::http::{App, authorized, error, unauthorized};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// The most change streams open at once.
pub const MAX_SUBSCRIBERS: usize = 64;

/// How many changes are read at a time.
const CHUNK: usize = 512;

/// Counts an open stream; uncounts it when the stream is dropped.
struct Slot(Arc<App>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.subscribers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where a stream is.
struct Cursor {
    _slot: Slot,
    changes: Arc<Changes>,
    latest: watch::Receiver<u64>,
    after: u64,
    ready: VecDeque<Line>,
}

/// The handler.
pub async fn changes(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&app, &headers) {
        return unauthorized();
    }
    let from_header = headers
        .get("last-event-id")
        .map(|v| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()));
    let after = match (query.get("after"), from_header) {
        (Some(a), _) => match a.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "`after` is a change's seq (a whole number)",
                );
            }
        },
        (None, Some(Some(n))) => n,
        (None, Some(None)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "`Last-Event-ID` is a change's seq (a whole number)",
            );
        }
        (None, None) => app.changes.last(),
    };
    if app.subscribers.fetch_add(1, Ordering::SeqCst) >= MAX_SUBSCRIBERS {
        app.subscribers.fetch_sub(1, Ordering::SeqCst);
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("at most {MAX_SUBSCRIBERS} change streams may be open at once"),
        );
    }
    let cursor = Cursor {
        _slot: Slot(app.clone()),
        changes: app.changes.clone(),
        latest: app.changes.subscribe(),
        after,
        ready: VecDeque::new(),
    };
    let events = stream::unfold(cursor, next);
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The next event of a stream; `None` ends it (the server is stopping, or the log
/// cannot be read).
async fn next(mut c: Cursor) -> Option<(Result<Event, Infallible>, Cursor)> {
    loop {
        if let Some((seq, line)) = c.ready.pop_front() {
            c.after = seq;
            let event = Event::default()
                .event("change")
                .id(seq.to_string())
                .data(line.as_ref());
            return Some((Ok(event), c));
        }
        c.latest.mark_unchanged();
        if *c.latest.borrow() > c.after {
            let changes = c.changes.clone();
            let after = c.after;
            let read = tokio::task::spawn_blocking(move || changes.after(after, CHUNK))
                .await
                .ok()?
                .ok()?;
            if read.is_empty() {
                // The log holds nothing past `after` (it was cut, or is behind): wait.
                c.latest.changed().await.ok()?;
            }
            c.ready.extend(read);
            continue;
        }
        c.latest.changed().await.ok()?;
    }
}
