//! The change stream: every membership change in `state/changes.ndjson` (one JSON line
//! each, `seq` ascending) and the most recent ones in memory, so that a client can
//! resume after the last `seq` it saw — from memory when it is recent, from the file
//! otherwise (also after a restart).
//!
//! The file is not fsynced: a change is made again from the write-ahead log when the
//! server restarts, with the same `seq`, and written then if the file missed it.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// How many changes are kept in memory.
pub const RING: usize = 10_000;

/// One change: its `seq` and JSON line (without the newline).
pub type Line = (u64, Arc<str>);

/// The change log and its recent tail.
#[derive(Debug)]
pub struct Changes {
    path: PathBuf,
    /// How many changes memory holds.
    ring: usize,
    inner: Mutex<Inner>,
    latest: watch::Sender<u64>,
}

#[derive(Debug)]
struct Inner {
    file: File,
    ring: VecDeque<Line>,
    /// The last `seq` in the file.
    logged: u64,
}

#[derive(serde::Deserialize)]
struct Seq {
    seq: u64,
}

impl Changes {
    /// Opens the log at `path`: loads its tail and cuts a torn last line.
    pub fn open(path: &Path) -> Result<Changes, String> {
        Changes::open_with(path, RING)
    }

    /// [`Changes::open`], with the last `ring` changes in memory.
    fn open_with(path: &Path, ring_len: usize) -> Result<Changes, String> {
        let err = |e: io::Error| format!("cannot read `{}`: {e}", path.display());
        let mut ring = VecDeque::new();
        let mut logged = 0;
        let mut good_len = 0u64;
        if path.exists() {
            let mut reader = BufReader::new(File::open(path).map_err(err)?);
            let mut line = String::new();
            loop {
                line.clear();
                let read = reader.read_line(&mut line).map_err(err)?;
                if read == 0 {
                    break;
                }
                let Some(seq) = line
                    .ends_with('\n')
                    .then(|| serde_json::from_str::<Seq>(&line).ok())
                    .flatten()
                else {
                    break;
                };
                good_len += read as u64;
                logged = seq.seq;
                if ring.len() == ring_len {
                    ring.pop_front();
                }
                ring.push_back((seq.seq, Arc::from(line.trim_end())));
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        file.set_len(good_len).map_err(err)?;
        let (latest, _) = watch::channel(logged);
        Ok(Changes {
            path: path.to_path_buf(),
            ring: ring_len,
            inner: Mutex::new(Inner { file, ring, logged }),
            latest,
        })
    }

    /// The last `seq` there is.
    pub fn last(&self) -> u64 {
        *self.latest.borrow()
    }

    /// A receiver told of each new last `seq`.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Adds changes (in `seq` order); those the log already has (made again by a
    /// replay) are skipped.
    pub fn publish(&self, lines: Vec<Line>) -> io::Result<()> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = Vec::new();
        let mut last = inner.logged;
        for (seq, line) in lines {
            if seq <= last {
                continue;
            }
            last = seq;
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
            if inner.ring.len() == self.ring {
                inner.ring.pop_front();
            }
            inner.ring.push_back((seq, line));
        }
        if last == inner.logged {
            return Ok(());
        }
        inner.logged = last;
        let written = inner.file.write_all(&text);
        drop(inner);
        self.latest.send_replace(last);
        written
    }

    /// Up to `limit` changes after `after`, in order.
    pub fn after(&self, after: u64, limit: usize) -> io::Result<Vec<Line>> {
        {
            let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let first = inner.ring.front().map_or(inner.logged + 1, |(s, _)| *s);
            if after + 1 >= first {
                let skip = inner.ring.partition_point(|(s, _)| *s <= after);
                return Ok(inner.ring.iter().skip(skip).take(limit).cloned().collect());
            }
        }
        // Older than memory holds: read the file.
        let mut out = Vec::new();
        let mut reader = BufReader::new(File::open(&self.path)?);
        let mut line = String::new();
        while out.len() < limit {
            line.clear();
            if reader.read_line(&mut line)? == 0 || !line.ends_with('\n') {
                break;
            }
            if let Ok(seq) = serde_json::from_str::<Seq>(&line)
                && seq.seq > after
            {
                out.push((seq.seq, Arc::from(line.trim_end())));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64) -> Line {
        (
            seq,
            Arc::from(format!("{{\"seq\":{seq},\"id\":\"c{seq}\"}}")),
        )
    }

    #[test]
    fn changes_resume_from_memory_from_the_file_and_after_reopening() -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("funnel-changes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("changes.ndjson");
        let changes = Changes::open(&path)?;
        changes
            .publish((1..=5).map(line).collect())
            .map_err(|e| e.to_string())?;
        // Made again by a replay: not written twice.
        changes
            .publish((4..=6).map(line).collect())
            .map_err(|e| e.to_string())?;
        assert_eq!(changes.last(), 6);
        let seqs = |v: Vec<Line>| v.into_iter().map(|(s, _)| s).collect::<Vec<_>>();
        assert_eq!(
            seqs(changes.after(3, 2).map_err(|e| e.to_string())?),
            vec![4, 5]
        );
        drop(changes);
        // A torn line at the end is cut when the log is opened again.
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| e.to_string())?;
        file.write_all(b"{\"seq\":7,").map_err(|e| e.to_string())?;
        let changes = Changes::open(&path)?;
        assert_eq!(changes.last(), 6);
        assert_eq!(
            seqs(changes.after(0, 100).map_err(|e| e.to_string())?),
            vec![1, 2, 3, 4, 5, 6]
        );
        changes.publish(vec![line(7)]).map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        assert_eq!(text.lines().count(), 7);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
