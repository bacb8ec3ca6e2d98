//! The `--state` folder: the write-ahead log of accepted requests, the snapshots and
//! the lock that keeps a second server off the folder.
//!
//! ```text
//! state/
//!   lock                    held (an OS file lock) while a server runs
//!   snapshot-<N>/           the data after request N (contacts/accounts/events/changes
//!                           .ndjson, as `funnel run --data` reads) and checkpoint.json
//!   wal-<N>.ndjson          one line per accepted request, from request N on
//!   changes.ndjson          every membership change, one line each (changes.rs)
//! ```
//!
//! A request's line is written and fsynced before the request is acknowledged; requests
//! that arrive together share one fsync (group commit). A snapshot is written into
//! `snapshot-<N>.tmp`, synced, then renamed; only then are the older snapshots and the
//! log files it covers removed.

use super::live::{Checkpoint, Input, Live};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

/// One accepted request in the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Requests count from 1 across the life of the state.
    pub request: u64,
    /// The moment the request's inputs were applied at (`Live::apply_at`): a replay
    /// applies them at the same moment, so that it makes exactly the same changes.
    pub clock: DateTime<Utc>,
    /// The `messageId`s of the request's messages (those that had one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    /// The inputs in their JSON line form (`Input::to_json`), in order.
    pub inputs: Vec<serde_json::Value>,
}

impl Record {
    /// The inputs, parsed back.
    pub fn parse_inputs(&self) -> Result<Vec<Input>, String> {
        self.inputs
            .iter()
            .map(|v| Input::from_json(&v.to_string()).map_err(|e| e.to_string()))
            .collect()
    }
}

/// What a snapshot holds besides the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// The last request the snapshot includes (0: none).
    pub request: u64,
    /// The live core's counters.
    pub checkpoint: Checkpoint,
    /// The SHA-256 of the plan the state was made with.
    pub plan_sha256: String,
    /// The most recent `messageId`s, oldest first (duplicates are caught across a
    /// restart).
    pub message_ids: Vec<String>,
}

/// The state folder, locked.
#[derive(Debug)]
pub struct StateDir {
    root: PathBuf,
    _lock: File,
}

/// The name of the checkpoint file in a snapshot.
const CHECKPOINT: &str = "checkpoint.json";

