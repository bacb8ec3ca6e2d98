//! `funnel explain`: why one contact is (or is not) in each segment, how each of its
//! scores was made, and which tier and persona it got.

use super::rules::{DataArgs, PlanArgs, data_files, load_data, now, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::diag::escape::escape;
use crate::engine::columnar::Keep;
use crate::engine::explain::{ContactExplanation, Explanation, Trace, explain};
use crate::plan::display::number;
use crate::plan::walk::Site;
use crate::plan::{Expr, NodeKind, Plan};
use std::collections::BTreeSet;

/// Output formats of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people
    Human,
    /// One JSON document
    Json,
}

/// Arguments of `funnel explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: PlanArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// The contact to explain.
    #[arg(long, value_name = "ID")]
    pub contact: String,
    /// Explain only these definitions (comma-separated or repeated) and those they are
    /// made from [default: every definition].
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub only: Vec<String>,
    /// How to write the explanation.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `funnel explain`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let files = data_files(&args.data)?;
    let (loaded, events) = load_data(&plan, &files, false)?;
    let data = &loaded.dataset;
    let focus = focus(&plan, &args.only)?;
    let Some(c) = data.contacts.position(&args.contact) else {
        return Err(UsageError(format!(
            "no contact `{}` in `{}`{}",
            args.contact,
            files.contacts.display(),
            super::did_you_mean(&args.contact, data.contacts.ids())
        )));
    };
    let ev = crate::engine::evaluate(
        &plan,
        data,
        events,
        now(&args.data),
        Keep::Aggregates,
        false,
    )
    .map_err(|e| UsageError(e.to_string()))?;
    let mut e = explain(&ev.ctx, &ev.state, c as u32);
    if let Some(names) = focus {
        e.results.retain(|x| names.contains(name_of(x)));
        e.account_results.retain(|x| names.contains(name_of(x)));
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&e).unwrap_or_default() + "\n",
        Format::Human => human(&e),
    };
    emit(Stream::Stdout, &text);
    Ok(Exit::Clean)
}

/// The names of the definitions `only` names and of every definition they are made
/// from (`None`: no `--only`, explain everything); an unknown name is a usage error.
fn focus(plan: &Plan, only: &[String]) -> Result<Option<BTreeSet<String>>, UsageError> {
    if only.is_empty() {
        return Ok(None);
    }
    let mut stack = Vec::new();
    for name in only {
        let before = stack.len();
        stack.extend((0..plan.nodes.len()).filter(|&i| {
            plan.nodes
                .get(i)
                .is_some_and(|n| n.output && &n.name == name)
        }));
        if stack.len() == before {
            let outputs = plan.nodes.iter().filter(|n| n.output);
            return Err(UsageError(format!(
                "no definition `{name}` in the rules{}",
                super::did_you_mean(name, outputs.map(|n| n.name.as_str()))
            )));
        }
    }
    let exprs = plan.exprs();
    let mut seen = BTreeSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        if let Some(NodeKind::Tiers { score, .. }) = plan.nodes.get(i).map(|n| &n.kind) {
            stack.push(*score);
        }
        for (site, e) in &exprs {
            if *site == Site::Node(i) {
                e.walk(&mut |x| {
                    if let Expr::Node(d) | Expr::AccountNode(d) = x {
                        stack.push(*d);
                    }
                });
            }
        }
    }
    Ok(Some(
        seen.into_iter()
            .filter_map(|i| plan.nodes.get(i).map(|n| n.name.clone()))
            .collect(),
    ))
}

/// The name of the definition an explanation is of.
pub(crate) fn name_of(x: &Explanation) -> &str {
    match x {
        Explanation::Segment { name, .. }
        | Explanation::Top { name, .. }
        | Explanation::Score { name, .. }
        | Explanation::Value { name, .. }
        | Explanation::Tier { name, .. }
        | Explanation::Personas { name, .. } => name,
    }
}

fn trace_lines(t: &Trace, depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    let mark = match &t.value {
        serde_json::Value::Bool(true) => "✓ ",
        serde_json::Value::Bool(false) => "✗ ",
        _ => "",
    };
    // A test on one value (`count(x) >= 3`, `age > 30`): show that value on the same line.
    if let [only] = t.parts.as_slice()
        && only.parts.is_empty()
        && !only.value.is_boolean()
        && !mark.is_empty()
    {
        let seen = if t.text.starts_with(&only.text) {
            format!("is {}", escape(&only.shown))
        } else {
            format!("{} = {}", only.text, escape(&only.shown))
        };
        out.push_str(&format!("{indent}{mark}{}   ({seen})\n", t.text));
        return;
    }
    let value = if mark.is_empty() {
        format!(" = {}", escape(&t.shown))
    } else {
        String::new()
    };
    out.push_str(&format!("{indent}{mark}{}{value}\n", t.text));
    for p in &t.parts {
        trace_lines(p, depth + 1, out);
    }
}

