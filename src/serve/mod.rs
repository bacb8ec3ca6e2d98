//! `funnel serve`: the live core behind Segment's HTTP Tracking API, with a write-ahead
//! log so that nothing acknowledged is lost, and the change stream as Server-Sent
//! Events. See docs/live.md, "funnel serve".
//!
//! - [`segment`]: Segment payloads → the core's inputs;
//! - [`auth`]: the write key check;
//! - [`wal`]: the state folder (log, snapshots);
//! - [`commit`]: the thread that applies requests (group commit, clock, snapshots);
//! - [`changes`]: the change log and its in-memory tail;
//! - [`http`] and [`sse`]: the routes.

pub mod auth;
pub mod changes;
pub mod commit;
pub mod http;
pub mod segment;
pub mod sse;
pub mod validate;
pub mod wal;

use crate::engine::live;

use crate::engine::data::{self, DataFiles, LoadOptions};
use crate::plan::Plan;
use changes::Changes;
use chrono::Utc;
use commit::{Committer, Seen};
use live::Live;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wal::{SnapshotMeta, StateDir};

/// What `funnel serve` was asked for.
#[derive(Debug, Clone)]
pub struct Config {
    pub plan: Plan,
    /// The data to start from when the state folder has none yet.
    pub data: DataFiles,
    pub listen: SocketAddr,
    pub write_key: String,
    pub state: PathBuf,
    /// Write a snapshot after this many requests.
    pub snapshot_every: u64,
}

/// How many requests may wait for the committer before new ones get a 503.
const QUEUE: usize = 4_096;

/// Starts the server and serves until the process is stopped. Errors are for the user
/// (`error: …`).
pub fn run(config: Config) -> Result<(), String> {
    let state = StateDir::open(&config.state)?;
    // The plan without the version of Funnel that made it: a new Funnel may serve the
    // state of an older one when the rules are the same.
    let plan_sha256 = sha256(
        &Plan {
            funnel_version: String::new(),
            ..config.plan.clone()
        }
        .to_json(),
    );
    let mapper = segment::Mapper::new(&config.plan.schema);
    let load = |files: &DataFiles| {
        data::load(
            &config.plan.schema,
            files,
            &LoadOptions {
                skip_bad_rows: false,
            },
        )
        .map(|l| l.dataset)
        .map_err(|e| e.to_string())
    };
    // A contact the state holds: any one of the data's (see validate.rs).
    let mut known_contact = None;
    let mut load = |files: &DataFiles| {
        let dataset = load(files)?;
        known_contact = dataset.contacts.id(0).map(str::to_string);
        Ok::<_, String>(dataset)
    };
    let (mut live, after, mut seen, fresh) = match state.latest_snapshot()? {
        Some((dir, meta)) => {
            if meta.plan_sha256 != plan_sha256 {
                return Err(format!(
                    "the state folder `{}` was made with other rules; serve these rules with \
                     a new --state folder (the old one's data is in its snapshot-* folder)",
                    config.state.display()
                ));
            }
            let files = DataFiles::from_dir(&dir).map_err(|e| e.to_string())?;
            let live = Live::restore(config.plan.clone(), load(&files)?, meta.checkpoint)
                .map_err(|e| e.to_string())?;
            let mut seen = Seen::default();
            for id in meta.message_ids {
                seen.insert(id);
            }
            (live, meta.request, seen, false)
        }
        None => {
            let live = Live::new(config.plan.clone(), load(&config.data)?, Utc::now())
                .map_err(|e| e.to_string())?;
            (live, 0, Seen::default(), true)
        }
    };
    let changes = Arc::new(Changes::open(&state.changes_path())?);
    let mut replayed = 0u64;
    let last = state.replay(after, |record| {
        let mut made = live.advance(record.clock);
        for input in record.parse_inputs()? {
            // A refusal here was a refusal when the request came in, too.
            if let Ok(c) = live.apply_at(&input, record.clock) {
                made.extend(c);
                if let (None, live::Input::Contact { id, .. }) = (&known_contact, &input) {
                    known_contact = Some(id.clone());
                }
            }
        }
        for id in record.message_ids {
            seen.insert(id);
        }
        replayed += 1;
        changes
            .publish(commit::lines(made))
            .map_err(|e| format!("cannot write the change log: {e}"))
    })?;
    if fresh {
        let meta = SnapshotMeta {
            request: 0,
            checkpoint: live.checkpoint(),
            plan_sha256: plan_sha256.clone(),
            message_ids: Vec::new(),
        };
        state
            .write_snapshot(&live, &meta)
            .map_err(|e| format!("cannot write the first snapshot: {e}"))?;
    }
    let wal = state
        .open_wal(last + 1)
        .map_err(|e| format!("cannot open the write-ahead log: {e}"))?;
    let live = Arc::new(Mutex::new(live));
    let (jobs, receive) = std::sync::mpsc::sync_channel(QUEUE);
    let committer = Committer {
        live: live.clone(),
        changes: changes.clone(),
        state,
        wal,
        mapper: mapper.clone(),
        link: config.plan.schema.account_link().map(|f| f.name.clone()),
        known_contact,
        seen,
        next: last + 1,
        plan_sha256,
        snapshot_every: config.snapshot_every.max(1),
        last_snapshot: after,
    };
    std::thread::Builder::new()
        .name("funnel-commit".into())
        .spawn(move || committer.run(receive))
        .map_err(|e| format!("cannot start the commit thread: {e}"))?;
    let app = Arc::new(http::App {
        live,
        changes,
        mapper,
        jobs,
        write_key: config.write_key.clone(),
        subscribers: Default::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        crate::cli::emit(
            crate::cli::Stream::Stderr,
            &format!(
                "funnel serve: listening on http://{addr} (state `{}`: {} requests replayed)\n",
                crate::diag::escape::escape(&config.state.display().to_string()),
                replayed
            ),
        );
        axum::serve(listener, http::router(app))
            .await
            .map_err(|e| format!("the server stopped: {e}"))
    })
}

/// The hex SHA-256 of a text.
fn sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
