//! The definition stages: one CTE per level of the definition graph for contacts and
//! accounts (with their contact roll-ups), named after its definition (or its first
//! definition and how many follow: a chain of one CTE per definition took DuckDB's
//! planner ten times as long), scores' raw totals and tiers' whole numbers a stage
//! before them, and the final selects of the result columns.

use super::*;

/// Whether `name` is, or may be, one of the stages before the definitions.
fn internal(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let numbered = ["hx", "hl", "h", "wt", "r", "c", "a"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| digits(rest.trim_end_matches(['c', 'k'])))
    });
    numbered || ["ev", "agg", "now_", "moments"].contains(&name)
}

impl Compiler<'_> {
    /// The namespace of the definitions' stages: the tables the SQL reads, and the
    /// stages before the definitions, are taken.
    fn stage_names(&self) -> names::Names {
        let mut n = names::Names::default();
        for (t, default) in [
            (&self.tables.contacts, "contacts"),
            (&self.tables.events, "events"),
            (&self.tables.accounts, "accounts"),
            (&self.tables.changes, "changes"),
        ] {
            for part in t.name(default) {
                n.take(&part);
            }
        }
        for fixed in ["ev", "agg", "now_", "moments", "c0", "a0"] {
            n.take(fixed);
        }
        n.reserve(internal);
        n
    }

    pub(super) fn build(&mut self) -> Result<Queries, SqlError> {
        // Nodes first: lowering them registers the history reads, tests and roll-ups
        // the earlier stages must provide.
        let max_level = self.levels.iter().copied().max().unwrap_or(0);
        let mut stages: Vec<(String, Select)> = Vec::new();
        let mut prev_c = "c0".to_string();
        let mut prev_a = "a0".to_string();
        let accounts = self.has_accounts();
        let mut stage_names = self.stage_names();
        for level in 1..=max_level {
            let ids: Vec<usize> = (0..self.plan.nodes.len())
                .filter(|i| self.levels.get(*i) == Some(&level))
                .collect();
            for scope in [Scope::Contact, Scope::Account] {
                let here: Vec<usize> = ids
                    .iter()
                    .copied()
                    .filter(|i| self.plan.nodes.get(*i).is_some_and(|n| n.scope == scope))
                    .collect();
                if here.is_empty() {
                    continue;
                }
                // Named after its definition, or its first one and how many follow.
                let first = here.first().map(|i| names::ident_of(&self.node_col(*i)));
                let want = match (first, here.len()) {
                    (Some(f), 1) => f,
                    (Some(f), n) => format!("{f}_and_{}_more", n - 1),
                    (None, _) => format!("level_{level}"),
                };
                let name = stage_names.take(&want);
                let prev = match scope {
                    Scope::Contact => prev_c.clone(),
                    Scope::Account => prev_a.clone(),
                };
                let cx = if scope == Scope::Contact {
                    Ctx::Contact
                } else {
                    Ctx::Account
                };
                let first_rollup = self.rollups.len();
                let mut raw = Vec::new();
                let mut items = Vec::new();
                for i in here {
                    self.node(i, cx, &mut raw, &mut items)?;
                }
                let mut joins = vec![cross("moments", "m")];
                let mut from_prev = prev.clone();
                if scope == Scope::Contact && accounts {
                    joins.push(left(
                        cte(&prev_a, "an"),
                        col("an", "id").bin("=", col("p", self.cols.account_id.as_str())),
                    ));
                }
                if scope == Scope::Account && self.rollups.len() > first_rollup {
                    let kname = stage_names.take(&format!("{name}_contacts"));
                    stages.push((
                        kname.clone(),
                        self.rollup_stage(first_rollup, &prev_c, &prev_a),
                    ));
                    joins.push(left(
                        cte(&kname, "k"),
                        col("k", "id").bin("=", col("p", "id")),
                    ));
                }
                if !raw.is_empty() {
                    let rname = stage_names.take(&format!("{name}_raw"));
                    stages.push((
                        rname.clone(),
                        Select {
                            star: Some("p".into()),
                            items: raw,
                            from: Some(cte(&prev, "p")),
                            joins: joins.clone(),
                            once: true,
                            ..Default::default()
                        },
                    ));
                    from_prev = rname;
                }
                stages.push((
                    name.clone(),
                    Select {
                        star: Some("p".into()),
                        items,
                        from: Some(cte(&from_prev, "p")),
                        joins,
                        once: true,
                        ..Default::default()
                    },
                ));
                match scope {
                    Scope::Contact => prev_c = name,
                    Scope::Account => prev_a = name,
                }
            }
        }
        let mut ctes = self.moments()?;
        ctes.extend(self.base()?);
        if accounts {
            ctes.push(("a0".into(), self.accounts_base()));
        }
        ctes.extend(stages);
        let output = |scope: Scope, from: &str| {
            let mut items = vec![(col("p", "id"), "id".to_string())];
            for (i, n) in self.plan.outputs(scope) {
                items.push((col("p", self.node_col(i)), n.name.clone()));
            }
            Select {
                items,
                from: Some(cte(from, "p")),
                ..Default::default()
            }
        };
        for (_, sel) in &mut ctes {
            sel.drop_unread_joins();
        }
        let contacts_body = output(Scope::Contact, &prev_c);
        let accounts_body = (accounts && self.plan.outputs(Scope::Account).next().is_some())
            .then(|| output(Scope::Account, &prev_a));
        let bodies: Vec<&Select> = [Some(&contacts_body), accounts_body.as_ref()]
            .into_iter()
            .flatten()
            .collect();
        select_read_columns(&mut ctes, &bodies);
        // Columns dropped may leave joins, and then stages, nobody reads.
        for (_, sel) in &mut ctes {
            sel.drop_unread_joins();
        }
        drop_unread_stages(&mut ctes, &bodies);
        let contacts = Query {
            ctes: ctes.clone(),
            body: contacts_body,
        };
        let accounts = accounts_body.map(|body| Query { ctes, body });
        Ok(Queries { contacts, accounts })
    }

    /// Compiles node `i` into `items` (its column) and `raw` (a score's raw total).
    fn node(
        &mut self,
        i: usize,
        cx: Ctx,
        raw: &mut Vec<(Expr, String)>,
        items: &mut Vec<(Expr, String)>,
    ) -> Result<(), SqlError> {
        let Some(node) = self.plan.nodes.get(i) else {
            return Ok(());
        };
        self.rule = node.name.clone();
        let out = self.node_col(i);
        let value = match &node.kind {
            NodeKind::Segment(e) => self.truthy(e, cx)?,
            NodeKind::Value(e) => self.expr(e, cx)?,
            NodeKind::Top { n, by } => {
                // Numbers, moments and durations rank in their SQL order (highest, most
                // recent, longest first); nothing else is ranked.
                if !numeric(self.ty(by)) && !matches!(self.ty(by), T::Date | T::Ts | T::Dur) {
                    return Err(self.unsupported("ranking by a value without an order"));
                } else {
                    let x = self.expr(by, cx)?;
                    let id = match self.d.byte_collation() {
                        Some(c) => Expr::Collate {
                            expr: Box::new(col("p", "id")),
                            collation: c,
                        },
                        None => col("p", "id"),
                    };
                    let missing_last =
                        Expr::iff(x.clone().is_null(false), Expr::int(1), Expr::int(0));
                    let rank = Expr::RowNumber {
                        partition: Vec::new(),
                        order: vec![(missing_last, false), (x.clone(), true), (id, false)],
                    };
                    let n = i64::try_from(*n).unwrap_or(i64::MAX);
                    Expr::iff(
                        x.is_null(true).bin("AND", rank.bin("<=", Expr::int(n))),
                        Expr::bool(true),
                        Expr::bool(false),
                    )
                }
            }
            NodeKind::Score(s) => {
                let total = match &s.body {
                    ScoreBody::Expr(e) => {
                        let x = if numeric(self.ty(e)) {
                            self.expr(e, cx)?.cast(SqlType::Double)
                        } else {
                            Expr::Lit(Lit::Null).cast(SqlType::Double)
                        };
                        match s.range {
                            Some((lo, hi)) => Expr::Case {
                                whens: vec![
                                    (x.clone().bin("<", lit_num(lo)), lit_num(lo)),
                                    (x.clone().bin(">", lit_num(hi)), lit_num(hi)),
                                ],
                                otherwise: Some(Box::new(x)),
                            },
                            None => x,
                        }
                    }
                    ScoreBody::Groups(gs) => {
                        let mut groups = Vec::new();
                        for g in gs {
                            let mut rules = Vec::new();
                            for r in &g.rules {
                                let x = match &r.kind {
                                    RuleKind::Per { points_of, .. } => {
                                        let pts = match cx {
                                            Ctx::Contact => col("p", self.agg_col(*points_of)),
                                            _ => lit_num(0.0),
                                        };
                                        lit_num(r.points).bin("*", pts)
                                    }
                                    RuleKind::If(c) => Expr::iff(
                                        self.truthy(c, cx)?,
                                        lit_num(r.points),
                                        lit_num(0.0),
                                    ),
                                };
                                rules.push(cap(x, r.cap));
                            }
                            let sum = rules
                                .into_iter()
                                .reduce(|a, b| a.bin("+", b))
                                .unwrap_or(lit_num(0.0));
                            groups.push(cap(sum, g.cap));
                        }
                        let sum = groups
                            .into_iter()
                            .reduce(|a, b| a.bin("+", b))
                            .unwrap_or(lit_num(0.0));
                        match s.range {
                            Some((lo, hi)) => Expr::func(
                                "LEAST",
                                vec![Expr::func("GREATEST", vec![sum, lit_num(lo)]), lit_num(hi)],
                            ),
                            None => sum,
                        }
                    }
                };
                let r = self.cols.names.take(&format!("{out}_raw"));
                raw.push((total, r.clone()));
                round_cents(col("p", r))
            }
            NodeKind::Tiers { score, bands } => {
                let whole = self.cols.names.take(&format!("{out}_whole"));
                raw.push((round_whole(col("p", self.node_col(*score))), whole.clone()));
                let r = col("p", whole);
                Expr::Case {
                    whens: bands
                        .iter()
                        .map(|b| {
                            let hit = r
                                .clone()
                                .bin(">=", Expr::int(b.lo))
                                .bin("AND", r.clone().bin("<=", Expr::int(b.hi)));
                            (hit, Expr::str(&b.name))
                        })
                        .collect(),
                    otherwise: None,
                }
            }
            NodeKind::Personas(ps) => {
                let mut whens = Vec::new();
                for p in ps {
                    whens.push((self.truthy(&p.cond, cx)?, Expr::str(&p.name)));
                }
                if whens.is_empty() {
                    Expr::Lit(Lit::Null).cast(SqlType::Text)
                } else {
                    Expr::Case {
                        whens,
                        otherwise: None,
                    }
                }
            }
        };
        items.push((value, out));
        Ok(())
    }
}

/// `x` bounded to `[-c, c]` (`x` is never null here).
fn cap(x: Expr, c: Option<f64>) -> Expr {
    match c {
        Some(c) => Expr::func(
            "LEAST",
            vec![Expr::func("GREATEST", vec![x, lit_num(-c)]), lit_num(c)],
        ),
        None => x,
    }
}
