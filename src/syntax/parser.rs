//! From source text to the syntax tree: pest for the grammar, pest's PrattParser for
//! operator precedence, and recovery at the next top-level item after a syntax error.

use super::ast::*;
use super::span::{FileId, Span};
use crate::diag::{Code, Diagnostic};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use pest::Parser as _;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/funnel.pest"]
struct Grammar;

/// The largest source file accepted, in bytes (see [`crate::limits::SOURCE_BYTES`]).
pub const MAX_INPUT_BYTES: usize = crate::limits::SOURCE_BYTES.default;
/// The deepest nesting of brackets and prefix operators accepted.
pub const MAX_NESTING: usize = crate::limits::NESTING.default;
/// The deepest expression tree accepted (after flattening `and` / `or` chains).
pub const MAX_EXPR_DEPTH: usize = crate::limits::EXPR_DEPTH.default;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::postfix(Rule::op_in_list)
            | Op::postfix(Rule::op_not_in)
            | Op::postfix(Rule::op_in_range)
            | Op::postfix(Rule::op_contains)
            | Op::postfix(Rule::op_starts_with)
            | Op::postfix(Rule::op_ends_with)
            | Op::postfix(Rule::op_matches)
            | Op::postfix(Rule::op_is_missing)
            | Op::postfix(Rule::op_is_present))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// Parses one source file. Always returns a tree (of the items that parsed) and every
/// syntax diagnostic found: after an error, parsing resumes at the next line that
/// starts a top-level item.
pub fn parse_file(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let whole = Span::new(file, 0, text.len());
    let mut out = File {
        items: Vec::new(),
        comments: Vec::new(),
        span: whole,
    };
    let mut diags = Vec::new();
    if text.len() > MAX_INPUT_BYTES {
        diags.push(
            Diagnostic::new(
                Code::TooLarge,
                Span::new(file, 0, 0),
                format!(
                    "file is {} bytes, more than the limit of {} bytes",
                    text.len(),
                    MAX_INPUT_BYTES
                ),
            )
            .with_help("split the rules into several files joined with `use`"),
        );
        return (out, diags);
    }
    if let Some(d) = check_nesting(file, text) {
        diags.push(d);
        return (out, diags);
    }
    let mut pos = 0;
    loop {
        pos = skip_trivia(file, text, pos, &mut out.comments);
        if pos >= text.len() {
            break;
        }
        let rest = text.get(pos..).unwrap_or("");
        match Grammar::parse(Rule::item, rest) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { break };
                let end = pos + pair.as_span().end();
                let mut b = Builder {
                    file,
                    base: pos,
                    diags: &mut diags,
                };
                for p in pair.clone().into_inner().flatten() {
                    if p.as_rule() == Rule::COMMENT {
                        out.comments.push(b.comment(&p));
                    }
                }
                if let Some(item) = b.item(pair) {
                    out.items.push(item);
                }
                pos = end.max(pos + 1);
            }
            Err(e) => {
                diags.push(syntax_error(file, pos, rest, e));
                pos = resync(text, pos);
            }
        }
    }
    out.comments.sort_by_key(|c| c.span.start);
    (out, diags)
}

/// Skips whitespace and comments from `pos`, collecting the comments.
fn skip_trivia(file: FileId, text: &str, pos: usize, comments: &mut Vec<Comment>) -> usize {
    let rest = text.get(pos..).unwrap_or("");
    match Grammar::parse(Rule::trivia, rest) {
        Ok(mut pairs) => match pairs.next() {
            Some(pair) => {
                let end = pair.as_span().end();
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::COMMENT {
                        let s = p.as_span();
                        comments.push(Comment {
                            text: p.as_str().trim_start_matches('#').to_string(),
                            span: Span::new(file, pos + s.start(), pos + s.end()),
                        });
                    }
                }
                pos + end
            }
            None => pos,
        },
        Err(_) => pos,
    }
}

/// Words that start a top-level item; recovery resumes at a line starting with one.
const ITEM_STARTS: &[&str] = &[
    "use", "contact", "account", "event", "signal", "segment", "score", "value", "tiers",
    "personas",
];

/// The offset of the next line (after `pos`) that starts a top-level item.
fn resync(text: &str, pos: usize) -> usize {
    let mut offset = pos;
    let rest = text.get(pos..).unwrap_or("");
    let mut first = true;
    for line in rest.split_inclusive('\n') {
        if !first {
            let trimmed = line.trim_start();
            let word: String = trimmed
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if ITEM_STARTS.contains(&word.as_str()) {
                return offset + (line.len() - trimmed.len());
            }
        }
        first = false;
        offset += line.len();
    }
    text.len()
}

/// Rejects input nested deeper than [`MAX_NESTING`] before pest sees it, so that no
/// input can exhaust the stack. Counts brackets and runs of prefix operators.
fn check_nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut prefix_run = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    let bytes = text.as_bytes();
    let mut word_start: Option<usize> = None;
    for (i, &c) in bytes.iter().enumerate() {
        if in_comment {
            if c == b'\n' {
                in_comment = false;
            }
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' || c == b'\n' {
                in_string = false;
            }
            continue;
        }
        let is_word = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        if is_word {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = word_start.take() {
            if text.get(start..i) == Some("not") || text.get(start..i) == Some("no") {
                prefix_run += 1;
            } else {
                prefix_run = 0;
            }
        }
        match c {
            b'#' => in_comment = true,
            b'"' => in_string = true,
            b'(' | b'{' => {
                depth += 1;
                prefix_run = 0;
            }
            b')' | b'}' => depth = depth.saturating_sub(1),
            b'-' => prefix_run += 1,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => prefix_run = 0,
        }
        if depth > MAX_NESTING || prefix_run > MAX_NESTING {
            return Some(
                Diagnostic::new(
                    Code::TooDeep,
                    Span::new(file, i, i + 1),
                    format!("nesting deeper than {MAX_NESTING} levels"),
                )
                .with_label("nested too deeply here")
                .with_help("name the inner part as its own segment or signal and refer to it"),
            );
        }
    }
    None
}