/// The explanation as text for people.
pub fn human(e: &ContactExplanation) -> String {
    let mut out = format!("contact {} as of {}", escape(&e.id), e.now);
    if let Some(a) = &e.account {
        out.push_str(&format!(" (account {})", escape(a)));
    }
    out.push('\n');
    for x in &e.results {
        explanation(x, &mut out);
    }
    if !e.account_results.is_empty() {
        out.push_str(&format!(
            "\naccount {}\n",
            escape(e.account.as_deref().unwrap_or_default())
        ));
        for x in &e.account_results {
            explanation(x, &mut out);
        }
    }
    crate::diag::escape::lines(&out)
}

/// One definition's explanation as text for people (shared with `funnel test`, which
/// shows it under a failing expectation).
pub fn explanation(x: &Explanation, out: &mut String) {
    let yes_no = |b: bool| if b { "member" } else { "not a member" };
    match x {
        Explanation::Segment {
            name,
            member,
            condition,
        } => {
            out.push_str(&format!("\nsegment {name}: {}\n", yes_no(*member)));
            trace_lines(condition, 1, out);
        }
        Explanation::Top {
            name,
            member,
            n,
            rank,
            by,
        } => {
            let rank = rank.map_or("unranked (no value)".to_string(), |r| format!("rank {r}"));
            out.push_str(&format!(
                "\nsegment {name}: {} — top {n}, {rank}\n",
                yes_no(*member)
            ));
            trace_lines(by, 1, out);
        }
        Explanation::Score {
            name,
            value,
            range,
            parts,
            expr,
        } => {
            let v = value.map_or("missing".into(), number);
            out.push_str(&format!("\nscore {name} = {v}\n"));
            if let Some(t) = expr {
                trace_lines(t, 1, out);
            }
            for g in &parts.groups {
                let indent = if let Some(gname) = &g.name {
                    let cap = if g.cap_hit { " (group cap hit)" } else { "" };
                    out.push_str(&format!(
                        "    group {gname}: {}{cap}\n",
                        number(round(g.capped))
                    ));
                    "        "
                } else {
                    "    "
                };
                for r in &g.rules {
                    let mut detail = Vec::new();
                    if let Some(n) = r.events {
                        detail.push(format!("{n} event{}", if n == 1 { "" } else { "s" }));
                    }
                    if let Some(h) = r.held {
                        detail.push(
                            if h {
                                "condition holds"
                            } else {
                                "condition fails"
                            }
                            .into(),
                        );
                    }
                    if let Some(u) = r.undecayed
                        && (u - r.points).abs() > 1e-9
                    {
                        detail.push(format!("{} before decay", number(round(u))));
                    }
                    if r.cap_hit {
                        detail.push(format!("capped from {}", number(round(r.points))));
                    }
                    out.push_str(&format!(
                        "{indent}{:>8}  {}  ({})\n",
                        signed(round(r.capped)),
                        r.label,
                        detail.join(", ")
                    ));
                }
            }
            if let (Some(raw), Some(clamped)) = (parts.raw, parts.clamped)
                && (raw - clamped).abs() > 1e-9
                && let Some((lo, hi)) = range
            {
                out.push_str(&format!(
                    "    total {} clamped to the range {}..{}\n",
                    number(round(raw)),
                    number(*lo),
                    number(*hi)
                ));
            }
        }
        Explanation::Value { name, value } => {
            out.push_str(&format!("\nvalue {name} = {}\n", escape(&value.shown)));
            for p in &value.parts {
                trace_lines(p, 1, out);
            }
        }
        Explanation::Tier {
            name,
            score,
            score_value,
            tier,
            bands,
        } => {
            let v = score_value.map_or("missing".into(), number);
            let bands: Vec<String> = bands
                .iter()
                .map(|(b, lo, hi)| format!("{b} {lo}..{hi}"))
                .collect();
            out.push_str(&format!(
                "\ntiers {name}: {} — {score} = {v} (rounded to a whole number) in {}\n",
                tier.as_deref().unwrap_or("no tier"),
                bands.join(", ")
            ));
        }
        Explanation::Personas {
            name,
            chosen,
            checked,
        } => {
            out.push_str(&format!(
                "\npersonas {name}: {}\n",
                chosen.as_deref().unwrap_or("none matched")
            ));
            for p in checked {
                let verdict = if p.matched {
                    "matched, chosen"
                } else {
                    "did not match"
                };
                out.push_str(&format!("    {} — {verdict}\n", p.name));
                trace_lines(&p.condition, 2, out);
            }
        }
    }
}

fn round(x: f64) -> f64 {
    crate::engine::value::round_score(x)
}

fn signed(x: f64) -> String {
    if x >= 0.0 {
        format!("+{}", number(x))
    } else {
        number(x)
    }
}