impl StateDir {
    /// Opens (creating it if need be) and locks the folder.
    pub fn open(root: &Path) -> Result<StateDir, String> {
        fs::create_dir_all(root)
            .map_err(|e| format!("cannot create the state folder `{}`: {e}", root.display()))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("lock"))
            .map_err(|e| format!("cannot open `{}`: {e}", root.join("lock").display()))?;
        lock.try_lock().map_err(|_| {
            format!(
                "another `funnel serve` is using the state folder `{}`",
                root.display()
            )
        })?;
        Ok(StateDir {
            root: root.to_path_buf(),
            _lock: lock,
        })
    }

    /// The change log file.
    pub fn changes_path(&self) -> PathBuf {
        self.root.join("changes.ndjson")
    }

    /// The numbers of the entries named `prefix<N><suffix>`, ascending.
    fn numbered(&self, prefix: &str, suffix: &str) -> io::Result<Vec<u64>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let name = entry?.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(n) = name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(suffix))
                .and_then(|n| n.parse::<u64>().ok())
            {
                out.push(n);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The newest complete snapshot: its folder and what it holds. Half-written ones
    /// (`.tmp`) are removed.
    pub fn latest_snapshot(&self) -> Result<Option<(PathBuf, SnapshotMeta)>, String> {
        let io = |e: io::Error| {
            format!(
                "cannot read the state folder `{}`: {e}",
                self.root.display()
            )
        };
        for n in self.numbered("snapshot-", ".tmp").map_err(io)? {
            let _ = fs::remove_dir_all(self.root.join(format!("snapshot-{n}.tmp")));
        }
        let Some(&n) = self.numbered("snapshot-", "").map_err(io)?.last() else {
            return Ok(None);
        };
        let dir = self.root.join(format!("snapshot-{n}"));
        let path = dir.join(CHECKPOINT);
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let meta = serde_json::from_str(&text)
            .map_err(|e| format!("`{}` is not a snapshot checkpoint: {e}", path.display()))?;
        Ok(Some((dir, meta)))
    }

    /// Writes a snapshot of `live` (after request `meta.request`) and removes the older
    /// snapshots.
    pub fn write_snapshot(&self, live: &Live, meta: &SnapshotMeta) -> io::Result<()> {
        let tmp = self.root.join(format!("snapshot-{}.tmp", meta.request));
        let done = self.root.join(format!("snapshot-{}", meta.request));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir(&tmp)?;
        live.write_data(&tmp)?;
        let json = serde_json::to_string(meta).map_err(io::Error::other)?;
        fs::write(tmp.join(CHECKPOINT), json)?;
        for entry in fs::read_dir(&tmp)? {
            File::open(entry?.path())?.sync_all()?;
        }
        File::open(&tmp)?.sync_all()?;
        if done.exists() {
            fs::remove_dir_all(&done)?;
        }
        fs::rename(&tmp, &done)?;
        File::open(&self.root)?.sync_all()?;
        for n in self.numbered("snapshot-", "")? {
            if n < meta.request {
                fs::remove_dir_all(self.root.join(format!("snapshot-{n}")))?;
            }
        }
        Ok(())
    }

    /// Calls `each` for every logged request after `after`, in order. A torn last line
    /// (the server stopped while writing it, so it was never acknowledged) is cut off;
    /// a bad line anywhere else is an error.
    pub fn replay(
        &self,
        after: u64,
        mut each: impl FnMut(Record) -> Result<(), String>,
    ) -> Result<u64, String> {
        let files = self
            .numbered("wal-", ".ndjson")
            .map_err(|e| format!("cannot read `{}`: {e}", self.root.display()))?;
        let mut last = after;
        for (i, &n) in files.iter().enumerate() {
            let path = self.wal_path(n);
            let is_last = i + 1 == files.len();
            let file =
                File::open(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let mut reader = BufReader::new(file);
            let mut offset = 0u64;
            let mut line = Vec::new();
            let mut number = 0usize;
            loop {
                line.clear();
                let read = reader
                    .read_until(b'\n', &mut line)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                if read == 0 {
                    break;
                }
                number += 1;
                let complete = line.ends_with(b"\n");
                let record = if complete {
                    serde_json::from_slice::<Record>(&line).ok()
                } else {
                    None
                };
                let Some(record) = record else {
                    let at_end = reader.fill_buf().map(|b| b.is_empty()).unwrap_or(false);
                    if is_last && at_end {
                        cut(&path, offset)
                            .map_err(|e| format!("cannot repair `{}`: {e}", path.display()))?;
                        break;
                    }
                    return Err(format!(
                        "`{}` line {number} is not a log record; the state folder is damaged",
                        path.display()
                    ));
                };
                offset += read as u64;
                if record.request > last {
                    last = record.request;
                    each(record)?;
                }
            }
        }
        Ok(last)
    }

    fn wal_path(&self, n: u64) -> PathBuf {
        self.root.join(format!("wal-{n}.ndjson"))
    }

    /// The log to append to: the newest log file, or a new one starting at `next`.
    pub fn open_wal(&self, next: u64) -> io::Result<Wal> {
        let start = self
            .numbered("wal-", ".ndjson")?
            .last()
            .copied()
            .unwrap_or(next);
        Wal::open(self.wal_path(start), &self.root)
    }

    /// Starts a new log file at request `next` (after a snapshot of the requests before
    /// it) and removes the older log files.
    pub fn rotate(&self, wal: &mut Wal, next: u64) -> io::Result<()> {
        *wal = Wal::open(self.wal_path(next), &self.root)?;
        for n in self.numbered("wal-", ".ndjson")? {
            if n < next {
                fs::remove_file(self.wal_path(n))?;
            }
        }
        Ok(())
    }
}

/// Truncates `path` to `len` bytes, synced.
fn cut(path: &Path, len: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(len)?;
    file.sync_all()
}

/// The log file being appended to.
#[derive(Debug)]
pub struct Wal {
    file: File,
    pending: Vec<u8>,
}

impl Wal {
    fn open(path: PathBuf, root: &Path) -> io::Result<Wal> {
        let existed = path.exists();
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        file.seek(io::SeekFrom::End(0))?;
        if !existed {
            File::open(root)?.sync_all()?;
        }
        Ok(Wal {
            file,
            pending: Vec::new(),
        })
    }

    /// Adds a record to the next commit.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        serde_json::to_writer(&mut self.pending, record).map_err(io::Error::other)?;
        self.pending.push(b'\n');
        Ok(())
    }

    /// Whether records wait for a commit.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Writes the records added since the last commit and fsyncs them: one fsync for
    /// all the requests of a group.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.pending)?;
        self.file.sync_data()?;
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("funnel-wal-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn record(request: u64) -> Record {
        Record {
            request,
            clock: DateTime::from_timestamp(1_790_000_000 + request as i64, 0).unwrap_or_default(),
            message_ids: vec![format!("m{request}")],
            inputs: vec![serde_json::json!({"clock": "2026-11-20T09:00:00Z"})],
        }
    }

    fn replayed(state: &StateDir, after: u64) -> Result<Vec<u64>, String> {
        let mut seen = Vec::new();
        state.replay(after, |r| {
            seen.push(r.request);
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn a_torn_last_line_is_cut_and_the_rest_replayed() -> Result<(), String> {
        let dir = scratch("torn");
        let state = StateDir::open(&dir)?;
        let mut wal = state.open_wal(1).map_err(|e| e.to_string())?;
        for n in 1..=3 {
            wal.append(&record(n)).map_err(|e| e.to_string())?;
        }
        wal.commit().map_err(|e| e.to_string())?;
        let path = dir.join("wal-1.ndjson");
        let whole = fs::metadata(&path).map_err(|e| e.to_string())?.len();
        // The server stopped while writing request 4: never acknowledged.
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| e.to_string())?;
        file.write_all(b"{\"request\":4,\"clo")
            .map_err(|e| e.to_string())?;
        assert_eq!(replayed(&state, 0)?, vec![1, 2, 3]);
        assert_eq!(fs::metadata(&path).map_err(|e| e.to_string())?.len(), whole);
        assert_eq!(replayed(&state, 2)?, vec![3]);
        // A bad line before the end is damage, not a torn write.
        fs::write(&path, "garbage\n{}\n").map_err(|e| e.to_string())?;
        assert!(replayed(&state, 0).is_err_and(|e| e.contains("line 1")));
        let _ = fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn one_server_per_state_folder_and_rotation_removes_covered_logs() -> Result<(), String> {
        let dir = scratch("lock");
        let state = StateDir::open(&dir)?;
        assert!(StateDir::open(&dir).is_err_and(|e| e.contains("another")));
        let mut wal = state.open_wal(1).map_err(|e| e.to_string())?;
        wal.append(&record(1)).map_err(|e| e.to_string())?;
        wal.commit().map_err(|e| e.to_string())?;
        state.rotate(&mut wal, 2).map_err(|e| e.to_string())?;
        wal.append(&record(2)).map_err(|e| e.to_string())?;
        wal.commit().map_err(|e| e.to_string())?;
        assert!(!dir.join("wal-1.ndjson").exists());
        assert_eq!(replayed(&state, 1)?, vec![2]);
        drop(state);
        assert!(StateDir::open(&dir).is_ok());
        let _ = fs::remove_dir_all(&dir);
        Ok(())
    }
}