/// Turns a pest error into a diagnostic that says what was expected.
fn syntax_error(file: FileId, base: usize, rest: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let at = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = describe_found(rest.get(at..).unwrap_or(""));
    let token_len = found_len(rest.get(at..).unwrap_or(""));
    let span = Span::new(file, base + at, base + at + token_len);
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            names.sort_unstable();
            names.dedup();
            if names.contains(&"an expression") {
                names.retain(|n| !matches!(*n, "`-`" | "`not`" | "a name" | "a value"));
            }
            names
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    if let Some(d) = unterminated_text(file, base, rest, at) {
        return d;
    }
    if let Some(keyword) = misspelled_item_start(rest, at) {
        return Diagnostic::new(
            Code::Syntax,
            span,
            format!("expected a definition, found {found}"),
        )
        .with_label("not a definition keyword")
        .with_help(format!("did you mean `{keyword}`?"));
    }
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&expected))
    };
    let mut d = Diagnostic::new(Code::Syntax, span, message).with_label("unexpected here");
    if let Some(help) = syntax_help(rest, at, &expected) {
        d = d.with_help(help);
    }
    d
}

/// A text whose closing `"` is missing on its line: said as such, instead of as an
/// unexpected `"`.
fn unterminated_text(file: FileId, base: usize, rest: &str, at: usize) -> Option<Diagnostic> {
    let tail = rest.get(at..)?;
    let body = tail.strip_prefix('"')?;
    let line = body.split(['\n', '\r']).next().unwrap_or("");
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' => escaped = !escaped,
            '"' if !escaped => return None,
            _ => escaped = false,
        }
    }
    let span = Span::new(file, base + at, base + at + 1 + line.len());
    Some(
        Diagnostic::new(Code::Syntax, span, "this text has no closing `\"`")
            .with_label("the text starts here and runs to the end of the line")
            .with_help("end the text with `\"` on the same line; a text cannot span lines"),
    )
}

/// The definition keyword a word at the start of a line is a misspelling of
/// (`segmnt hot = …`): one or two letters off, and followed by a name or `{`.
fn misspelled_item_start(rest: &str, at: usize) -> Option<&'static str> {
    let tail = rest.get(at..)?;
    let starts_line = rest
        .get(..at)
        .is_some_and(|b| b.rsplit('\n').next().is_some_and(|l| l.trim().is_empty()));
    let word: String = tail
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let next = tail
        .get(word.len()..)?
        .trim_start_matches([' ', '\t'])
        .chars()
        .next();
    if !starts_line
        || word.is_empty()
        || is_keyword(&word)
        || !next.is_some_and(|c| c.is_alphabetic() || c == '_' || c == '`' || c == '{')
    {
        return None;
    }
    let limit = (word.chars().count() / 3).clamp(1, 2);
    ITEM_STARTS
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&word.to_lowercase(), k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

fn syntax_help(rest: &str, at: usize, expected: &[&str]) -> Option<String> {
    let tail = rest.get(at..).unwrap_or("");
    let before = rest.get(..at).unwrap_or("").trim_end();
    if tail.starts_with("==") || (tail.starts_with('=') && before.ends_with('=')) {
        return Some("compare with a single `=`".into());
    }
    if tail.starts_with("&&") || tail.starts_with("||") {
        return Some("write `and` / `or`".into());
    }
    if tail.starts_with('\'') {
        return Some("text is written in double quotes: `\"…\"`".into());
    }
    if expected.contains(&"a definition") {
        return Some(
            "each definition starts with `segment`, `score`, `signal`, `tiers`, `personas`, `value`, `event`, `contact`, `account` or `use`"
                .into(),
        );
    }
    let word: String = tail
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let starts_line = rest
        .get(..at)
        .is_some_and(|b| b.rsplit('\n').next().is_some_and(|l| l.trim().is_empty()));
    if ITEM_STARTS.contains(&word.as_str()) && at > 0 && starts_line {
        return Some(format!(
            "the definition before `{word}` is unfinished: complete it, or comment it out with `#`"
        ));
    }
    if !word.is_empty()
        && is_keyword(&word)
        && (expected.contains(&"a name") || expected.contains(&"an expression"))
    {
        return Some(format!(
            "`{word}` is a reserved word; write it in backticks (`` `{word}` ``) to use it as a name"
        ));
    }
    None
}

fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "and"
            | "or"
            | "not"
            | "no"
            | "in"
            | "is"
            | "where"
            | "within"
            | "between"
            | "since"
            | "before"
            | "ever"
            | "ago"
            | "now"
            | "true"
            | "false"
            | "per"
            | "if"
            | "by"
            | "top"
            | "contains"
            | "matches"
            | "was"
            | "changed"
            | "event"
            | "use"
            | "contact"
            | "signal"
            | "segment"
            | "score"
            | "tiers"
            | "personas"
    )
}

fn found_len(tail: &str) -> usize {
    let mut chars = tail.char_indices();
    match chars.next() {
        None => 0,
        Some((_, c)) if c.is_alphanumeric() || c == '_' => tail
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(tail.len(), |(i, _)| i),
        Some((_, c)) => c.len_utf8(),
    }
}

