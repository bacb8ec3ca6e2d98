//! The one thread that changes the live state: it takes the accepted requests in
//! groups, checks each against the schema and the data (a request is applied whole or
//! not at all), logs the group with one fsync, and only then acknowledges the requests
//! and publishes their changes. Between requests it moves the clock to the real time
//! (at least every second), which makes the time-driven changes; and now and then it
//! writes a snapshot.

use super::changes::{Changes, Line};
use super::live::{Change, Input, Live};
use super::segment::{Mapper, Message, Refusal, kind_of};
use super::validate::Request;
use super::wal::{Record, SnapshotMeta, StateDir, Wal};
use chrono::Utc;
use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The most requests handled in one group (one fsync).
const GROUP: usize = 1_024;

/// How many `messageId`s are remembered for catching retries.
pub const REMEMBERED_IDS: usize = 200_000;

/// A snapshot is written at least this often while requests come in.
const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(300);

/// The longest wait between two clock moves.
const TICK: Duration = Duration::from_secs(1);

/// How long to wait for the next request: until the next time-driven change is due,
/// and at most [`TICK`].
fn wait(live: &Mutex<Live>) -> Duration {
    let due = live
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .next_due();
    match due {
        Some(t) => (t - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(TICK),
        None => TICK,
    }
}

/// What a request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// Messages applied.
    pub applied: usize,
    /// Messages seen before (by `messageId`) and not applied again.
    pub duplicates: usize,
}

/// One accepted request, waiting for its group.
#[derive(Debug)]
pub struct Job {
    pub messages: Vec<Message>,
    /// From `/v1/batch`: refusals name the message's position.
    pub batch: bool,
    pub reply: oneshot::Sender<Result<Ack, Refusal>>,
}

