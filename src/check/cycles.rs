//! Cycles among definitions (signals, segments, scores, values, tiers, personas, in
//! both scopes): each strongly connected group is reported once, with one whole cycle.

use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::syntax::span::Span;
use std::collections::VecDeque;

/// Tarjan's strongly connected components over `edges`.
struct Tarjan<'g> {
    edges: &'g [Vec<(usize, Span)>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, v: usize) {
        let i = self.next;
        self.next += 1;
        set(&mut self.index, v, Some(i));
        set(&mut self.low, v, i);
        set(&mut self.on_stack, v, true);
        self.stack.push(v);
        let targets: Vec<usize> = self
            .edges
            .get(v)
            .map(|e| e.iter().map(|(t, _)| *t).collect())
            .unwrap_or_default();
        for w in targets {
            match self.index.get(w).copied().flatten() {
                None => {
                    self.visit(w);
                    let m = self.low_of(v).min(self.low_of(w));
                    set(&mut self.low, v, m);
                }
                Some(wi) if self.on_stack.get(w) == Some(&true) => {
                    let m = self.low_of(v).min(wi);
                    set(&mut self.low, v, m);
                }
                Some(_) => {}
            }
        }
        if Some(self.low_of(v)) == self.index.get(v).copied().flatten() {
            let mut comp = Vec::new();
            while let Some(w) = self.stack.pop() {
                set(&mut self.on_stack, w, false);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            self.out.push(comp);
        }
    }

    fn low_of(&self, v: usize) -> usize {
        self.low.get(v).copied().unwrap_or(usize::MAX)
    }
}

fn set<T>(v: &mut [T], i: usize, x: T) {
    if let Some(slot) = v.get_mut(i) {
        *slot = x;
    }
}

/// The shortest cycle from `start` back to itself inside `comp`, as edges.
fn shortest_cycle(
    edges: &[Vec<(usize, Span)>],
    comp: &[usize],
    start: usize,
) -> Vec<(usize, usize, Span)> {
    let mut prev: Vec<Option<(usize, Span)>> = vec![None; edges.len()];
    let mut queue = VecDeque::from([start]);
    let mut end = None;
    'search: while let Some(v) = queue.pop_front() {
        for &(w, span) in edges.get(v).into_iter().flatten() {
            if !comp.contains(&w) {
                continue;
            }
            if w == start {
                end = Some((v, span));
                break 'search;
            }
            if prev.get(w).copied().flatten().is_none() {
                set(&mut prev, w, Some((v, span)));
                queue.push_back(w);
            }
        }
    }
    let mut path = Vec::new();
    let Some((mut v, span)) = end else {
        return path;
    };
    path.push((v, start, span));
    while v != start {
        let Some((p, s)) = prev.get(v).copied().flatten() else {
            break;
        };
        path.push((p, v, s));
        v = p;
    }
    path.reverse();
    path
}

impl Checker<'_> {
    /// Reports every cycle of definitions, once per strongly connected group.
    pub(super) fn check_cycles(&mut self) {
        let n = self.defs.len();
        let mut t = Tarjan {
            edges: &self.deps,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in 0..n {
            if t.index.get(v).copied().flatten().is_none() {
                t.visit(v);
            }
        }
        let mut comps = t.out;
        comps.iter_mut().for_each(|c| c.sort_unstable());
        comps.sort();
        for comp in comps {
            let Some(&start) = comp.first() else {
                continue;
            };
            let self_loop = self
                .deps
                .get(start)
                .is_some_and(|e| e.iter().any(|(t, _)| *t == start));
            if comp.len() == 1 && !self_loop {
                continue;
            }
            let cycle = shortest_cycle(&self.deps, &comp, start);
            self.report_cycle(&cycle);
        }
    }

    fn report_cycle(&mut self, cycle: &[(usize, usize, Span)]) {
        let name = |i: usize| {
            self.defs
                .get(i)
                .map(|d| d.name.name.clone())
                .unwrap_or_default()
        };
        let Some(&(start, _, _)) = cycle.first() else {
            return;
        };
        let mut chain: Vec<String> = cycle
            .iter()
            .map(|(from, _, _)| format!("`{}`", name(*from)))
            .collect();
        chain.push(format!("`{}`", name(start)));
        let Some(span) = self.defs.get(start).map(|d| d.name.span) else {
            return;
        };
        let mut d = Diagnostic::new(
            Code::Cycle,
            span,
            format!("definitions depend on each other: {}", chain.join(" → ")),
        )
        .with_label(format!(
            "`{}` depends on itself through this cycle",
            name(start)
        ))
        .with_help("break the cycle: one of these definitions must not read the next");
        for &(from, to, at) in cycle {
            d = d.with_related(at, format!("`{}` reads `{}` here", name(from), name(to)));
        }
        self.report(d);
    }
}
