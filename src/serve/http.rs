//! The routes: Segment's tracking calls (POST), the reads (GET), JSON errors for
//! everything else. Every route needs the write key.

use super::changes::Changes;
use super::commit::Job;
use super::live::Live;
use super::segment::{Call, Mapper, Refusal};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// The largest request body: Segment's own limit for a batch is 500 KB.
pub const BODY_BYTES: usize = 512 * 1024;

/// The most members one page lists.
pub const MAX_PAGE: usize = 1_000;

/// The members a page lists when `limit` is not given.
const DEFAULT_PAGE: usize = 100;

/// What every route shares.
pub struct App {
    pub live: Arc<Mutex<Live>>,
    pub changes: Arc<Changes>,
    pub mapper: Mapper,
    pub jobs: SyncSender<Job>,
    pub write_key: String,
    /// Change streams open now.
    pub subscribers: AtomicUsize,
}

type Shared = State<Arc<App>>;

/// A request body, read by [`ingest`] within [`BODY_BYTES`].
type Body = axum::body::Body;

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/track", post(track))
        .route("/v1/identify", post(identify))
        .route("/v1/group", post(group))
        .route("/v1/page", post(page))
        .route("/v1/batch", post(batch))
        .route("/v1/import", post(batch))
        .route("/v1/contacts/{id}", get(contact))
        .route("/v1/accounts/{id}", get(account))
        .route("/v1/segments/{name}/members", get(members))
        .route("/v1/changes", get(super::sse::changes))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

/// A JSON error response.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "there is no such route; see docs/live.md",
    )
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "this route does not take that method; see docs/live.md",
    )
}

/// Whether the request carries the write key in its `Authorization` header.
pub fn authorized(app: &App, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|h| super::auth::header_has_key(h.as_bytes(), &app.write_key))
}

/// The 401 response.
pub fn unauthorized() -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "give the write key as the user name of HTTP Basic auth (empty password)",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"funnel\""),
    );
    r
}

async fn track(State(app): Shared, headers: HeaderMap, body: Body) -> Response {
    ingest(&app, Some(Call::Track), &headers, body).await
}

async fn identify(State(app): Shared, headers: HeaderMap, body: Body) -> Response {
    ingest(&app, Some(Call::Identify), &headers, body).await
}

async fn group(State(app): Shared, headers: HeaderMap, body: Body) -> Response {
    ingest(&app, Some(Call::Group), &headers, body).await
}

async fn page(State(app): Shared, headers: HeaderMap, body: Body) -> Response {
    ingest(&app, Some(Call::Page), &headers, body).await
}

async fn batch(State(app): Shared, headers: HeaderMap, body: Body) -> Response {
    ingest(&app, None, &headers, body).await
}

/// A tracking call: parse, check the key, map, hand to the committer, wait for the
/// fsync.
async fn ingest(app: &App, call: Option<Call>, headers: &HeaderMap, body: Body) -> Response {
    let now = chrono::Utc::now();
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a request body is at most {BODY_BYTES} bytes; send smaller batches"),
        )
    };
    // A body announced as too large is refused before it is read.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > BODY_BYTES as u64) {
        return too_large();
    }
    let body: Bytes = match axum::body::to_bytes(body, BODY_BYTES).await {
        Ok(b) => b,
        Err(_) if announced.is_none() => return too_large(),
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            );
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            if !authorized(app, headers) {
                return unauthorized();
            }
            return refused(Refusal::new(None, format!("the body is not JSON: {e}")));
        }
    };
    let body_key = value.get("writeKey").and_then(Value::as_str);
    if !authorized(app, headers)
        && !body_key.is_some_and(|k| super::auth::body_has_key(k, &app.write_key))
    {
        return unauthorized();
    }
    let messages = match app.mapper.request(call, &value, now) {
        Ok(m) => m,
        Err(r) => return refused(r),
    };
    let (reply, answer) = oneshot::channel();
    let job = Job {
        messages,
        batch: call.is_none(),
        reply,
    };
    match app.jobs.try_send(job) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many requests wait to be written; retry",
            );
        }
        Err(TrySendError::Disconnected(_)) => {
            return error(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
        }
    }
    match answer.await {
        Ok(Ok(_)) => (StatusCode::OK, axum::Json(json!({ "success": true }))).into_response(),
        Ok(Err(r)) => refused(r),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"),
    }
}

/// A 400 with the refusal as its body.
fn refused(r: Refusal) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(r)).into_response()
}

/// `{"definition": value, …}` in definition order.
fn results(pairs: Vec<(String, Value)>) -> Value {
    Value::Object(pairs.into_iter().collect())
}

async fn contact(
    State(app): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&app, &headers) {
        return unauthorized();
    }
    let explain = query
        .get("explain")
        .is_some_and(|v| v == "1" || v == "true");
    let live = app.live.lock().unwrap_or_else(PoisonError::into_inner);
    let found = if explain {
        live.explain(&id)
    } else {
        live.contact(&id)
            .map(|r| json!({ "id": id, "results": results(r) }))
    };
    drop(live);
    match found {
        Some(v) => axum::Json(v).into_response(),
        None => error(StatusCode::NOT_FOUND, "there is no contact with that id"),
    }
}

async fn account(State(app): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&app, &headers) {
        return unauthorized();
    }
    let found = app
        .live
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .account(&id);
    match found {
        Some(r) => axum::Json(json!({ "id": id, "results": results(r) })).into_response(),
        None => error(StatusCode::NOT_FOUND, "there is no account with that id"),
    }
}

async fn members(
    State(app): Shared,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&app, &headers) {
        return unauthorized();
    }
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_PAGE,
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("`limit` is a whole number from 1 to {MAX_PAGE}"),
            );
        }
    };
    let after = query.get("after").map(String::as_str);
    let value = query.get("value").map(String::as_str);
    let found = app
        .live
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .members(&name, value, after, limit);
    match found {
        Ok(ids) => {
            let next = (ids.len() == limit).then(|| ids.last().cloned()).flatten();
            axum::Json(json!({ "members": ids, "next": next })).into_response()
        }
        Err(e) => error(StatusCode::NOT_FOUND, e.to_string()),
    }
}
