//! The SQL IR: a small syntax tree of the queries Funnel emits (one `WITH` query of
//! `SELECT`s), printed for one [`Dialect`]. Dialect differences are asked of the dialect
//! while the tree is built (functions) or printed (capabilities, quoting, types).

use super::dialect::Dialect;
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt::Write;

/// A column type of the emitted SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Text,
    BigInt,
    Double,
    Bool,
    Date,
    Timestamp,
    /// An exact decimal wide enough to round a score's text: `DECIMAL(38, 20)`.
    Decimal,
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Int(i64),
    Num(f64),
    Str(String),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
}

/// A scalar expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `table.column` (the column name is always quoted).
    Col {
        table: String,
        name: String,
    },
    Lit(Lit),
    /// A placeholder or keyword argument printed as is (`$1`, `MICROSECOND`).
    Param(String),
    /// `INTERVAL 'value' UNIT`, or `INTERVAL value UNIT` when not `quoted`.
    Interval {
        value: i64,
        quoted: bool,
        unit: &'static str,
    },
    /// `name(args)`
    Func {
        name: &'static str,
        args: Vec<Expr>,
    },
    /// An aggregate; `arg: None` is `*`. With a filter the dialect prints `FILTER
    /// (WHERE …)` or moves the filter into a `CASE`.
    Agg {
        name: &'static str,
        arg: Option<Box<Expr>>,
        distinct: bool,
        filter: Option<Box<Expr>>,
    },
    /// `ROW_NUMBER() OVER (PARTITION BY … ORDER BY …)`; `true` = descending.
    RowNumber {
        partition: Vec<Expr>,
        order: Vec<(Expr, bool)>,
    },
    /// `agg OVER (PARTITION BY …)`
    Over {
        agg: Box<Expr>,
        partition: Vec<Expr>,
    },
    /// `LAG(e) OVER (PARTITION BY … ORDER BY …)`
    Lag {
        expr: Box<Expr>,
        partition: Vec<Expr>,
        order: Vec<Expr>,
    },
    /// `l op r` with a binary operator (`=`, `AND`, `+`, `~*`, `RLIKE`…).
    Bin {
        op: &'static str,
        l: Box<Expr>,
        r: Box<Expr>,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Case {
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast(Box<Expr>, SqlType),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        items: Vec<Expr>,
    },
    Collate {
        expr: Box<Expr>,
        collation: &'static str,
    },
}

impl Expr {
    /// A column of a table alias.
    pub fn col(table: &str, name: impl Into<String>) -> Expr {
        Expr::Col {
            table: table.to_string(),
            name: name.into(),
        }
    }

    /// `name(args)`.
    pub fn func(name: &'static str, args: Vec<Expr>) -> Expr {
        Expr::Func { name, args }
    }

    /// `self op r`.
    pub fn bin(self, op: &'static str, r: Expr) -> Expr {
        Expr::Bin {
            op,
            l: Box::new(self),
            r: Box::new(r),
        }
    }

    /// An aggregate of one argument.
    pub fn agg(name: &'static str, arg: Expr, filter: Option<Expr>) -> Expr {
        Expr::Agg {
            name,
            arg: Some(Box::new(arg)),
            distinct: false,
            filter: filter.map(Box::new),
        }
    }

    /// `self OVER (PARTITION BY partition)` for an aggregate.
    pub fn window_over(self, partition: Vec<Expr>) -> Expr {
        Expr::Over {
            agg: Box::new(self),
            partition,
        }
    }

    /// `CASE WHEN c THEN t ELSE e END`.
    pub fn iff(c: Expr, t: Expr, e: Expr) -> Expr {
        Expr::Case {
            whens: vec![(c, t)],
            otherwise: Some(Box::new(e)),
        }
    }

    /// `COALESCE(self, d)`.
    pub fn or_else(self, d: Expr) -> Expr {
        Expr::func("COALESCE", vec![self, d])
    }

