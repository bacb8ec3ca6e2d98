//! `funnel fmt`: prints a syntax tree in the one canonical layout, from the tree and
//! the source text only. Two-space indentation, one space around operators, score
//! points right-aligned, conditions broken before `and` / `or` when a line would pass
//! 100 columns, contact and account fields one per line, nothing reordered, at most
//! one blank line kept between items, and every comment kept where it was: own-line
//! comments before the item, statement or operand they precede, trailing comments at
//! the end of their line.
//! See `docs/formatting.md`.

use super::ast::*;
use super::doc::{Doc, layout, layout_flat};
use super::parser::parse_file;
use super::span::{FileId, Span};
use crate::diag::Diagnostic;

/// Why a source could not be formatted.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatError {
    /// The source has syntax errors (it is left as it is).
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not parse to the same program with the same comments:
    /// a bug in the formatter, caught before anything is written.
    Unstable,
}

/// Formats the source text of one file (parsed as `file`, the id its diagnostics carry).
pub fn format_source(file: FileId, text: &str) -> Result<String, FormatError> {
    let (tree, diags) = parse_file(file, text);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(FormatError::Syntax(diags));
    }
    let out = format_file(&tree, text);
    let (again, diags) = parse_file(file, &out);
    if diags.iter().any(Diagnostic::is_error) || !same_tree(&tree, &again) {
        return Err(FormatError::Unstable);
    }
    Ok(out)
}

/// Prints a parsed file (whose spans point into `text`) in the canonical layout.
pub fn format_file(file: &File, text: &str) -> String {
    let mut f = Formatter::new(text, &file.comments);
    let doc = f.items(&file.items, text.len());
    layout(&doc)
}

/// A score rule (whose spans point into `text`) on one line in the canonical layout:
/// the same text whatever the layout of its source, so that formatting a file does not
/// change its rules' labels (which plans, `explain` and `diff` show).
pub fn rule_line(rule: &ScoreRule, text: &str) -> String {
    let mut f = Formatter::new(text, &[]);
    layout_flat(&f.rule(rule, 0))
}

/// Whether two trees are the same program with the same comments, spans aside.
fn same_tree(a: &File, b: &File) -> bool {
    let texts = |f: &File| -> Vec<String> {
        f.comments
            .iter()
            .map(|c| c.text.trim_end().to_string())
            .collect()
    };
    texts(a) == texts(b) && without_spans(&a.items) == without_spans(&b.items)
}

/// The items' debug text with every span blanked out.
fn without_spans(items: &[Item]) -> String {
    static SPAN: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"Span \{ file: FileId\(\d+\), start: \d+, end: \d+ \}").ok()
    });
    let debug = format!("{items:?}");
    match SPAN.as_ref() {
        Some(re) => re.replace_all(&debug, "_").into_owned(),
        None => debug,
    }
}

/// Where a comment sits in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Alone on its line.
    OwnLine,
    /// After code on its line; the code (without a trailing `,` or `;`) ends here.
    Trailing(usize),
}

struct Formatter<'a> {
    src: &'a str,
    comments: &'a [Comment],
    /// The trailing comments by the offset where their line's code ends.
    trailing_at: std::collections::HashMap<usize, Vec<usize>>,
    used: Vec<bool>,
    /// Every comment before this index has been printed.
    first_unused: usize,
}

