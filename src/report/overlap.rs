//! How the contact segments overlap: for every pair, the contacts in both.

use crate::engine::{ColumnKind, Table};
use serde::Serialize;

/// At most this many segments (the first in definition order) are compared, so the
/// matrix stays readable and the page small.
pub const MAX_SEGMENTS: usize = 60;

/// A matrix of shared members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// The segments compared, in definition order.
    pub names: Vec<String>,
    /// Segments left out by [`MAX_SEGMENTS`].
    pub left_out: usize,
    /// `shared[i][j]`: rows in both segment `i` and segment `j` (`shared[i][i]` is the
    /// size of `i`).
    pub shared: Vec<Vec<usize>>,
}

/// The overlap of the segments of table `t`; `None` when it has fewer than two.
pub fn overlap(t: &Table) -> Option<Overlap> {
    let all: Vec<_> = t
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Segment)
        .collect();
    if all.len() < 2 {
        return None;
    }
    let cols = &all[..all.len().min(MAX_SEGMENTS)];
    let n = cols.len();
    let mut shared = vec![vec![0; n]; n];
    let mut members = Vec::with_capacity(n);
    for row in 0..t.ids.len() {
        members.clear();
        members.extend((0..n).filter(|&j| cols.get(j).is_some_and(|c| c.is_true(row))));
        for &a in &members {
            if let Some(line) = shared.get_mut(a) {
                for &b in &members {
                    if let Some(x) = line.get_mut(b) {
                        *x += 1;
                    }
                }
            }
        }
    }
    Some(Overlap {
        names: cols.iter().map(|c| c.name.clone()).collect(),
        left_out: all.len() - n,
        shared,
    })
}