    /// `self IS NULL` / `IS NOT NULL`.
    pub fn is_null(self, negated: bool) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated,
        }
    }

    /// `CAST(self AS t)`.
    pub fn cast(self, t: SqlType) -> Expr {
        Expr::Cast(Box::new(self), t)
    }

    /// A text literal.
    pub fn str(s: &str) -> Expr {
        Expr::Lit(Lit::Str(s.to_string()))
    }

    /// An integer literal.
    pub fn int(i: i64) -> Expr {
        Expr::Lit(Lit::Int(i))
    }

    /// A boolean literal.
    pub fn bool(b: bool) -> Expr {
        Expr::Lit(Lit::Bool(b))
    }

    /// The conjunction of `xs` (`TRUE` when empty).
    pub fn all(xs: Vec<Expr>) -> Expr {
        xs.into_iter()
            .reduce(|a, b| a.bin("AND", b))
            .unwrap_or(Expr::bool(true))
    }

    /// The disjunction of `xs` (`FALSE` when empty).
    pub fn any(xs: Vec<Expr>) -> Expr {
        xs.into_iter()
            .reduce(|a, b| a.bin("OR", b))
            .unwrap_or(Expr::bool(false))
    }
}

/// A table in a `FROM` or `JOIN`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    /// A table of the warehouse (dotted parts, each quoted) or a CTE name.
    pub name: Vec<String>,
    pub alias: String,
}

/// A join.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// `None` is a `CROSS JOIN`, otherwise a `LEFT JOIN … ON`.
    pub on: Option<Expr>,
    pub table: TableRef,
}

/// One `SELECT`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    pub distinct: bool,
    /// `alias.*` first, when set.
    pub star: Option<String>,
    pub items: Vec<(Expr, String)>,
    pub from: Option<TableRef>,
    pub joins: Vec<Join>,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    /// Each row computed once, never inlined into the stage reading it (see
    /// [`Dialect::fence`]).
    pub once: bool,
}

impl Expr {
    /// Calls `f` on the expression and every expression inside it.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        let all = |xs: &[Expr], f: &mut dyn FnMut(&Expr)| xs.iter().for_each(|x| x.walk(f));
        match self {
            Expr::Col { .. } | Expr::Lit(_) | Expr::Param(_) | Expr::Interval { .. } => {}
            Expr::Func { args, .. } => all(args, f),
            Expr::Agg { arg, filter, .. } => {
                arg.iter().chain(filter.iter()).for_each(|x| x.walk(f));
            }
            Expr::RowNumber { partition, order } => {
                all(partition, f);
                order.iter().for_each(|(e, _)| e.walk(f));
            }
            Expr::Over { agg, partition } => {
                agg.walk(f);
                all(partition, f);
            }
            Expr::Lag {
                expr,
                partition,
                order,
            } => {
                expr.walk(f);
                all(partition, f);
                all(order, f);
            }
            Expr::Bin { l, r, .. } => {
                l.walk(f);
                r.walk(f);
            }
            Expr::Not(x) | Expr::Neg(x) | Expr::Cast(x, _) => x.walk(f),
            Expr::Case { whens, otherwise } => {
                for (c, v) in whens {
                    c.walk(f);
                    v.walk(f);
                }
                otherwise.iter().for_each(|o| o.walk(f));
            }
            Expr::IsNull { expr, .. } | Expr::Collate { expr, .. } => expr.walk(f),
            Expr::InList { expr, items } => {
                expr.walk(f);
                all(items, f);
            }
        }
    }

    /// The expression with each column `f(table, name)` gives replaced by what it gives.
    pub fn map_cols(self, f: &dyn Fn(&str, &str) -> Option<Expr>) -> Expr {
        let one = |x: Box<Expr>| Box::new(x.map_cols(f));
        let all = |xs: Vec<Expr>| xs.into_iter().map(|x| x.map_cols(f)).collect::<Vec<_>>();
        match self {
            Expr::Col { table, name } => f(&table, &name).unwrap_or(Expr::Col { table, name }),
            Expr::Lit(_) | Expr::Param(_) | Expr::Interval { .. } => self,
            Expr::Func { name, args } => Expr::Func {
                name,
                args: all(args),
            },
            Expr::Agg {
                name,
                arg,
                distinct,
                filter,
            } => Expr::Agg {
                name,
                arg: arg.map(one),
                distinct,
                filter: filter.map(one),
            },
            Expr::RowNumber { partition, order } => Expr::RowNumber {
                partition: all(partition),
                order: order.into_iter().map(|(e, d)| (e.map_cols(f), d)).collect(),
            },
            Expr::Over { agg, partition } => Expr::Over {
                agg: one(agg),
                partition: all(partition),
            },
            Expr::Lag {
                expr,
                partition,
                order,
            } => Expr::Lag {
                expr: one(expr),
                partition: all(partition),
                order: all(order),
            },
            Expr::Bin { op, l, r } => Expr::Bin {
                op,
                l: one(l),
                r: one(r),
            },
            Expr::Not(x) => Expr::Not(one(x)),
            Expr::Neg(x) => Expr::Neg(one(x)),
            Expr::Cast(x, t) => Expr::Cast(one(x), t),
            Expr::Case { whens, otherwise } => Expr::Case {
                whens: whens
                    .into_iter()
                    .map(|(c, v)| (c.map_cols(f), v.map_cols(f)))
                    .collect(),
                otherwise: otherwise.map(one),
            },
            Expr::IsNull { expr, negated } => Expr::IsNull {
                expr: one(expr),
                negated,
            },
            Expr::InList { expr, items } => Expr::InList {
                expr: one(expr),
                items: all(items),
            },
            Expr::Collate { expr, collation } => Expr::Collate {
                expr: one(expr),
                collation,
            },
        }
    }

    /// Whether the expression reads a column of table alias `alias`.
    pub fn reads(&self, alias: &str) -> bool {
        let mut hit = false;
        self.walk(&mut |x| {
            hit |= matches!(x, Expr::Col { table, .. } if table == alias);
        });
        hit
    }
}