fn describe_found(tail: &str) -> String {
    let len = found_len(tail);
    match tail.get(..len) {
        None | Some("") => "end of file".into(),
        Some("\n") | Some("\r") => "end of line".into(),
        Some(tok) => format!("`{tok}`"),
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A human name for a grammar rule in "expected …" messages; `None` hides it.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::item => "a definition",
        Rule::ident | Rule::plain_ident | Rule::quoted_ident | Rule::name_ref | Rule::name_head => {
            "a name"
        }
        Rule::expr
        | Rule::fexpr
        | Rule::paren
        | Rule::fparen
        | Rule::no_stream
        | Rule::agg_call
        | Rule::func_call
        | Rule::as_of
        | Rule::agg_arg => "an expression",
        Rule::literal | Rule::value_atom | Rule::signed_number => "a value",
        Rule::number | Rule::int => "a number",
        Rule::string | Rule::text_patterns => "a quoted text",
        Rule::regex => "a regular expression `/…/`",
        Rule::duration | Rule::dur_short | Rule::dur_long => "a duration like `30d`",
        Rule::time_point | Rule::ago => "a moment like `30d ago` or `2026-01-31`",
        Rule::date | Rule::timestamp => "a date",
        Rule::window | Rule::within | Rule::between | Rule::since | Rule::before | Rule::ever => {
            "a window like `within 30d`"
        }
        Rule::type_expr | Rule::enum_type => "a type",
        Rule::field_decl => "a field `name: type`",
        Rule::num_range | Rule::score_range | Rule::field_range => "a range like `0..100`",
        Rule::score_rule | Rule::points => "a score rule like `+10 per event`",
        Rule::decay_stmt => "`decay`",
        Rule::half_life => "`half_life`",
        Rule::step_decay | Rule::percent => "a percentage like `25%`",
        Rule::band => "a band like `low 0..30`",
        Rule::persona => "a persona `name = condition`",
        Rule::value_list => "a list `(a, b)`",
        Rule::cap => "`at most N`",
        Rule::freq => "`at least N times`",
        Rule::op_eq => "`=`",
        Rule::op_ne => "`!=`",
        Rule::op_lt => "`<`",
        Rule::op_le => "`<=`",
        Rule::op_gt => "`>`",
        Rule::op_ge => "`>=`",
        Rule::op_add => "`+`",
        Rule::op_sub | Rule::op_neg => "`-`",
        Rule::op_mul => "`*`",
        Rule::op_div => "`/`",
        Rule::op_and | Rule::kw_and => "`and`",
        Rule::op_or => "`or`",
        Rule::op_not | Rule::kw_not => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_of => "`of`",
        Rule::kw_by => "`by`",
        Rule::kw_ago => "`ago`",
        Rule::kw_per | Rule::per_rule => "`per`",
        Rule::kw_if | Rule::if_rule => "`if`",
        Rule::kw_times => "`times`",
        Rule::kw_with => "`with`",
        Rule::kw_top | Rule::top_n => "`top`",
        Rule::where_clause | Rule::kw_where => "`where`",
        _ => return None,
    })
}

/// Builds syntax-tree nodes from pest pairs of one item.
struct Builder<'d> {
    file: FileId,
    base: usize,
    diags: &'d mut Vec<Diagnostic>,
}

type P<'i> = Pair<'i, Rule>;

/// The length of a pair's text without trailing whitespace and comments.
fn content_len(p: &P<'_>) -> usize {
    let text = p.as_str();
    let start = p.as_span().start();
    let mut len = text.trim_end().len();
    // A trailing comment is only possible when the last line holds a `#`.
    let last_line = text
        .get(..len)
        .and_then(|t| t.rsplit('\n').next())
        .unwrap_or("");
    if !last_line.contains('#') {
        return len;
    }
    let comments: Vec<(usize, usize)> = p
        .clone()
        .into_inner()
        .flatten()
        .filter(|c| c.as_rule() == Rule::COMMENT)
        .map(|c| {
            let cs = c.as_span().start() - start;
            (cs, cs + c.as_str().trim_end().len())
        })
        .collect();
    while let Some(&(cs, _)) = comments.iter().rev().find(|&&(_, ce)| ce == len) {
        len = text.get(..cs).map_or(0, |t| t.trim_end().len());
    }
    len
}