impl<'a> Formatter<'a> {
    fn new(src: &'a str, comments: &'a [Comment]) -> Formatter<'a> {
        let bytes = src.as_bytes();
        let places: Vec<Place> = comments
            .iter()
            .map(|c| {
                let mut e = c.span.start as usize;
                while e > 0 && matches!(bytes.get(e - 1), Some(b' ' | b'\t')) {
                    e -= 1;
                }
                if e == 0 || matches!(bytes.get(e - 1), Some(b'\n' | b'\r')) {
                    return Place::OwnLine;
                }
                while e > 0 && matches!(bytes.get(e - 1), Some(b' ' | b'\t' | b',' | b';')) {
                    e -= 1;
                }
                Place::Trailing(e)
            })
            .collect();
        let mut trailing_at: std::collections::HashMap<usize, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, p) in places.iter().enumerate() {
            if let Place::Trailing(end) = p {
                trailing_at.entry(*end).or_default().push(i);
            }
        }
        Formatter {
            src,
            comments,
            trailing_at,
            used: vec![false; comments.len()],
            first_unused: 0,
        }
    }

    fn raw(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// Source text with runs of whitespace made single spaces (`30  days` → `30 days`).
    fn collapsed(&self, span: Span) -> String {
        self.raw(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn comment_text(&self, i: usize) -> String {
        let text = self.comments.get(i).map_or("", |c| c.text.trim_end());
        format!("#{text}")
    }

    // ------------------------------------------------------------ comments

    /// Takes the comments not yet printed that start before `pos`.
    fn take_before(&mut self, pos: usize) -> Vec<usize> {
        let mut out = Vec::new();
        while self.used.get(self.first_unused) == Some(&true) {
            self.first_unused += 1;
        }
        let from = self.first_unused;
        for (i, c) in self.comments.iter().enumerate().skip(from) {
            if (c.span.start as usize) >= pos {
                break;
            }
            if let Some(u) = self.used.get_mut(i)
                && !*u
            {
                *u = true;
                out.push(i);
            }
        }
        out
    }

    /// Comments before `pos` as own-line comments, each on a line of its own.
    fn leading(&mut self, pos: usize) -> Doc {
        let taken = self.take_before(pos);
        Doc::Concat(
            taken
                .into_iter()
                .map(|i| Doc::Concat(vec![Doc::Fresh, Doc::text(self.comment_text(i)), Doc::Hard]))
                .collect(),
        )
    }

    /// The trailing comments of code ending at `end`, as line suffixes.
    fn trailing(&mut self, end: usize) -> Doc {
        let mut out = Vec::new();
        let at = self.trailing_at.get(&end).cloned().unwrap_or_default();
        for i in at {
            if let Some(u) = self.used.get_mut(i)
                && !*u
            {
                *u = true;
                out.push(Doc::Suffix(self.comment_text(i)));
                out.push(Doc::Break);
            }
        }
        Doc::Concat(out)
    }

    /// `d` followed by the trailing comments of code ending at `end`.
    fn with_trailing(&mut self, d: Doc, end: usize) -> Doc {
        let t = self.trailing(end);
        Doc::Concat(vec![d, t])
    }

    /// Whether the source between `a` and `b` holds an empty line.
    fn blank_between(&self, a: usize, b: usize) -> bool {
        let gap = self.src.get(a..b).unwrap_or("");
        let parts: Vec<&str> = gap.split('\n').collect();
        parts.len() >= 3
            && parts
                .get(1..parts.len() - 1)
                .unwrap_or_default()
                .iter()
                .any(|p| p.trim().is_empty())
    }

    /// The offset of the first `ch` at or after `from`, skipping comments.
    fn find(&self, from: usize, ch: u8) -> usize {
        let bytes = self.src.as_bytes();
        let mut i = from;
        while let Some(&b) = bytes.get(i) {
            if b == ch {
                return i;
            }
            if b == b'#' {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
                continue;
            }
            i += 1;
        }
        from
    }

    /// Statement-level elements one per line, each after its own-line comments, with
    /// the blank lines between them (at most one) kept, then the comments left before
    /// `end`. `from` is where the list's text starts.
    fn lines<T>(
        &mut self,
        elems: &[T],
        span: impl Fn(&T) -> Span,
        mut print: impl FnMut(&mut Self, &T) -> Doc,
        from: usize,
        end: usize,
    ) -> Doc {
        let mut out = Vec::new();
        let mut prev = from;
        let mut first = true;
        let mut sep = |out: &mut Vec<Doc>, blank: bool| {
            if !first {
                out.push(Doc::Hard);
                if blank {
                    out.push(Doc::Hard);
                }
            }
            first = false;
        };
        for e in elems {
            let s = span(e);
            for i in self.take_before(s.start as usize) {
                let Some(c) = self.comments.get(i) else {
                    continue;
                };
                sep(&mut out, self.blank_between(prev, c.span.start as usize));
                out.push(Doc::text(self.comment_text(i)));
                prev = c.span.end as usize;
            }
            sep(&mut out, self.blank_between(prev, s.start as usize));
            let d = print(self, e);
            out.push(self.with_trailing(d, s.end as usize));
            prev = s.end as usize;
        }
        for i in self.take_before(end) {
            let Some(c) = self.comments.get(i) else {
                continue;
            };
            sep(&mut out, self.blank_between(prev, c.span.start as usize));
            out.push(Doc::text(self.comment_text(i)));
            prev = c.span.end as usize;
        }
        Doc::Concat(out)
    }

    /// A `{ … }` block of statement-level elements; `open` is the offset of `{` and
    /// `close` of `}`.
    fn block<T>(
        &mut self,
        elems: &[T],
        span: impl Fn(&T) -> Span,
        print: impl FnMut(&mut Self, &T) -> Doc,
        open: usize,
        close: usize,
    ) -> Doc {
        let after_brace = self.trailing(open + 1);
        let body = self.lines(elems, span, print, open + 1, close);
        if matches!(&body, Doc::Concat(v) if v.is_empty())
            && matches!(&after_brace, Doc::Concat(v) if v.is_empty())
        {
            return Doc::text(" {}");
        }
        Doc::Concat(vec![
            Doc::text(" {"),
            after_brace,
            Doc::indent(Doc::Concat(vec![Doc::Hard, body])),
            Doc::Hard,
            Doc::text("}"),
        ])
    }

    // ------------------------------------------------------------ items

    fn items(&mut self, items: &[Item], end: usize) -> Doc {
        let body = self.lines(items, |i| i.span, Self::item, 0, end);
        if matches!(&body, Doc::Concat(v) if v.is_empty()) {
            return Doc::Nil;
        }
        Doc::Concat(vec![body, Doc::Hard])
    }

    fn item(&mut self, item: &Item) -> Doc {
        let start = item.span.start as usize;
        let close = (item.span.end as usize).saturating_sub(1);
        match &item.kind {
            ItemKind::Use(s) => Doc::Concat(vec![Doc::text("use "), self.leaf(s.span)]),
            ItemKind::Contact(fields) | ItemKind::Account(fields) => {
                let kw = if matches!(item.kind, ItemKind::Contact(_)) {
                    "contact"
                } else {
                    "account"
                };
                let open = self.find(start, b'{');
                let b = self.block(fields, |f| f.span, Self::field, open, close);
                Doc::Concat(vec![Doc::text(kw), b])
            }
            ItemKind::Event { name, fields } => {
                let head = Doc::Concat(vec![Doc::text("event "), self.ident(name)]);
                if !self.raw(item.span).ends_with('}') {
                    return head;
                }
                let open = self.find(name.span.end as usize, b'{');
                let b = self.inline_block(fields, |f| f.span, Self::field, open, close);
                Doc::Concat(vec![head, Doc::text(" "), b])
            }
            ItemKind::Signal {
                name,
                source,
                filter,
            } => {
                let head = Doc::Concat(vec![Doc::text("signal "), self.ident(name)]);
                let eq = self.find(name.span.end as usize, b'=');
                let mut body = vec![self.source(source)];
                if let Some(f) = filter {
                    body.push(Doc::text(" where "));
                    body.push(self.expr(f));
                }
                self.assign(head, eq, Doc::Concat(body))
            }
            ItemKind::Segment { scope, name, body } => {
                let head = Doc::Concat(vec![
                    Doc::text(format!("{}segment ", prefix(*scope))),
                    self.ident(name),
                ]);
                let eq = self.find(name.span.end as usize, b'=');
                let body = match body {
                    SegmentBody::Expr(e) => self.body(e),
                    SegmentBody::Top { n, by, .. } => {
                        let lead = self.leading(n.span.start as usize);
                        Doc::Concat(vec![
                            lead,
                            Doc::text(format!("top {} by ", self.raw(n.span))),
                            self.expr(by),
                        ])
                    }
                };
                self.assign(head, eq, body)
            }
            ItemKind::Value { scope, name, expr } => {
                let head = Doc::Concat(vec![
                    Doc::text(format!("{}value ", prefix(*scope))),
                    self.ident(name),
                ]);
                let eq = self.find(name.span.end as usize, b'=');
                let body = self.body(expr);
                self.assign(head, eq, body)
            }
            ItemKind::Score {
                scope,
                name,
                range,
                body,
            } => {
                let mut head = vec![
                    Doc::text(format!("{}score ", prefix(*scope))),
                    self.ident(name),
                ];
                let mut after = name.span.end as usize;
                if let Some(r) = range {
                    head.push(Doc::text(" in "));
                    head.push(self.range(r));
                    after = r.span.end as usize;
                }
                let head = Doc::Concat(head);
                match body {
                    ScoreBody::Expr(e) => {
                        let eq = self.find(after, b'=');
                        let body = self.body(e);
                        self.assign(head, eq, body)
                    }
                    ScoreBody::Rules(stmts) => {
                        let open = self.find(after, b'{');
                        let width = self.points_width(stmts.iter().filter_map(|s| match s {
                            ScoreStmt::Rule(r) => Some(r),
                            _ => None,
                        }));
                        let b = self.block(
                            stmts,
                            stmt_span,
                            |f, s| f.score_stmt(s, width),
                            open,
                            close,
                        );
                        Doc::Concat(vec![head, b])
                    }
                }
            }
            ItemKind::Tiers { name, score, bands } => {
                let head = Doc::Concat(vec![
                    Doc::text("tiers "),
                    self.ident(name),
                    Doc::text(" of "),
                    self.ident(score),
                ]);
                let open = self.find(score.span.end as usize, b'{');
                let bands = self.inline_block(bands, |b| b.span, Self::band, open, close);
                Doc::Concat(vec![head, Doc::text(" "), bands])
            }
            ItemKind::Personas { name, personas } => {
                let head = Doc::Concat(vec![Doc::text("personas "), self.ident(name)]);
                let open = self.find(name.span.end as usize, b'{');
                let b = self.block(personas, |p| p.span, Self::persona, open, close);
                Doc::Concat(vec![head, b])
            }
        }
    }

    /// `head = body`: on one line when it fits, else the body on the next line,
    /// indented. `eq` is the offset of the `=`.
    fn assign(&mut self, head: Doc, eq: usize, body: Doc) -> Doc {
        let after_eq = self.trailing(eq + 1);
        Doc::group(Doc::Concat(vec![
            head,
            Doc::text(" ="),
            after_eq,
            Doc::indent(Doc::Concat(vec![Doc::Line, body])),
        ]))
    }

    fn field(&mut self, f: &FieldDecl) -> Doc {
        let mut out = vec![self.ident(&f.name), Doc::text(": ")];
        match &f.ty {
            TypeExpr::Named(t) => out.push(self.ident(t)),
            TypeExpr::OneOf(values, _) => {
                let items = values
                    .iter()
                    .map(|v| {
                        let d = self.ident(v);
                        self.with_trailing(d, v.span.end as usize)
                    })
                    .collect();
                out.push(Doc::text("one of "));
                out.push(list(items));
            }
        }
        if f.optional {
            out.push(Doc::text("?"));
        }
        if let Some(r) = &f.range {
            out.push(Doc::text(" in "));
            out.push(self.range(r));
        }
        if f.history {
            out.push(Doc::text(" with history"));
        }
        Doc::Concat(out)
    }

    fn persona(&mut self, p: &Persona) -> Doc {
        let head = self.ident(&p.name);
        let eq = self.find(p.name.span.end as usize, b'=');
        let body = self.body(&p.cond);
        self.assign(head, eq, body)
    }

    /// `{ a, b, c }` on one line when it fits and holds no comment, else one element
    /// per line: tier bands and the fields of an event.
    fn inline_block<T>(
        &mut self,
        elems: &[T],
        span: impl Fn(&T) -> Span,
        mut print: impl FnMut(&mut Self, &T) -> Doc,
        open: usize,
        close: usize,
    ) -> Doc {
        let after_brace = self.trailing(open + 1);
        let mut inner = Vec::new();
        for (k, e) in elems.iter().enumerate() {
            if k > 0 {
                inner.push(Doc::IfFlat(",".into()));
            }
            inner.push(Doc::Line);
            let s = span(e);
            inner.push(self.leading(s.start as usize));
            let d = print(self, e);
            inner.push(self.with_trailing(d, s.end as usize));
        }
        for i in self.take_before(close) {
            inner.push(Doc::Hard);
            inner.push(Doc::text(self.comment_text(i)));
        }
        if inner.is_empty() && matches!(&after_brace, Doc::Concat(v) if v.is_empty()) {
            return Doc::text("{}");
        }
        Doc::group(Doc::Concat(vec![
            Doc::text("{"),
            after_brace,
            Doc::indent(Doc::Concat(inner)),
            Doc::Line,
            Doc::text("}"),
        ]))
    }

    fn band(&mut self, b: &Band) -> Doc {
        Doc::Concat(vec![
            self.ident(&b.name),
            Doc::text(" "),
            self.range(&b.range),
        ])
    }

    // ------------------------------------------------------------ scores

    /// The width of the points column of a list of rules.
    fn points_width<'r>(&self, rules: impl Iterator<Item = &'r ScoreRule>) -> usize {
        rules
            .map(|r| points_text(self.raw(r.points.span)).len())
            .max()
            .unwrap_or(0)
    }

    fn score_stmt(&mut self, s: &ScoreStmt, width: usize) -> Doc {
        match s {
            ScoreStmt::Decay(Decay::HalfLife { half_life, .. }) => {
                Doc::text(format!("decay half_life {}", self.duration(half_life)))
            }
            ScoreStmt::Decay(Decay::Step { percent, every, .. }) => Doc::text(format!(
                "decay {}% every {}",
                self.raw(percent.span),
                self.duration(every)
            )),
            ScoreStmt::Group {
                name,
                cap,
                rules,
                span,
            } => {
                let mut head = vec![Doc::text("group "), self.ident(name)];
                let mut after = name.span.end as usize;
                if let Some(c) = cap {
                    head.push(Doc::text(format!(" at most {}", self.raw(c.span))));
                    after = c.span.end as usize;
                }
                let open = self.find(after, b'{');
                let width = self.points_width(rules.iter());
                let close = (span.end as usize).saturating_sub(1);
                let b = self.block(rules, |r| r.span, |f, r| f.rule(r, width), open, close);
                head.push(b);
                Doc::Concat(head)
            }
            ScoreStmt::Rule(r) => self.rule(r, width),
        }
    }

    fn rule(&mut self, r: &ScoreRule, width: usize) -> Doc {
        let pts = points_text(self.raw(r.points.span));
        let mut out = vec![Doc::text(format!("{pts:>width$}"))];
        if let Some(f) = &r.points.times_field {
            out.push(Doc::text(" * "));
            out.push(self.ident(f));
        }
        match &r.kind {
            RuleKind::Per(s) => {
                out.push(Doc::text(" per "));
                out.push(self.stream(s));
            }
            RuleKind::If(e) => {
                out.push(Doc::text(" if "));
                out.push(self.expr(e));
            }
        }
        if let Some(c) = &r.cap {
            out.push(Doc::text(format!(", at most {}", self.raw(c.span))));
        }
        Doc::Concat(out)
    }

    // ------------------------------------------------------------ expressions

    /// A leaf token printed as written, after the comments before it.
    fn leaf(&mut self, span: Span) -> Doc {
        let lead = self.leading(span.start as usize);
        Doc::Concat(vec![lead, Doc::text(self.raw(span))])
    }

    fn ident(&mut self, id: &Ident) -> Doc {
        self.leaf(id.span)
    }

    fn source(&mut self, s: &StreamSource) -> Doc {
        match s {
            StreamSource::AnyEvent(span) => {
                let lead = self.leading(span.start as usize);
                Doc::Concat(vec![lead, Doc::text("event")])
            }
            StreamSource::Named(i) => self.ident(i),
        }
    }

    fn range(&mut self, r: &NumRange) -> Doc {
        let lead = self.leading(r.span.start as usize);
        Doc::Concat(vec![
            lead,
            Doc::text(format!("{}..{}", self.raw(r.lo.span), self.raw(r.hi.span))),
        ])
    }

    fn duration(&self, d: &Duration) -> String {
        self.collapsed(d.span)
    }

    fn time_point(&self, t: &TimePoint) -> String {
        match t {
            TimePoint::Now(_) => "now".into(),
            TimePoint::Ago(d, _) => format!("{} ago", self.duration(d)),
            TimePoint::Date(_, s) | TimePoint::Timestamp(_, s) => self.raw(*s).to_string(),
        }
    }

    fn window(&self, w: &Window) -> String {
        match w {
            Window::Within(d, _) => format!("within {}", self.duration(d)),
            Window::Between(a, b, _) => {
                format!("between {} and {}", self.time_point(a), self.time_point(b))
            }
            Window::Since(a, _) => format!("since {}", self.time_point(a)),
            Window::Before(a, _) => format!("before {}", self.time_point(a)),
            Window::Ever(_) => "ever".into(),
        }
    }

    /// A stream of a score rule or an aggregate: source, field, filter, window.
    fn stream(&mut self, s: &Stream) -> Doc {
        let mut out = vec![self.source(&s.source)];
        if let Some(f) = &s.field {
            out.push(Doc::text("."));
            out.push(self.ident(f));
        }
        if let Some(f) = &s.filter {
            out.push(Doc::text(" where "));
            out.push(self.expr(f));
        }
        if let Some(w) = &s.window {
            let lead = self.leading(w.span().start as usize);
            out.push(Doc::text(" "));
            out.push(lead);
            out.push(Doc::text(self.window(w)));
        }
        Doc::Concat(out)
    }

    fn stream_test(&mut self, t: &StreamTest) -> Doc {
        let mut out = vec![self.source(&t.source)];
        if let Some(f) = &t.field {
            out.push(Doc::text("."));
            out.push(self.ident(f));
        }
        if let Some(f) = &t.filter {
            out.push(Doc::text(" where "));
            out.push(self.expr(f));
        }
        match &t.history {
            Some(HistoryTest::Was(v, _)) => {
                out.push(Doc::text(" was "));
                out.push(self.expr(v));
            }
            Some(HistoryTest::Changed { from, to, .. }) => {
                out.push(Doc::text(" changed"));
                if let Some(v) = from {
                    out.push(Doc::text(" from "));
                    out.push(self.expr(v));
                }
                if let Some(v) = to {
                    out.push(Doc::text(" to "));
                    out.push(self.expr(v));
                }
            }
            None => {}
        }
        // modifiers in the order they were written
        let mut mods: Vec<(Span, String)> = Vec::new();
        if let Some(w) = &t.window {
            mods.push((w.span(), self.window(w)));
        }
        if let Some(f) = &t.freq {
            let kind = match f.kind {
                FreqKind::AtLeast => "at least",
                FreqKind::AtMost => "at most",
                FreqKind::Exactly => "exactly",
            };
            let times = if self.raw(f.span).ends_with("times") {
                "times"
            } else {
                "time"
            };
            mods.push((f.span, format!("{kind} {} {times}", self.raw(f.n.span))));
        }
        if let Some(r) = &t.regular {
            let unit = self
                .raw(r.span)
                .split_whitespace()
                .last()
                .unwrap_or("weeks");
            mods.push((
                r.span,
                format!(
                    "in at least {} of the last {} {unit}",
                    self.raw(r.at_least.span),
                    self.raw(r.of_last.span)
                ),
            ));
        }
        for s in &t.extra {
            mods.push((*s, self.collapsed(*s)));
        }
        mods.sort_by_key(|(s, _)| s.start);
        for (s, text) in mods {
            let lead = self.leading(s.start as usize);
            out.push(Doc::text(" "));
            out.push(lead);
            out.push(Doc::text(text));
        }
        Doc::Concat(out)
    }

    /// The body of a definition after `=`: an `and` / `or` chain breaks with its
    /// operators at the body's own indentation.
    fn body(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::And(xs) => self.chain(e, xs, "and", false),
            ExprKind::Or(xs) => self.chain(e, xs, "or", false),
            _ => self.expr(e),
        }
    }

    /// `a and b and c`: one line when it fits, else broken before each operator, the
    /// continuation lines indented when `indent` (inside other code).
    fn chain(&mut self, e: &Expr, xs: &[Expr], op: &str, indent: bool) -> Doc {
        let lead = self.leading(e.span.start as usize);
        let mut first = Doc::Nil;
        let mut rest = Vec::new();
        let last = xs.len().saturating_sub(1);
        for (k, x) in xs.iter().enumerate() {
            let lead = if k > 0 {
                self.leading(x.span.start as usize)
            } else {
                Doc::Nil
            };
            let d = self.expr(x);
            let d = if k < last {
                self.with_trailing(d, x.span.end as usize)
            } else {
                d
            };
            if k == 0 {
                first = d;
                continue;
            }
            rest.push(Doc::Line);
            rest.push(lead);
            rest.push(Doc::text(format!("{op} ")));
            rest.push(d);
        }
        let rest = Doc::Concat(rest);
        let rest = if indent { Doc::indent(rest) } else { rest };
        Doc::Concat(vec![lead, Doc::group(Doc::Concat(vec![first, rest]))])
    }

    fn expr(&mut self, e: &Expr) -> Doc {
        let lead = self.leading(e.span.start as usize);
        let d = match &e.kind {
            ExprKind::Lit(Literal::Duration(d)) => Doc::text(self.duration(d)),
            ExprKind::Lit(_) => Doc::text(self.raw(e.span)),
            ExprKind::Name(i) => self.ident(i),
            ExprKind::Path(a, b) => Doc::Concat(vec![self.ident(a), Doc::text("."), self.ident(b)]),
            ExprKind::Stream(t) => self.stream_test(t),
            ExprKind::No(t) => Doc::Concat(vec![Doc::text("no "), self.stream_test(t)]),
            ExprKind::AsOf { base, member, at } => {
                let mut out = vec![self.ident(base)];
                if let Some(m) = member {
                    out.push(Doc::text("."));
                    out.push(self.ident(m));
                }
                let lead = self.leading(at.span().start as usize);
                out.push(Doc::text("("));
                out.push(lead);
                out.push(Doc::text(format!("{})", self.time_point(at))));
                Doc::Concat(out)
            }
            ExprKind::Agg { func, arg, .. } => {
                let inner = match arg {
                    AggArg::Stream(s) => self.stream(s),
                    AggArg::Expr(x) => self.expr(x),
                };
                Doc::Concat(vec![
                    Doc::text(format!("{}(", func.name())),
                    inner,
                    Doc::text(")"),
                ])
            }
            ExprKind::TimeSince(x) => {
                Doc::Concat(vec![Doc::text("time_since("), self.expr(x), Doc::text(")")])
            }
            ExprKind::Not(x) => Doc::Concat(vec![Doc::text("not "), self.expr(x)]),
            ExprKind::Neg(x) => Doc::Concat(vec![Doc::text("-"), self.expr(x)]),
            ExprKind::And(xs) => self.chain(e, xs, "and", true),
            ExprKind::Or(xs) => self.chain(e, xs, "or", true),
            ExprKind::Binary { op, lhs, rhs, .. } => Doc::Concat(vec![
                self.expr(lhs),
                Doc::text(format!(" {} ", op.symbol())),
                self.expr(rhs),
            ]),
            ExprKind::InList {
                expr,
                negated,
                items,
            } => {
                let head = self.expr(expr);
                let docs = items
                    .iter()
                    .map(|x| {
                        let d = self.expr(x);
                        self.with_trailing(d, x.span.end as usize)
                    })
                    .collect();
                let kw = if *negated { " not in " } else { " in " };
                Doc::Concat(vec![head, Doc::text(kw), list(docs)])
            }
            ExprKind::InRange { expr, range } => {
                Doc::Concat(vec![self.expr(expr), Doc::text(" in "), self.range(range)])
            }
            ExprKind::Text { expr, op, patterns } => {
                let head = self.expr(expr);
                let kw = match op {
                    TextOp::Contains => " contains ",
                    TextOp::StartsWith => " starts with ",
                    TextOp::EndsWith => " ends with ",
                };
                let pats = match patterns.as_slice() {
                    [one] => self.leaf(one.span),
                    many => {
                        let docs = many
                            .iter()
                            .map(|p| {
                                let d = self.leaf(p.span);
                                self.with_trailing(d, p.span.end as usize)
                            })
                            .collect();
                        list(docs)
                    }
                };
                Doc::Concat(vec![head, Doc::text(kw), pats])
            }
            ExprKind::Matches {
                expr, regex_span, ..
            } => Doc::Concat(vec![
                self.expr(expr),
                Doc::text(" matches "),
                self.leaf(*regex_span),
            ]),
            ExprKind::IsMissing { expr, negated } => Doc::Concat(vec![
                self.expr(expr),
                Doc::text(if *negated {
                    " is present"
                } else {
                    " is missing"
                }),
            ]),
            ExprKind::Paren(x) => Doc::Concat(vec![Doc::text("("), self.expr(x), Doc::text(")")]),
        };
        Doc::Concat(vec![lead, d])
    }
}