impl Select {
    /// Every expression of the select: its columns, join conditions, filter, grouping.
    fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.items
            .iter()
            .map(|(e, _)| e)
            .chain(self.joins.iter().filter_map(|j| j.on.as_ref()))
            .chain(self.filter.iter())
            .chain(self.group_by.iter())
    }

    /// The CTE that table alias `alias` names in this select, if it is one of `ctes`.
    fn source<'q>(&self, alias: &str, ctes: &'q [(String, Select)]) -> Option<&'q str> {
        let t = self
            .from
            .iter()
            .chain(self.joins.iter().map(|j| &j.table))
            .find(|t| t.alias == alias)?;
        match t.name.as_slice() {
            [name] => ctes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, _)| n.as_str()),
            _ => None,
        }
    }

    /// Drops the joins nothing else in the select reads. Every join Funnel emits is to
    /// one row (`CROSS JOIN` of the moments) or to a unique key, so an unread join
    /// changes no row.
    pub fn drop_unread_joins(&mut self) {
        loop {
            let unread = self.joins.iter().position(|j| {
                let a = j.table.alias.as_str();
                !(self.star.as_deref() == Some(a)
                    || self.items.iter().any(|(e, _)| e.reads(a))
                    || self.filter.as_ref().is_some_and(|f| f.reads(a))
                    || self.group_by.iter().any(|g| g.reads(a))
                    || self
                        .joins
                        .iter()
                        .any(|o| o.table.alias != a && o.on.as_ref().is_some_and(|on| on.reads(a))))
            });
            match unread {
                Some(i) => {
                    self.joins.remove(i);
                }
                None => break,
            }
        }
    }
}