/// The `messageId`s seen most recently.
#[derive(Debug, Default)]
pub struct Seen {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    /// Remembers an id, forgetting the oldest past [`REMEMBERED_IDS`].
    pub fn insert(&mut self, id: String) {
        if self.set.insert(id.clone()) {
            self.order.push_back(id);
            if self.order.len() > REMEMBERED_IDS
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// The ids, oldest first.
    pub fn list(&self) -> Vec<String> {
        self.order.iter().cloned().collect()
    }
}

/// The committer's state.
pub struct Committer {
    pub live: Arc<Mutex<Live>>,
    pub changes: Arc<Changes>,
    pub state: StateDir,
    pub wal: Wal,
    pub mapper: Mapper,
    /// The contact attribute that links to an account.
    pub link: Option<String>,
    /// A contact the state holds (see `validate.rs`).
    pub known_contact: Option<String>,
    pub seen: Seen,
    /// The next request's number.
    pub next: u64,
    pub plan_sha256: String,
    /// Write a snapshot after this many requests.
    pub snapshot_every: u64,
    pub last_snapshot: u64,
}

/// The JSON lines of changes.
pub fn lines(changes: Vec<Change>) -> Vec<Line> {
    changes
        .into_iter()
        .map(|c| {
            let json = serde_json::to_string(&c).unwrap_or_default();
            (c.seq, Arc::from(json))
        })
        .collect()
}

impl Committer {
    /// Runs until every sender is gone.
    pub fn run(mut self, jobs: Receiver<Job>) {
        let mut snapshot_at = Instant::now();
        loop {
            let mut group = Vec::new();
            match jobs.recv_timeout(wait(&self.live)) {
                Ok(job) => group.push(job),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while group.len() < GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            let mut changes = Vec::new();
            let mut replies = Vec::with_capacity(group.len());
            {
                let shared = self.live.clone();
                let mut live = shared.lock().unwrap_or_else(PoisonError::into_inner);
                changes.extend(live.advance(Utc::now()));
                for job in group {
                    let result = self.ingest(&mut live, &job.messages, job.batch, &mut changes);
                    replies.push((job.reply, result));
                }
            }
            if let Err(e) = self.wal.commit() {
                // What is applied in memory is not on disk: stop rather than acknowledge
                // it; a restart replays what the log holds.
                crate::cli::emit(
                    crate::cli::Stream::Stderr,
                    &format!("error: cannot write the write-ahead log: {e}; stopping\n"),
                );
                std::process::exit(70);
            }
            if let Err(e) = self.changes.publish(lines(changes)) {
                crate::cli::emit(
                    crate::cli::Stream::Stderr,
                    &format!("warning: cannot append to the change log: {e}\n"),
                );
            }
            for (reply, result) in replies {
                let _ = reply.send(result);
            }
            let since = self.next - 1 - self.last_snapshot;
            if since >= self.snapshot_every
                || (since > 0 && snapshot_at.elapsed() >= SNAPSHOT_INTERVAL)
            {
                snapshot_at = Instant::now();
                if let Err(e) = self.snapshot() {
                    crate::cli::emit(
                        crate::cli::Stream::Stderr,
                        &format!("warning: cannot write a snapshot: {e}\n"),
                    );
                }
            }
        }
    }

    /// Checks, logs and applies one request.
    fn ingest(
        &mut self,
        live: &mut Live,
        messages: &[Message],
        batch: bool,
        changes: &mut Vec<Change>,
    ) -> Result<Ack, Refusal> {
        let mut fresh = Vec::with_capacity(messages.len());
        let mut here = HashSet::new();
        for (i, m) in messages.iter().enumerate() {
            let seen = m
                .message_id
                .as_deref()
                .is_some_and(|id| self.seen.contains(id) || !here.insert(id));
            if !seen {
                fresh.push((i, m));
            }
        }
        let duplicates = messages.len() - fresh.len();
        if fresh.is_empty() {
            return Ok(Ack {
                applied: 0,
                duplicates,
            });
        }
        let refusal = |i: usize, m: &Message, input: &Input, e: super::live::InputError| Refusal {
            field: e
                .field
                .as_deref()
                .map(|k| self.mapper.field(m.call, kind_of(input), k)),
            error: e.reason.clone(),
            item: batch.then_some(i),
        };
        let mut request = Request::new(live, self.link.as_deref(), self.known_contact.as_deref());
        for &(i, m) in &fresh {
            for input in &m.inputs {
                request.check(input).map_err(|e| refusal(i, m, input, e))?;
            }
        }
        // Every input of the request is applied at one moment, the clock (moved to the
        // real time when the group began): an input dated later counts from its own
        // time on, as in batch, and the clock never runs ahead of the real time.
        let now = live.clock();
        let record = Record {
            request: self.next,
            clock: now,
            message_ids: fresh
                .iter()
                .filter_map(|(_, m)| m.message_id.clone())
                .collect(),
            inputs: fresh
                .iter()
                .flat_map(|(_, m)| &m.inputs)
                .map(|input| serde_json::from_str(&input.to_json()).unwrap_or_default())
                .collect(),
        };
        self.wal
            .append(&record)
            .map_err(|e| Refusal::new(None, format!("cannot log the request: {e}")))?;
        self.next += 1;
        let mut failed = None;
        for &(i, m) in &fresh {
            for input in &m.inputs {
                match live.apply_at(input, now) {
                    Ok(c) => {
                        changes.extend(c);
                        if self.known_contact.is_none()
                            && let Input::Contact { id, .. } = input
                        {
                            self.known_contact = Some(id.clone());
                        }
                    }
                    Err(e) => failed = failed.or(Some(refusal(i, m, input, e))),
                }
            }
        }
        for id in record.message_ids {
            self.seen.insert(id);
        }
        match failed {
            Some(r) => Err(r),
            None => Ok(Ack {
                applied: fresh.len(),
                duplicates,
            }),
        }
    }

    /// Writes a snapshot of everything logged so far and starts a new log file.
    fn snapshot(&mut self) -> std::io::Result<()> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let request = self.next - 1;
        let meta = SnapshotMeta {
            request,
            checkpoint: live.checkpoint(),
            plan_sha256: self.plan_sha256.clone(),
            message_ids: self.seen.list(),
        };
        self.state.write_snapshot(&live, &meta)?;
        self.state.rotate(&mut self.wal, self.next)?;
        self.last_snapshot = request;
        Ok(())
    }
}
