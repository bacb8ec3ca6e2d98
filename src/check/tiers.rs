//! Tiers: whole-number bands over a score, with no gap and no overlap.

use super::Checker;
use super::collect::Src;
use super::program::{Band, Tiers};
use super::suggest;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, Ident, NumLit};
use crate::syntax::span::Span;

/// `a..b` or `a` when both ends are equal.
fn values(lo: i64, hi: i64) -> String {
    if lo == hi {
        format!("{lo}")
    } else {
        format!("{lo}..{hi}")
    }
}

/// Rounds half away from zero, as tiers match scores.
fn round(x: f64) -> i64 {
    x.round() as i64
}

impl Checker<'_> {
    /// Lowers `tiers name of score { … }`.
    pub(super) fn lower_tiers(&mut self, score: &Ident, bands: &[ast::Band]) -> Option<Tiers> {
        let range = self.tier_score(score);
        let mut out: Vec<(Band, Span)> = Vec::new();
        let mut ok = range.is_some();
        for b in bands {
            if let Some((_, first)) = out.iter().find(|(o, _)| o.name == b.name.name) {
                self.report(
                    Diagnostic::new(
                        Code::Duplicate,
                        b.name.span,
                        format!("band `{}` is listed twice", b.name.name),
                    )
                    .with_label("listed again")
                    .with_related(*first, "first listed here")
                    .with_help("give each band its own name"),
                );
                ok = false;
                continue;
            }
            let (Some(lo), Some(hi)) = (self.whole(&b.range.lo), self.whole(&b.range.hi)) else {
                ok = false;
                continue;
            };
            if !self.check_range(&b.range) {
                ok = false;
                continue;
            }
            out.push((
                Band {
                    name: b.name.name.clone(),
                    lo,
                    hi,
                },
                b.span,
            ));
        }
        if ok {
            ok = self.coverage(score, &out, range.flatten());
        }
        ok.then(|| Tiers {
            score: score.name.clone(),
            bands: out.into_iter().map(|(b, _)| b).collect(),
        })
    }

    /// Resolves the tiered score: `Some(range)` when it is a score.
    fn tier_score(&mut self, score: &Ident) -> Option<Option<(f64, f64)>> {
        let Some(i) = self.def_index(&score.name) else {
            let scores: Vec<&str> = self
                .defs
                .iter()
                .filter(|d| matches!(d.kind, Src::Score { .. }))
                .map(|d| d.name.name.as_str())
                .collect();
            let help = suggest::help(&score.name, scores)
                .unwrap_or_else(|| "tiers divide a score: define `score name { … }` first".into());
            self.report(
                Diagnostic::new(
                    Code::UnknownName,
                    score.span,
                    format!("unknown score `{}`", score.name),
                )
                .with_label("no score of this name")
                .with_help(help),
            );
            return None;
        };
        self.depend(i, score.span);
        match self.defs.get(i).map(|d| d.kind) {
            Some(Src::Score { range, .. }) => Some(range.map(|r| (r.lo.value, r.hi.value))),
            other => {
                let noun = other.map_or("definition", |k| k.noun());
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        score.span,
                        format!("tiers need a score, and `{}` is a {noun}", score.name),
                    )
                    .with_label("not a score")
                    .with_help("tier a score defined with `score name { … }`"),
                );
                None
            }
        }
    }

    fn whole(&mut self, n: &NumLit) -> Option<i64> {
        if n.value.fract() != 0.0 {
            self.report(
                Diagnostic::new(
                    Code::FractionalBound,
                    n.span,
                    format!("tier bound `{}` is not a whole number", self.snippet(n.span)),
                )
                .with_label("scores are matched to tiers as whole numbers")
                .with_help(format!(
                    "use `{}` or `{}`: a score is rounded to a whole number before its band is found",
                    n.value.floor(),
                    n.value.ceil()
                )),
            );
            return None;
        }
        Some(n.value as i64)
    }

    /// Reports gaps and overlaps; returns whether there are none.
    fn coverage(
        &mut self,
        score: &Ident,
        bands: &[(Band, Span)],
        range: Option<(f64, f64)>,
    ) -> bool {
        let mut sorted: Vec<&(Band, Span)> = bands.iter().collect();
        sorted.sort_by_key(|(b, _)| (b.lo, b.hi));
        let mut ok = true;
        let name = &score.name;
        for pair in sorted.windows(2) {
            let [(a, aspan), (b, bspan)] = pair else {
                continue;
            };
            if b.lo <= a.hi {
                self.report(
                    Diagnostic::new(
                        Code::TierOverlap,
                        *bspan,
                        format!(
                            "bands `{}` and `{}` overlap: {} of `{name}` fall in both",
                            a.name,
                            b.name,
                            values(b.lo, a.hi.min(b.hi))
                        ),
                    )
                    .with_label(format!("`{}` starts at {}", b.name, b.lo))
                    .with_related(*aspan, format!("`{}` ends at {}", a.name, a.hi))
                    .with_help(format!("start `{}` at {}", b.name, a.hi + 1)),
                );
                ok = false;
            } else if b.lo > a.hi + 1 {
                self.gap(score, a.hi + 1, b.lo - 1, *bspan, Some((*aspan, &a.name)));
                ok = false;
            }
        }
        if let (Some((lo, hi)), Some((first, fspan)), Some(last)) = (
            range,
            sorted.first().map(|(b, s)| (b, *s)),
            sorted.iter().map(|(b, _)| b.hi).max(),
        ) {
            let (lo, hi) = (round(lo), round(hi));
            if first.lo > lo {
                self.gap(score, lo, first.lo.min(hi + 1) - 1, fspan, None);
                ok = false;
            }
            if last < hi {
                let lspan = sorted
                    .iter()
                    .find(|(b, _)| b.hi == last)
                    .map_or(fspan, |(_, s)| *s);
                self.gap(score, last.max(lo - 1) + 1, hi, lspan, None);
                ok = false;
            }
        }
        ok
    }

    fn gap(&mut self, score: &Ident, lo: i64, hi: i64, at: Span, prev: Option<(Span, &str)>) {
        let mut d = Diagnostic::new(
            Code::TierGap,
            at,
            format!("{} of `{}` fall in no band", values(lo, hi), score.name),
        )
        .with_label(format!("{} not covered", values(lo, hi)))
        .with_help(format!("extend a band or add one for {}", values(lo, hi)));
        if let Some((span, name)) = prev {
            d = d.with_related(span, format!("`{name}` ends at {}", lo - 1));
        }
        self.report(d);
    }
}