/// Leaves each stage of `ctes` only the columns some later stage or one of `bodies`
/// reads: `alias.*` becomes the columns of that stage read after this one, in the order
/// it holds them, and a stage without `*` drops the columns nobody reads (a `DISTINCT`
/// stage keeps all; a stage nobody reads keeps all). A star stage's own columns (its
/// definitions) all stay. Stages read only stages before them.
pub fn select_read_columns(ctes: &mut [(String, Select)], bodies: &[&Select]) {
    use std::collections::{HashMap, HashSet};
    let mut read: HashMap<String, HashSet<String>> = HashMap::new();
    let note =
        |e: &Expr, sel: &Select, ctes: &[(String, Select)], read: &mut HashMap<_, HashSet<_>>| {
            e.walk(&mut |x| {
                if let Expr::Col { table, name } = x
                    && let Some(src) = sel.source(table, ctes)
                {
                    read.entry(src.to_string())
                        .or_default()
                        .insert(name.clone());
                }
            });
        };
    for b in bodies {
        b.exprs().for_each(|e| note(e, b, ctes, &mut read));
    }
    // Backward: what each stage must hold, and so what it reads from the ones before.
    let mut kept: Vec<Vec<bool>> = vec![Vec::new(); ctes.len()];
    for i in (0..ctes.len()).rev() {
        let (name, sel) = &ctes[i];
        let wanted = read.get(name).cloned().unwrap_or_default();
        let prunable = sel.star.is_none() && !sel.distinct;
        let mut keep: Vec<bool> = sel
            .items
            .iter()
            .map(|(_, a)| !prunable || wanted.contains(a))
            .collect();
        if !keep.contains(&true) {
            keep = vec![true; keep.len()];
        }
        let before = &ctes[..i];
        for ((e, _), k) in sel.items.iter().zip(&keep) {
            if *k {
                note(e, sel, before, &mut read);
            }
        }
        for j in &sel.joins {
            j.on.iter().for_each(|e| note(e, sel, before, &mut read));
        }
        sel.filter
            .iter()
            .chain(&sel.group_by)
            .for_each(|e| note(e, sel, before, &mut read));
        if let Some(src) = sel.star.as_deref().and_then(|a| sel.source(a, before)) {
            let passed = wanted
                .into_iter()
                .filter(|c| !sel.items.iter().any(|(_, a)| a == c));
            read.entry(src.to_string()).or_default().extend(passed);
        }
        if let Some(slot) = kept.get_mut(i) {
            *slot = keep;
        }
    }
    // Forward: each stage's columns in order, the passed-through ones first.
    let mut columns: HashMap<String, Vec<String>> = HashMap::new();
    for (i, keep) in kept.into_iter().enumerate() {
        let src = {
            let sel = &ctes[i].1;
            sel.star
                .as_deref()
                .and_then(|a| Some((a.to_string(), sel.source(a, &ctes[..i])?.to_string())))
        };
        let (name, sel) = &mut ctes[i];
        let mut keep = keep.into_iter();
        sel.items.retain(|_| keep.next().unwrap_or(true));
        if let Some((alias, src)) = src {
            let wanted = read.get(name.as_str());
            let mut items: Vec<(Expr, String)> = columns
                .get(&src)
                .into_iter()
                .flatten()
                .filter(|c| wanted.is_some_and(|w| w.contains(*c)))
                .filter(|c| !sel.items.iter().any(|(_, a)| a == *c))
                .map(|c| (Expr::col(&alias, c.as_str()), c.clone()))
                .collect();
            items.append(&mut sel.items);
            sel.items = items;
            sel.star = None;
        }
        columns.insert(
            name.clone(),
            sel.items.iter().map(|(_, a)| a.clone()).collect(),
        );
    }
}

/// Drops the stages no later stage and none of `bodies` reads.
pub fn drop_unread_stages(ctes: &mut Vec<(String, Select)>, bodies: &[&Select]) {
    let names = |s: &Select| -> Vec<String> {
        s.from
            .iter()
            .chain(s.joins.iter().map(|j| &j.table))
            .filter_map(|t| match t.name.as_slice() {
                [n] => Some(n.clone()),
                _ => None,
            })
            .collect()
    };
    let mut read: std::collections::HashSet<String> =
        bodies.iter().flat_map(|b| names(b)).collect();
    let mut keep = vec![false; ctes.len()];
    for (i, (name, sel)) in ctes.iter().enumerate().rev() {
        if read.contains(name) {
            read.extend(names(sel));
            if let Some(k) = keep.get_mut(i) {
                *k = true;
            }
        }
    }
    let mut keep = keep.into_iter();
    ctes.retain(|_| keep.next().unwrap_or(true));
}

/// A `WITH` query: named stages, then the final select.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub ctes: Vec<(String, Select)>,
    pub body: Select,
}

/// Prints IR for a dialect.
pub struct Printer<'d> {
    pub dialect: &'d dyn Dialect,
}

