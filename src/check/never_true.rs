//! Comparisons that can never be true (E0504) or are always true (W0104): constants
//! outside a declared range, counts below zero, contradictory bounds joined by `and`,
//! empty `between` windows.

use super::Checker;
use super::collect::Src;
use super::program::{Expr, ExprKind, Value};
use super::resolve::Env;
use super::schema::Type;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, AggFunc, BinOp, DurationUnit, NumRange, TimePoint};
use crate::syntax::span::Span;

/// What is known about an operand's values.
struct Known {
    lo: f64,
    hi: f64,
    /// Whether the operand always has a value (counts, rule scores).
    present: bool,
    /// Why, for the label: "`age` is declared `in 0..130`".
    why: String,
}

/// A numeric constant.
fn constant(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Lit(Value::Int(i)) => Some(*i as f64),
        ExprKind::Lit(Value::Number(n)) => Some(*n),
        ExprKind::Neg(x) => constant(x).map(|c| -c),
        _ => None,
    }
}

/// The comparison with its operands swapped (`3 < x` is `x > 3`).
fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}

/// `x op c` as (x, op, c), whichever side the constant is on.
fn normalise<'e>(op: BinOp, l: &'e Expr, r: &'e Expr) -> Option<(&'e Expr, BinOp, f64)> {
    if let Some(c) = constant(r) {
        return Some((l, op, c));
    }
    constant(l).map(|c| (r, flip(op), c))
}

/// An interval of numbers with open or closed ends.
#[derive(Debug, Clone, Copy)]
struct Interval {
    lo: f64,
    lo_incl: bool,
    hi: f64,
    hi_incl: bool,
}

impl Interval {
    fn of(op: BinOp, c: f64, int: bool) -> Option<Interval> {
        let inf = f64::INFINITY;
        let i = match op {
            BinOp::Eq => Interval {
                lo: c,
                lo_incl: true,
                hi: c,
                hi_incl: true,
            },
            BinOp::Lt => Interval {
                lo: -inf,
                lo_incl: false,
                hi: c,
                hi_incl: false,
            },
            BinOp::Le => Interval {
                lo: -inf,
                lo_incl: false,
                hi: c,
                hi_incl: true,
            },
            BinOp::Gt => Interval {
                lo: c,
                lo_incl: false,
                hi: inf,
                hi_incl: false,
            },
            BinOp::Ge => Interval {
                lo: c,
                lo_incl: true,
                hi: inf,
                hi_incl: false,
            },
            _ => return None,
        };
        Some(if int { i.whole() } else { i })
    }

    /// The same set of whole numbers, with closed ends.
    fn whole(self) -> Interval {
        let lo = if self.lo_incl {
            self.lo.ceil()
        } else {
            (self.lo + 1.0).floor()
        };
        let hi = if self.hi_incl {
            self.hi.floor()
        } else {
            (self.hi - 1.0).ceil()
        };
        Interval {
            lo,
            lo_incl: true,
            hi,
            hi_incl: true,
        }
    }

    fn meet(self, o: Interval) -> Interval {
        let (lo, lo_incl) = if self.lo > o.lo || (self.lo == o.lo && !self.lo_incl) {
            (self.lo, self.lo_incl)
        } else {
            (o.lo, o.lo_incl)
        };
        let (hi, hi_incl) = if self.hi < o.hi || (self.hi == o.hi && !self.hi_incl) {
            (self.hi, self.hi_incl)
        } else {
            (o.hi, o.hi_incl)
        };
        Interval {
            lo,
            lo_incl,
            hi,
            hi_incl,
        }
    }

    fn is_empty(self) -> bool {
        self.lo > self.hi || (self.lo == self.hi && !(self.lo_incl && self.hi_incl))
    }
}

/// The operand and the interval a condition confines it to.
fn bound(e: &Expr) -> Option<(&Expr, Interval)> {
    let int = |x: &Expr| x.ty == Type::Int;
    match &e.kind {
        ExprKind::Binary { op, lhs, rhs } => {
            let (x, op, c) = normalise(*op, lhs, rhs)?;
            Some((x, Interval::of(op, c, int(x))?))
        }
        ExprKind::InRange { expr, lo, hi } => {
            let i = Interval {
                lo: *lo,
                lo_incl: true,
                hi: *hi,
                hi_incl: true,
            };
            Some((expr, if int(expr) { i.whole() } else { i }))
        }
        _ => None,
    }
}

/// The bounds of a duration in seconds (calendar units vary).
fn seconds(d: &ast::Duration) -> (i64, i64) {
    let day = 86_400;
    let (lo, hi) = match d.unit {
        DurationUnit::Hour => (3600, 3600),
        DurationUnit::Day => (day, day),
        DurationUnit::Week => (7 * day, 7 * day),
        DurationUnit::Month => (28 * day, 31 * day),
        DurationUnit::Year => (365 * day, 366 * day),
    };
    (d.amount.saturating_mul(lo), d.amount.saturating_mul(hi))
}