/// `(a, b, c)` on one line, or one item per line.
fn list(items: Vec<Doc>) -> Doc {
    let mut inner = vec![Doc::SoftLine];
    for (k, d) in items.into_iter().enumerate() {
        if k > 0 {
            inner.push(Doc::text(","));
            inner.push(Doc::Line);
        }
        inner.push(d);
    }
    Doc::group(Doc::Concat(vec![
        Doc::text("("),
        Doc::indent(Doc::Concat(inner)),
        Doc::SoftLine,
        Doc::text(")"),
    ]))
}

fn prefix(scope: Scope) -> &'static str {
    match scope {
        Scope::Contact => "",
        Scope::Account => "account ",
    }
}

fn stmt_span(s: &ScoreStmt) -> Span {
    match s {
        ScoreStmt::Decay(Decay::HalfLife { span, .. } | Decay::Step { span, .. }) => *span,
        ScoreStmt::Group { span, .. } => *span,
        ScoreStmt::Rule(r) => r.span,
    }
}

/// `+15` from the points as written (`+ 15 * percent` → `+15`).
fn points_text(raw: &str) -> String {
    let sign = if raw.starts_with('-') { '-' } else { '+' };
    let number: String = raw
        .trim_start_matches(['+', '-'])
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    format!("{sign}{number}")
}