impl Printer<'_> {
    /// A quoted identifier.
    pub fn ident(&self, name: &str) -> String {
        let q = self.dialect.quote();
        let doubled: String = [q, q].iter().collect();
        format!("{q}{}{q}", name.replace(q, &doubled))
    }

    fn table(&self, t: &TableRef) -> String {
        let name: Vec<String> = t.name.iter().map(|p| self.ident(p)).collect();
        format!("{} AS {}", name.join("."), t.alias)
    }

    /// A whole query.
    pub fn query(&self, q: &Query) -> String {
        let mut out = String::new();
        for (i, (name, sel)) in q.ctes.iter().enumerate() {
            out.push_str(if i == 0 { "WITH " } else { ",\n" });
            let _ = write!(
                out,
                "{} AS (\n{}\n)",
                self.ident(name),
                self.select(sel, "  ")
            );
        }
        if !q.ctes.is_empty() {
            out.push('\n');
        }
        out.push_str(&self.select(&q.body, ""));
        out
    }

    /// One select, each clause on its own line, indented.
    pub fn select(&self, s: &Select, ind: &str) -> String {
        let mut cols: Vec<String> = s.star.iter().map(|a| format!("{a}.*")).collect();
        cols.extend(s.items.iter().map(|(e, alias)| match e {
            // A column kept under its own name needs no alias.
            Expr::Col { name, .. } if name == alias => self.expr(e),
            _ => format!("{} AS {}", self.expr(e), self.ident(alias)),
        }));
        let mut out = format!(
            "{ind}SELECT {}{}",
            if s.distinct { "DISTINCT " } else { "" },
            cols.join(&format!(",\n{ind}  "))
        );
        if let Some(t) = &s.from {
            let _ = write!(out, "\n{ind}FROM {}", self.table(t));
        }
        for j in &s.joins {
            match &j.on {
                Some(on) => {
                    let _ = write!(
                        out,
                        "\n{ind}LEFT JOIN {} ON {}",
                        self.table(&j.table),
                        self.expr(on)
                    );
                }
                None => {
                    let _ = write!(out, "\n{ind}CROSS JOIN {}", self.table(&j.table));
                }
            }
        }
        if let Some(w) = &s.filter {
            let _ = write!(out, "\n{ind}WHERE {}", self.expr(w));
        }
        if !s.group_by.is_empty() {
            let g: Vec<String> = s.group_by.iter().map(|e| self.expr(e)).collect();
            let _ = write!(out, "\n{ind}GROUP BY {}", g.join(", "));
        }
        if let Some(fence) = self.dialect.fence().filter(|_| s.once) {
            let _ = write!(out, "\n{ind}{fence}");
        }
        out
    }

    fn lit(&self, l: &Lit) -> String {
        match l {
            Lit::Null => "NULL".into(),
            Lit::Int(i) => i.to_string(),
            Lit::Num(n) => {
                let s = format!("{n:?}");
                if s.contains('e') || s.contains("inf") || s.contains("NaN") {
                    format!("CAST('{n}' AS {})", self.dialect.type_name(SqlType::Double))
                } else {
                    s
                }
            }
            Lit::Str(s) => self.dialect.string_literal(s),
            Lit::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Lit::Date(d) => format!("DATE '{}'", d.format("%Y-%m-%d")),
            Lit::Timestamp(t) => self
                .dialect
                .timestamp_literal(&t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
        }
    }

    fn window(&self, partition: &[Expr], order: &[String]) -> String {
        let mut parts = Vec::new();
        if !partition.is_empty() {
            let p: Vec<String> = partition.iter().map(|e| self.expr(e)).collect();
            parts.push(format!("PARTITION BY {}", p.join(", ")));
        }
        if !order.is_empty() {
            parts.push(format!("ORDER BY {}", order.join(", ")));
        }
        format!("OVER ({})", parts.join(" "))
    }

    /// One expression, parenthesised where it is not atomic.
    pub fn expr(&self, e: &Expr) -> String {
        match e {
            Expr::Col { table, name } => format!("{table}.{}", self.ident(name)),
            Expr::Lit(l) => self.lit(l),
            Expr::Param(p) => p.clone(),
            Expr::Interval {
                value,
                quoted: true,
                unit,
            } => format!("INTERVAL '{value}' {unit}"),
            Expr::Interval {
                value,
                quoted: false,
                unit,
            } => format!("INTERVAL {value} {unit}"),
            Expr::Func { name, args } => {
                let a: Vec<String> = args.iter().map(|x| self.expr(x)).collect();
                format!("{name}({})", a.join(", "))
            }
            Expr::Agg {
                name,
                arg,
                distinct,
                filter,
            } => {
                let d = if *distinct { "DISTINCT " } else { "" };
                match (filter, self.dialect.filter_clause()) {
                    (Some(f), true) => {
                        let a = arg.as_ref().map_or("*".into(), |x| self.expr(x));
                        format!("{name}({d}{a}) FILTER (WHERE {})", self.expr(f))
                    }
                    (Some(f), false) => {
                        let a = arg.as_deref().cloned().unwrap_or(Expr::int(1));
                        let case = Expr::Case {
                            whens: vec![((**f).clone(), a)],
                            otherwise: None,
                        };
                        format!("{name}({d}{})", self.expr(&case))
                    }
                    (None, _) => {
                        let a = arg.as_ref().map_or("*".into(), |x| self.expr(x));
                        format!("{name}({d}{a})")
                    }
                }
            }
            Expr::RowNumber { partition, order } => {
                let o: Vec<String> = order
                    .iter()
                    .map(|(e, desc)| {
                        format!("{}{}", self.expr(e), if *desc { " DESC" } else { "" })
                    })
                    .collect();
                format!("ROW_NUMBER() {}", self.window(partition, &o))
            }
            Expr::Over { agg, partition } => {
                format!("{} {}", self.expr(agg), self.window(partition, &[]))
            }
            Expr::Lag {
                expr,
                partition,
                order,
            } => {
                let o: Vec<String> = order.iter().map(|e| self.expr(e)).collect();
                format!("LAG({}) {}", self.expr(expr), self.window(partition, &o))
            }
            Expr::Bin { op, l, r } => format!("({} {op} {})", self.expr(l), self.expr(r)),
            Expr::Not(x) => format!("(NOT {})", self.expr(x)),
            Expr::Neg(x) => format!("(- {})", self.expr(x)),
            Expr::Case { whens, otherwise } => {
                let mut s = String::from("CASE");
                for (c, v) in whens {
                    let _ = write!(s, " WHEN {} THEN {}", self.expr(c), self.expr(v));
                }
                if let Some(o) = otherwise {
                    let _ = write!(s, " ELSE {}", self.expr(o));
                }
                s.push_str(" END");
                s
            }
            Expr::Cast(x, t) => format!("CAST({} AS {})", self.expr(x), self.dialect.type_name(*t)),
            Expr::IsNull { expr, negated } => format!(
                "({} IS {}NULL)",
                self.expr(expr),
                if *negated { "NOT " } else { "" }
            ),
            Expr::InList { expr, items } => {
                let i: Vec<String> = items.iter().map(|x| self.expr(x)).collect();
                format!("({} IN ({}))", self.expr(expr), i.join(", "))
            }
            Expr::Collate { expr, collation } => {
                format!("({} COLLATE {collation})", self.expr(expr))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(from: &str, items: Vec<(Expr, &str)>) -> Select {
        Select {
            star: Some("p".into()),
            items: items.into_iter().map(|(e, a)| (e, a.to_string())).collect(),
            from: Some(TableRef {
                name: vec![from.into()],
                alias: "p".into(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn stages_carry_only_what_is_read_after_them() {
        let base = Select {
            items: ["id", "a", "b", "c"]
                .iter()
                .map(|c| (Expr::col("t", *c), c.to_string()))
                .collect(),
            ..Default::default()
        };
        let mut ctes = vec![
            ("s0".to_string(), base),
            // reads `a`; `b` is read two stages on, `c` never
            (
                "s1".into(),
                stage(
                    "s0",
                    vec![(Expr::col("p", "a").bin("+", Expr::int(1)), "x")],
                ),
            ),
            (
                "s2".into(),
                stage(
                    "s1",
                    vec![(Expr::col("p", "b").bin("*", Expr::col("p", "x")), "y")],
                ),
            ),
        ];
        let body = Select {
            items: vec![
                (Expr::col("p", "id"), "id".into()),
                (Expr::col("p", "y"), "y".into()),
            ],
            from: Some(TableRef {
                name: vec!["s2".into()],
                alias: "p".into(),
            }),
            ..Default::default()
        };
        select_read_columns(&mut ctes, &[&body]);
        let names =
            |i: usize| -> Vec<String> { ctes[i].1.items.iter().map(|(_, a)| a.clone()).collect() };
        assert_eq!(names(0), ["id", "a", "b"]);
        assert_eq!(names(1), ["id", "b", "x"]);
        assert_eq!(names(2), ["id", "y"]);
        assert!(ctes.iter().all(|(_, s)| s.star.is_none()));
        let printed = Printer {
            dialect: &super::super::dialect::DuckDb,
        }
        .select(&ctes[2].1, "");
        assert!(
            printed.starts_with("SELECT p.\"id\",\n  (p.\"b\" * p.\"x\") AS \"y\""),
            "{printed}"
        );
    }
}