impl Checker<'_> {
    fn known(&self, e: &Expr, env: Env) -> Option<Known> {
        let declared = |f: Option<&super::schema::Field>, name: &str| {
            let f = f?;
            let (lo, hi) = f.range?;
            Some(Known {
                lo,
                hi,
                present: false,
                why: format!("`{name}` is declared `in {lo}..{hi}`"),
            })
        };
        match &e.kind {
            ExprKind::Attr(n) => declared(self.schema.contact_field(n), n),
            ExprKind::AccountAttr(n) => declared(self.schema.account_field(n), n),
            ExprKind::Field(n) => match env {
                Env::Event(Some(k)) => declared(
                    self.schema
                        .events
                        .get(k)
                        .and_then(|ev| ev.fields.iter().find(|f| &f.name == n)),
                    n,
                ),
                _ => None,
            },
            ExprKind::Ref(n) | ExprKind::AccountRef(n) => {
                let d = self.defs.get(self.def_index(n)?)?;
                let Src::Score {
                    range: Some(r),
                    body,
                } = d.kind
                else {
                    return None;
                };
                Some(Known {
                    lo: r.lo.value,
                    hi: r.hi.value,
                    present: matches!(body, ast::ScoreBody::Rules(_)),
                    why: format!("score `{n}` is kept `in {}..{}`", r.lo.value, r.hi.value),
                })
            }
            ExprKind::Agg {
                func: AggFunc::Count | AggFunc::CountDistinct,
                ..
            }
            | ExprKind::ContactsAgg {
                func: AggFunc::Count | AggFunc::CountDistinct,
                ..
            } => Some(Known {
                lo: 0.0,
                hi: f64::INFINITY,
                present: true,
                why: "a count is never below 0".into(),
            }),
            _ => None,
        }
    }

    /// `x op c` against what is known of `x`.
    pub(super) fn check_comparison(&mut self, op: BinOp, l: &Expr, r: &Expr, env: Env, span: Span) {
        let Some((x, op, c)) = normalise(op, l, r) else {
            return;
        };
        let Some(k) = self.known(x, env) else {
            return;
        };
        let never = match op {
            BinOp::Eq => c < k.lo || c > k.hi,
            BinOp::Lt => c <= k.lo,
            BinOp::Le => c < k.lo,
            BinOp::Gt => c >= k.hi,
            BinOp::Ge => c > k.hi,
            _ => false,
        };
        let always = k.present
            && match op {
                BinOp::Ge => c <= k.lo,
                BinOp::Gt => c < k.lo,
                BinOp::Le => c >= k.hi,
                BinOp::Lt => c > k.hi,
                BinOp::Ne => c < k.lo || c > k.hi,
                _ => false,
            };
        self.verdict(never, always, k, span);
    }

    /// `x in a..b` against what is known of `x`.
    pub(super) fn check_in_range(&mut self, x: &Expr, r: &NumRange, env: Env, span: Span) {
        let Some(k) = self.known(x, env) else {
            return;
        };
        let never = r.hi.value < k.lo || r.lo.value > k.hi;
        let always = k.present && r.lo.value <= k.lo && r.hi.value >= k.hi;
        self.verdict(never, always, k, span);
    }

    fn verdict(&mut self, never: bool, always: bool, k: Known, span: Span) {
        let text = self
            .snippet(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if never {
            self.report(
                Diagnostic::new(Code::NeverTrue, span, format!("`{text}` can never be true"))
                    .with_label(k.why)
                    .with_help("compare with a value inside the range"),
            );
        } else if always {
            self.always_true(
                span,
                format!("`{text}` is always true"),
                &k.why,
                "remove the test, or compare with a value inside the range",
            );
        }
    }

    /// Contradictory bounds on one operand joined by `and`.
    pub(super) fn check_contradiction(
        &mut self,
        items: &[ast::Expr],
        lowered: &[Expr],
        span: Span,
    ) {
        let bounds: Vec<(Span, &Expr, Interval)> = items
            .iter()
            .zip(lowered)
            .filter_map(|(a, l)| bound(l).map(|(x, i)| (a.span, x, i)))
            .collect();
        for (k, (sa, xa, ia)) in bounds.iter().enumerate() {
            for (sb, xb, ib) in bounds.iter().skip(k + 1) {
                if xa == xb && ia.meet(*ib).is_empty() {
                    let (a, b) = (self.snippet(*sa).to_string(), self.snippet(*sb).to_string());
                    self.report(
                        Diagnostic::new(
                            Code::NeverTrue,
                            span,
                            format!("`{a}` and `{b}` can never both be true"),
                        )
                        .with_label("contradictory bounds")
                        .with_related(*sa, "this bound")
                        .with_related(*sb, "contradicts this one")
                        .with_help("check the numbers, or join the tests with `or`"),
                    );
                    return;
                }
            }
        }
    }

    /// `between a and b` whose start is not before its end.
    pub(super) fn check_between(&mut self, a: &TimePoint, b: &TimePoint, span: Span) {
        let empty = match (a, b) {
            (TimePoint::Now(_) | TimePoint::Ago(..), TimePoint::Now(_) | TimePoint::Ago(..)) => {
                let ago = |t: &TimePoint| match t {
                    TimePoint::Ago(d, _) => seconds(d),
                    _ => (0, 0),
                };
                // start = now − A, end = now − B: empty when A ≤ B for sure
                ago(a).1 <= ago(b).0
            }
            (
                TimePoint::Date(..) | TimePoint::Timestamp(..),
                TimePoint::Date(..) | TimePoint::Timestamp(..),
            ) => {
                let at = |t: &TimePoint, end: bool| match t {
                    TimePoint::Date(d, _) => {
                        let d = if end { d.succ_opt().unwrap_or(*d) } else { *d };
                        Some(d.and_time(chrono::NaiveTime::MIN).and_utc())
                    }
                    TimePoint::Timestamp(t, _) => Some(*t),
                    _ => None,
                };
                matches!((at(a, false), at(b, true)), (Some(x), Some(y)) if x >= y)
            }
            _ => false,
        };
        if empty {
            self.report(
                Diagnostic::new(
                    Code::NeverTrue,
                    span,
                    format!("the window `{}` holds no moment", self.snippet(span)),
                )
                .with_label("its start is not before its end")
                .with_related(a.span(), "start")
                .with_related(b.span(), "end")
                .with_help(format!(
                    "write the earlier moment first: `between {} and {}`",
                    self.snippet(b.span()),
                    self.snippet(a.span())
                )),
            );
        }
    }
}