/// The children of a pair, without comments.
fn kids(p: P<'_>) -> impl Iterator<Item = P<'_>> {
    p.into_inner().filter(|c| c.as_rule() != Rule::COMMENT)
}

impl Builder<'_> {
    /// The span of a pair, without the whitespace and comments pest's implicit
    /// whitespace leaves at its end (after an optional or repeated last part).
    fn span(&self, p: &P<'_>) -> Span {
        let s = p.as_span();
        let end = s.start() + content_len(p);
        Span::new(self.file, self.base + s.start(), self.base + end)
    }

    fn comment(&self, p: &P<'_>) -> Comment {
        Comment {
            text: p.as_str().trim_start_matches('#').to_string(),
            span: self.span(p),
        }
    }

    fn error(&mut self, code: Code, span: Span, msg: String) {
        self.diags.push(Diagnostic::new(code, span, msg));
    }

    fn ident(&self, p: P<'_>) -> Ident {
        let span = self.span(&p);
        let raw = p.as_str();
        let name = raw
            .strip_prefix('`')
            .and_then(|s| s.strip_suffix('`'))
            .unwrap_or(raw);
        Ident {
            name: name.to_string(),
            span,
        }
    }

    fn item(&mut self, p: P<'_>) -> Option<Item> {
        let span = self.span(&p);
        let inner = kids(p).next()?;
        let kind = self.item_kind(inner, Scope::Contact)?;
        Some(Item { kind, span })
    }

    fn item_kind(&mut self, p: P<'_>, scope: Scope) -> Option<ItemKind> {
        let rule = p.as_rule();
        let mut it = kids(p).filter(|c| !is_item_keyword(c.as_rule()));
        Some(match rule {
            Rule::use_item => ItemKind::Use(self.string(it.next()?)),
            Rule::contact_block => ItemKind::Contact(self.fields(it.next()?)),
            Rule::account_block => ItemKind::Account(self.fields(it.next()?)),
            Rule::event_block => {
                it.next(); // kw_event
                let name = self.ident(it.next()?);
                let fields = it.next().map(|f| self.fields(f)).unwrap_or_default();
                ItemKind::Event { name, fields }
            }
            Rule::signal_def => {
                let name = self.ident(it.next()?);
                let source = self.source(it.next()?);
                let filter = match it.next() {
                    Some(w) => Some(self.where_clause(w)?),
                    None => None,
                };
                ItemKind::Signal {
                    name,
                    source,
                    filter,
                }
            }
            Rule::segment_def => {
                let name = self.ident(it.next()?);
                let body = it.next()?;
                let body = if body.as_rule() == Rule::top_n {
                    let span = self.span(&body);
                    let mut t =
                        kids(body).filter(|c| !matches!(c.as_rule(), Rule::kw_top | Rule::kw_by));
                    let n = self.int(t.next()?);
                    let by = self.expr(t.next()?)?;
                    SegmentBody::Top { n, by, span }
                } else {
                    SegmentBody::Expr(self.expr(body)?)
                };
                ItemKind::Segment { scope, name, body }
            }
            Rule::value_def => {
                let name = self.ident(it.next()?);
                let expr = self.expr(it.next()?)?;
                ItemKind::Value { scope, name, expr }
            }
            Rule::account_def => return self.item_kind(it.next()?, Scope::Account),
            Rule::score_def => {
                let name = self.ident(it.next()?);
                let mut next = it.next()?;
                let mut range = None;
                if next.as_rule() == Rule::score_range {
                    range =
                        Some(self.num_range(kids(next).find(|c| c.as_rule() == Rule::num_range)?));
                    next = it.next()?;
                }
                let body = match next.as_rule() {
                    Rule::score_expr => ScoreBody::Expr(self.expr(kids(next).next()?)?),
                    _ => {
                        let mut stmts = Vec::new();
                        for s in kids(next) {
                            if let Some(s) = self.score_stmt(s) {
                                stmts.push(s);
                            }
                        }
                        ScoreBody::Rules(stmts)
                    }
                };
                ItemKind::Score {
                    scope,
                    name,
                    range,
                    body,
                }
            }
            Rule::tiers_def => {
                let name = self.ident(it.next()?);
                let _of = it.next();
                let score = self.ident(it.next()?);
                let mut bands = Vec::new();
                for b in it {
                    let span = self.span(&b);
                    let mut bi = kids(b);
                    let name = self.ident(bi.next()?);
                    let range = self.num_range(bi.next()?);
                    bands.push(Band { name, range, span });
                }
                ItemKind::Tiers { name, score, bands }
            }
            Rule::personas_def => {
                let name = self.ident(it.next()?);
                let mut personas = Vec::new();
                for p in it {
                    let span = self.span(&p);
                    let mut pi = kids(p);
                    let name = self.ident(pi.next()?);
                    let cond = self.expr(pi.next()?)?;
                    personas.push(Persona { name, cond, span });
                }
                ItemKind::Personas { name, personas }
            }
            _ => return None,
        })
    }

    fn fields(&mut self, p: P<'_>) -> Vec<FieldDecl> {
        kids(p).filter_map(|f| self.field(f)).collect()
    }

    fn field(&mut self, p: P<'_>) -> Option<FieldDecl> {
        let span = self.span(&p);
        let mut it = kids(p);
        let name = self.ident(it.next()?);
        let ty_pair = it.next()?;
        let ty_inner = kids(ty_pair).next()?;
        let ty = if ty_inner.as_rule() == Rule::enum_type {
            let s = self.span(&ty_inner);
            let values = kids(ty_inner)
                .filter(|c| c.as_rule() == Rule::enum_value)
                .filter_map(|v| {
                    let v = kids(v).next()?;
                    Some(if v.as_rule() == Rule::string {
                        let lit = self.string(v);
                        Ident {
                            name: lit.value,
                            span: lit.span,
                        }
                    } else {
                        self.ident(v)
                    })
                })
                .collect();
            TypeExpr::OneOf(values, s)
        } else {
            TypeExpr::Named(self.ident(ty_inner))
        };
        let mut decl = FieldDecl {
            name,
            ty,
            optional: false,
            range: None,
            history: false,
            span,
        };
        for m in it {
            match m.as_rule() {
                Rule::optional_mark => decl.optional = true,
                Rule::history_mark => decl.history = true,
                Rule::field_range => {
                    decl.range = kids(m)
                        .find(|c| c.as_rule() == Rule::num_range)
                        .map(|r| self.num_range(r));
                }
                _ => {}
            }
        }
        Some(decl)
    }

    fn score_stmt(&mut self, p: P<'_>) -> Option<ScoreStmt> {
        Some(match p.as_rule() {
            Rule::decay_stmt => {
                let span = self.span(&p);
                let inner = kids(p).find(|c| c.as_rule() != Rule::kw_decay)?;
                let mut it = kids(inner.clone())
                    .filter(|c| !matches!(c.as_rule(), Rule::kw_half_life | Rule::kw_every));
                ScoreStmt::Decay(if inner.as_rule() == Rule::half_life {
                    Decay::HalfLife {
                        half_life: self.duration(it.next()?),
                        span,
                    }
                } else {
                    let pct = it.next()?;
                    let percent = self.number(kids(pct).next()?);
                    Decay::Step {
                        percent,
                        every: self.duration(it.next()?),
                        span,
                    }
                })
            }
            Rule::group_stmt => {
                let span = self.span(&p);
                let mut it = kids(p).filter(|c| c.as_rule() != Rule::kw_group);
                let name = self.ident(it.next()?);
                let mut cap = None;
                let mut rules = Vec::new();
                for c in it {
                    match c.as_rule() {
                        Rule::cap => cap = self.cap(c),
                        _ => rules.extend(self.score_rule(c)),
                    }
                }
                ScoreStmt::Group {
                    name,
                    cap,
                    rules,
                    span,
                }
            }
            _ => ScoreStmt::Rule(self.score_rule(p)?),
        })
    }

    fn cap(&mut self, p: P<'_>) -> Option<NumLit> {
        let n = kids(p).find(|c| c.as_rule() == Rule::number)?;
        Some(self.number(n))
    }

    fn score_rule(&mut self, p: P<'_>) -> Option<ScoreRule> {
        let span = self.span(&p);
        let mut it = kids(p);
        let pts = it.next()?;
        let pts_span = self.span(&pts);
        let mut sign = 1.0;
        let mut value = 0.0;
        let mut times_field = None;
        for c in kids(pts) {
            match c.as_rule() {
                Rule::point_sign if c.as_str() == "-" => sign = -1.0,
                Rule::number => value = self.number(c).value,
                Rule::ident => times_field = Some(self.ident(c)),
                _ => {}
            }
        }
        let points = Points {
            value: sign * value,
            times_field,
            span: pts_span,
        };
        let body = it.next()?;
        let kind = if body.as_rule() == Rule::per_rule {
            let bspan = self.span(&body);
            let mut bi = kids(body).filter(|c| c.as_rule() != Rule::kw_per);
            let source = self.source(bi.next()?);
            let mut stream = Stream {
                source,
                field: None,
                filter: None,
                window: None,
                span: bspan,
            };
            for c in bi {
                match c.as_rule() {
                    Rule::where_clause => stream.filter = Some(self.where_clause(c)?),
                    Rule::window => stream.window = Some(self.window(c)?),
                    _ => {}
                }
            }
            RuleKind::Per(stream)
        } else {
            let cond = kids(body).find(|c| c.as_rule() == Rule::expr)?;
            RuleKind::If(self.expr(cond)?)
        };
        let cap = match it.next() {
            Some(c) => self.cap(c),
            None => None,
        };
        Some(ScoreRule {
            points,
            kind,
            cap,
            span,
        })
    }

    fn source(&mut self, p: P<'_>) -> StreamSource {
        let span = self.span(&p);
        match kids(p).next() {
            Some(i) if i.as_rule() == Rule::ident => StreamSource::Named(self.ident(i)),
            _ => StreamSource::AnyEvent(span),
        }
    }

    fn where_clause(&mut self, p: P<'_>) -> Option<Expr> {
        let e = kids(p).find(|c| c.as_rule() == Rule::fexpr)?;
        self.expr(e)
    }

    fn string(&mut self, p: P<'_>) -> StrLit {
        let span = self.span(&p);
        let raw = p.as_str();
        let body = raw
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(raw);
        let mut value = String::with_capacity(body.len());
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                Some('r') => value.push('\r'),
                Some('u') => {
                    let hex: String = chars
                        .by_ref()
                        .skip_while(|c| *c == '{')
                        .take_while(|c| *c != '}')
                        .collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => value.push(ch),
                        None => self.error(
                            Code::InvalidLiteral,
                            span,
                            format!("`\\u{{{hex}}}` is not a Unicode character"),
                        ),
                    }
                }
                Some(other) => value.push(other),
                None => {}
            }
        }
        StrLit { value, span }
    }

    fn number(&mut self, p: P<'_>) -> NumLit {
        let span = self.span(&p);
        let s = p.as_str();
        let is_int = !s.contains('.');
        let value = match s.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                self.error(Code::InvalidLiteral, span, format!("`{s}` is not a number"));
                0.0
            }
        };
        if is_int && value > 9.0e15 {
            self.error(
                Code::InvalidLiteral,
                span,
                format!("`{s}` is too large for a whole number"),
            );
        }
        NumLit {
            value,
            is_int,
            span,
        }
    }

    fn signed_number(&mut self, p: P<'_>) -> NumLit {
        let span = self.span(&p);
        let neg = p.as_str().starts_with('-');
        let n = kids(p).find(|c| c.as_rule() == Rule::number);
        let mut lit = match n {
            Some(n) => self.number(n),
            None => NumLit {
                value: 0.0,
                is_int: true,
                span,
            },
        };
        if neg {
            lit.value = -lit.value;
        }
        lit.span = span;
        lit
    }

    fn int(&mut self, p: P<'_>) -> IntLit {
        let span = self.span(&p);
        let value = match p.as_str().parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                self.error(
                    Code::InvalidLiteral,
                    span,
                    format!("`{}` is too large for a whole number", p.as_str()),
                );
                0
            }
        };
        IntLit { value, span }
    }

    fn num_range(&mut self, p: P<'_>) -> NumRange {
        let span = self.span(&p);
        let mut it = kids(p).filter(|c| c.as_rule() == Rule::signed_number);
        let zero = NumLit {
            value: 0.0,
            is_int: true,
            span,
        };
        let lo = it.next().map(|n| self.signed_number(n)).unwrap_or(zero);
        let hi = it.next().map(|n| self.signed_number(n)).unwrap_or(zero);
        NumRange { lo, hi, span }
    }

    fn duration(&mut self, p: P<'_>) -> Duration {
        let span = self.span(&p);
        let inner = kids(p).next();
        let (mut amount, mut unit) = (0, DurationUnit::Day);
        if let Some(inner) = inner {
            for c in kids(inner) {
                match c.as_rule() {
                    Rule::int => amount = self.int(c).value,
                    Rule::dur_unit_short | Rule::dur_unit_long => {
                        unit = match c.as_str().trim_end_matches('s') {
                            "h" | "hour" => DurationUnit::Hour,
                            "w" | "week" => DurationUnit::Week,
                            "mo" | "month" => DurationUnit::Month,
                            "y" | "year" => DurationUnit::Year,
                            _ => DurationUnit::Day,
                        }
                    }
                    _ => {}
                }
            }
        }
        if amount > 100_000 {
            self.error(
                Code::InvalidLiteral,
                span,
                format!("a duration of {amount} units is longer than any window Funnel accepts"),
            );
        }
        Duration { amount, unit, span }
    }

    fn date(&mut self, p: P<'_>) -> Option<NaiveDate> {
        let span = self.span(&p);
        match NaiveDate::parse_from_str(p.as_str(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(
                    Code::InvalidLiteral,
                    span,
                    format!("`{}` is not a calendar date", p.as_str()),
                );
                None
            }
        }
    }

    fn timestamp(&mut self, p: P<'_>) -> Option<DateTime<Utc>> {
        let span = self.span(&p);
        let s = p.as_str();
        // `2026-01-31T09:30Z`: RFC 3339 needs seconds, so supply them
        let full = match s.get(16..17) {
            Some(":") | Some(".") => s.to_string(),
            _ => format!(
                "{}:00{}",
                s.get(..16).unwrap_or(s),
                s.get(16..).unwrap_or("")
            ),
        };
        let parsed = DateTime::parse_from_rfc3339(&full)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(&full, f).ok())
                    .map(|n| Utc.from_utc_datetime(&n))
            });
        if parsed.is_none() {
            self.error(
                Code::InvalidLiteral,
                span,
                format!("`{s}` is not a valid timestamp"),
            );
        }
        parsed
    }

    fn time_point(&mut self, p: P<'_>) -> Option<TimePoint> {
        let span = self.span(&p);
        let inner = kids(p).next()?;
        Some(match inner.as_rule() {
            Rule::kw_now => TimePoint::Now(span),
            Rule::ago => {
                let d = kids(inner).find(|c| c.as_rule() == Rule::duration)?;
                TimePoint::Ago(self.duration(d), span)
            }
            Rule::date => TimePoint::Date(self.date(inner)?, span),
            _ => TimePoint::Timestamp(self.timestamp(inner)?, span),
        })
    }

    fn window(&mut self, p: P<'_>) -> Option<Window> {
        let span = self.span(&p);
        let inner = kids(p).next()?;
        let rule = inner.as_rule();
        let mut it =
            kids(inner).filter(|c| matches!(c.as_rule(), Rule::duration | Rule::time_point));
        Some(match rule {
            Rule::within => Window::Within(self.duration(it.next()?), span),
            Rule::between => {
                let a = self.time_point(it.next()?)?;
                let b = self.time_point(it.next()?)?;
                Window::Between(a, b, span)
            }
            Rule::since => Window::Since(self.time_point(it.next()?)?, span),
            Rule::before => Window::Before(self.time_point(it.next()?)?, span),
            _ => Window::Ever(span),
        })
    }

    fn literal(&mut self, p: P<'_>) -> Option<Literal> {
        let inner = kids(p).next()?;
        Some(match inner.as_rule() {
            Rule::timestamp => Literal::Timestamp(self.timestamp(inner)?),
            Rule::date => Literal::Date(self.date(inner)?),
            Rule::duration => Literal::Duration(self.duration(inner)),
            Rule::bool_lit => Literal::Bool(inner.as_str() == "true"),
            Rule::string => Literal::Text(self.string(inner).value),
            _ => {
                let n = self.number(inner);
                if n.is_int {
                    Literal::Int(n.value as i64)
                } else {
                    Literal::Number(n.value)
                }
            }
        })
    }

    /// A value in a list or a history test: literal, signed number or bare name.
    fn value_atom(&mut self, p: P<'_>) -> Option<Expr> {
        let span = self.span(&p);
        let inner = kids(p).next()?;
        let kind = match inner.as_rule() {
            Rule::literal => ExprKind::Lit(self.literal(inner)?),
            Rule::signed_number => {
                let n = self.signed_number(inner);
                ExprKind::Lit(if n.is_int {
                    Literal::Int(n.value as i64)
                } else {
                    Literal::Number(n.value)
                })
            }
            _ => ExprKind::Name(self.ident(inner)),
        };
        Some(Expr { kind, span })
    }

    /// An `expr` or `fexpr` pair, through the Pratt parser.
    fn expr(&mut self, p: P<'_>) -> Option<Expr> {
        let whole = self.span(&p);
        let pairs = p.into_inner();
        // Counted before the tree is built: a long `+` chain builds a tree as deep as
        // it is long, too deep to walk or even to drop. `and` / `or` chains are flat,
        // so what nests is the operators between two of them.
        let (mut nesting, mut run, mut width) = (0usize, 0usize, 1usize);
        for r in pairs.clone().map(|c| c.as_rule()) {
            match r {
                Rule::op_and | Rule::op_or => {
                    width += 1;
                    run = 0;
                }
                Rule::op_add
                | Rule::op_sub
                | Rule::op_mul
                | Rule::op_div
                | Rule::op_eq
                | Rule::op_ne
                | Rule::op_lt
                | Rule::op_le
                | Rule::op_gt
                | Rule::op_ge => {
                    width += 1;
                    run += 1;
                }
                Rule::op_not
                | Rule::op_neg
                | Rule::op_in_list
                | Rule::op_not_in
                | Rule::op_in_range
                | Rule::op_contains
                | Rule::op_starts_with
                | Rule::op_ends_with
                | Rule::op_matches
                | Rule::op_is_missing
                | Rule::op_is_present => run += 1,
                _ => {}
            }
            nesting = nesting.max(run);
        }
        for (limit, n) in [
            (crate::limits::EXPR_OPERATORS, nesting),
            (crate::limits::EXPR_WIDTH, width),
        ] {
            if n > limit.get() {
                self.error(
                    Code::TooDeep,
                    whole,
                    format!("expression with more than {}", limit.describe()),
                );
                return None;
            }
        }
        let file = self.file;
        let base = self.base;
        let this = std::cell::RefCell::new(self);
        let result = PRATT
            .map_primary(|prim| this.borrow_mut().primary(prim))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let s = op.as_span();
                let span = Span::new(file, base + s.start(), base + s.end()).to(rhs.span);
                let kind = if op.as_rule() == Rule::op_not {
                    ExprKind::Not(Box::new(rhs))
                } else {
                    ExprKind::Neg(Box::new(rhs))
                };
                Some(Expr { kind, span })
            })
            .map_postfix(|lhs, op| {
                let lhs = lhs?;
                this.borrow_mut().postfix(lhs, op)
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let s = op.as_span();
                let op_span = Span::new(file, base + s.start(), base + s.end());
                let span = lhs.span.to(rhs.span);
                let kind = match op.as_rule() {
                    Rule::op_and => ExprKind::And(flatten(lhs, rhs, true)),
                    Rule::op_or => ExprKind::Or(flatten(lhs, rhs, false)),
                    r => ExprKind::Binary {
                        op: match r {
                            Rule::op_eq => BinOp::Eq,
                            Rule::op_ne => BinOp::Ne,
                            Rule::op_lt => BinOp::Lt,
                            Rule::op_le => BinOp::Le,
                            Rule::op_gt => BinOp::Gt,
                            Rule::op_ge => BinOp::Ge,
                            Rule::op_add => BinOp::Add,
                            Rule::op_sub => BinOp::Sub,
                            Rule::op_mul => BinOp::Mul,
                            _ => BinOp::Div,
                        },
                        op_span,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                };
                Some(Expr { kind, span })
            })
            .parse(pairs.filter(|c| c.as_rule() != Rule::COMMENT));
        let this = this.into_inner();
        if let Some(e) = &result {
            let depth = depth(e);
            if depth > MAX_EXPR_DEPTH {
                this.error(
                    Code::TooDeep,
                    e.span,
                    format!("expression nested {depth} levels deep, more than the limit of {MAX_EXPR_DEPTH}"),
                );
                return None;
            }
        }
        result
    }

    fn postfix(&mut self, lhs: Expr, op: P<'_>) -> Option<Expr> {
        let op_span = self.span(&op);
        let span = lhs.span.to(op_span);
        let rule = op.as_rule();
        let lhs = Box::new(lhs);
        let kind = match rule {
            Rule::op_in_list | Rule::op_not_in => {
                let list = kids(op).find(|c| c.as_rule() == Rule::value_list)?;
                let items = kids(list).filter_map(|v| self.value_atom(v)).collect();
                ExprKind::InList {
                    expr: lhs,
                    negated: rule == Rule::op_not_in,
                    items,
                }
            }
            Rule::op_in_range => {
                let r = kids(op).find(|c| c.as_rule() == Rule::num_range)?;
                ExprKind::InRange {
                    expr: lhs,
                    range: self.num_range(r),
                }
            }
            Rule::op_contains | Rule::op_starts_with | Rule::op_ends_with => {
                let pats = kids(op).find(|c| c.as_rule() == Rule::text_patterns)?;
                let patterns = kids(pats).map(|s| self.string(s)).collect();
                ExprKind::Text {
                    expr: lhs,
                    op: match rule {
                        Rule::op_contains => TextOp::Contains,
                        Rule::op_starts_with => TextOp::StartsWith,
                        _ => TextOp::EndsWith,
                    },
                    patterns,
                }
            }
            Rule::op_matches => {
                let re = kids(op).find(|c| c.as_rule() == Rule::regex)?;
                let regex_span = self.span(&re);
                let mut pattern = String::new();
                let mut flags = String::new();
                for c in kids(re) {
                    match c.as_rule() {
                        Rule::regex_body => pattern = c.as_str().replace("\\/", "/"),
                        Rule::regex_flags => flags = c.as_str().to_string(),
                        _ => {}
                    }
                }
                ExprKind::Matches {
                    expr: lhs,
                    pattern,
                    flags,
                    regex_span,
                }
            }
            Rule::op_is_missing => ExprKind::IsMissing {
                expr: lhs,
                negated: false,
            },
            _ => ExprKind::IsMissing {
                expr: lhs,
                negated: true,
            },
        };
        Some(Expr { kind, span })
    }

    fn primary(&mut self, p: P<'_>) -> Option<Expr> {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::paren | Rule::fparen => ExprKind::Paren(Box::new(self.expr(kids(p).next()?)?)),
            Rule::literal => ExprKind::Lit(self.literal(p)?),
            Rule::ident => ExprKind::Name(self.ident(p)),
            Rule::no_stream => {
                let n = kids(p).find(|c| c.as_rule() == Rule::name_ref)?;
                let test = self.stream_test(n)?;
                ExprKind::No(Box::new(test))
            }
            Rule::name_ref => {
                let test = self.stream_test(p)?;
                let plain = test.filter.is_none()
                    && test.history.is_none()
                    && test.window.is_none()
                    && test.freq.is_none()
                    && test.regular.is_none()
                    && test.extra.is_empty();
                match (plain, test.source, test.field) {
                    (true, StreamSource::Named(base), None) => ExprKind::Name(base),
                    (true, StreamSource::Named(base), Some(member)) => ExprKind::Path(base, member),
                    (_, source, field) => ExprKind::Stream(Box::new(StreamTest {
                        source,
                        field,
                        ..test
                    })),
                }
            }
            Rule::as_of => {
                let mut it = kids(p);
                let base = self.ident(it.next()?);
                let mut member = None;
                let mut at = None;
                for c in it {
                    match c.as_rule() {
                        Rule::ident => member = Some(self.ident(c)),
                        Rule::time_point => at = self.time_point(c),
                        _ => {}
                    }
                }
                ExprKind::AsOf {
                    base,
                    member,
                    at: at?,
                }
            }
            Rule::func_call => {
                let e = kids(p).find(|c| c.as_rule() == Rule::expr)?;
                ExprKind::TimeSince(Box::new(self.expr(e)?))
            }
            Rule::agg_call => {
                let mut it = kids(p);
                let name = it.next()?;
                let func_span = self.span(&name);
                let func = match name.as_str() {
                    "count" => AggFunc::Count,
                    "count_distinct" => AggFunc::CountDistinct,
                    "sum" => AggFunc::Sum,
                    "min" => AggFunc::Min,
                    "max" => AggFunc::Max,
                    "avg" => AggFunc::Avg,
                    "first" => AggFunc::First,
                    "last" => AggFunc::Last,
                    "most_frequent" => AggFunc::MostFrequent,
                    "first_time" => AggFunc::FirstTime,
                    _ => AggFunc::LastTime,
                };
                let arg = it.next()?;
                let arg_span = self.span(&arg);
                let mut ai = kids(arg).peekable();
                let arg = if ai.peek().map(|c| c.as_rule()) == Some(Rule::expr) {
                    AggArg::Expr(Box::new(self.expr(ai.next()?)?))
                } else {
                    let mut stream = Stream {
                        source: StreamSource::AnyEvent(arg_span),
                        field: None,
                        filter: None,
                        window: None,
                        span: arg_span,
                    };
                    for c in ai {
                        match c.as_rule() {
                            Rule::name_head => stream.source = self.source(c),
                            Rule::ident => stream.field = Some(self.ident(c)),
                            Rule::where_clause => stream.filter = Some(self.where_clause(c)?),
                            Rule::window => stream.window = Some(self.window(c)?),
                            _ => {}
                        }
                    }
                    AggArg::Stream(Box::new(stream))
                };
                ExprKind::Agg {
                    func,
                    func_span,
                    arg,
                }
            }
            _ => return None,
        };
        Some(Expr { kind, span })
    }

    fn stream_test(&mut self, p: P<'_>) -> Option<StreamTest> {
        let span = self.span(&p);
        let mut it = kids(p);
        let source = self.source(it.next()?);
        let mut t = StreamTest {
            source,
            field: None,
            filter: None,
            history: None,
            window: None,
            freq: None,
            regular: None,
            extra: Vec::new(),
            span,
        };
        for c in it {
            let cspan = self.span(&c);
            match c.as_rule() {
                Rule::ident => t.field = Some(self.ident(c)),
                Rule::where_clause => t.filter = Some(self.where_clause(c)?),
                Rule::history_test => t.history = Some(self.history_test(c)?),
                Rule::window => {
                    let w = self.window(c)?;
                    if t.window.is_some() {
                        t.extra.push(cspan);
                    } else {
                        t.window = Some(w);
                    }
                }
                Rule::freq => {
                    let f = self.freq(c)?;
                    if t.freq.is_some() {
                        t.extra.push(cspan);
                    } else {
                        t.freq = Some(f);
                    }
                }
                Rule::regular => {
                    let r = self.regular(c)?;
                    if t.regular.is_some() {
                        t.extra.push(cspan);
                    } else {
                        t.regular = Some(r);
                    }
                }
                _ => {}
            }
        }
        Some(t)
    }

    fn history_test(&mut self, p: P<'_>) -> Option<HistoryTest> {
        let span = self.span(&p);
        let inner = kids(p).next()?;
        if inner.as_rule() == Rule::was_test {
            let v = kids(inner).find(|c| c.as_rule() == Rule::value_atom)?;
            return Some(HistoryTest::Was(Box::new(self.value_atom(v)?), span));
        }
        let mut from = None;
        let mut to = None;
        let mut target_to = false;
        for c in kids(inner) {
            match c.as_rule() {
                Rule::kw_from => target_to = false,
                Rule::kw_to => target_to = true,
                Rule::value_atom => {
                    let v = Some(Box::new(self.value_atom(c)?));
                    if target_to {
                        to = v;
                    } else {
                        from = v;
                    }
                }
                _ => {}
            }
        }
        Some(HistoryTest::Changed { from, to, span })
    }

    fn freq(&mut self, p: P<'_>) -> Option<Freq> {
        let span = self.span(&p);
        let mut kind = FreqKind::AtLeast;
        let mut n = None;
        for c in kids(p) {
            match c.as_rule() {
                Rule::at_least => kind = FreqKind::AtLeast,
                Rule::at_most => kind = FreqKind::AtMost,
                Rule::exactly => kind = FreqKind::Exactly,
                Rule::int => n = Some(self.int(c)),
                _ => {}
            }
        }
        Some(Freq { kind, n: n?, span })
    }

    fn regular(&mut self, p: P<'_>) -> Option<Regular> {
        let span = self.span(&p);
        let mut ints = Vec::new();
        let mut unit = DurationUnit::Week;
        for c in kids(p) {
            match c.as_rule() {
                Rule::int => ints.push(self.int(c)),
                Rule::period_unit => {
                    unit = match c.as_str().trim_end_matches('s') {
                        "day" => DurationUnit::Day,
                        "month" => DurationUnit::Month,
                        _ => DurationUnit::Week,
                    }
                }
                _ => {}
            }
        }
        let mut ints = ints.into_iter();
        Some(Regular {
            at_least: ints.next()?,
            of_last: ints.next()?,
            unit,
            span,
        })
    }
}

fn is_item_keyword(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_use
            | Rule::kw_account
            | Rule::kw_signal
            | Rule::kw_segment
            | Rule::kw_score
            | Rule::kw_value
            | Rule::kw_tiers
            | Rule::kw_personas
    ) || matches!(r, Rule::kw_contact)
}

/// Joins two operands of `and` (or `or`) into one flat list.
/// Extends the left operand's list in place, so that a chain of `n` terms takes time
/// linear in `n`.
fn flatten(lhs: Expr, rhs: Expr, and: bool) -> Vec<Expr> {
    let mut out = match lhs.kind {
        ExprKind::And(v) if and => v,
        ExprKind::Or(v) if !and => v,
        kind => vec![Expr {
            kind,
            span: lhs.span,
        }],
    };
    match rhs.kind {
        ExprKind::And(v) if and => out.extend(v),
        ExprKind::Or(v) if !and => out.extend(v),
        kind => out.push(Expr {
            kind,
            span: rhs.span,
        }),
    }
    out
}

/// The depth of an expression tree.
pub fn depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        super::visit::children(e, |c| stack.push((c, d + 1)));
    }
    max
}
