//! The stages before the definitions: the moments, the events, the per-contact
//! aggregates, the attribute history, and the base rows `c0` (contacts) and `a0`
//! (accounts) the definition stages build on.

use super::*;

/// What a group of stages adds to `c0`: the stages, their joins, their columns.
type Parts = (Vec<(String, Select)>, Vec<Join>, Vec<(Expr, String)>);

/// The stages before the definitions: moments, events, aggregates, history, `c0`, `a0`.
impl Compiler<'_> {
    pub(super) fn moments(&self) -> Result<Vec<(String, Select)>, SqlError> {
        if self.fixed.is_some() {
            return Ok(Vec::new());
        }
        let now = match self.as_of {
            AsOf::Fixed(t) => Expr::Lit(Lit::Timestamp(t)),
            AsOf::Param => Expr::Param(self.d.param().to_string()).cast(SqlType::Timestamp),
        };
        let n0 = col("n", "m0");
        let mut items = vec![(n0.clone(), "m0".to_string())];
        for (k, m) in self.plan.moments.iter().enumerate().skip(1) {
            let mut t = match m.anchor {
                Some(a) => self.start_of(a, n0.clone())?,
                None => n0.clone(),
            };
            for d in &m.shifts {
                t = self.sub(t, *d)?;
            }
            let clamped = Expr::iff(t.clone().bin(">", n0.clone()), n0.clone(), t);
            items.push((clamped, format!("m{k}")));
        }
        Ok(vec![
            (
                "now_".into(),
                Select {
                    items: vec![(now, "m0".into())],
                    ..Default::default()
                },
            ),
            (
                "moments".into(),
                Select {
                    items,
                    from: Some(cte("now_", "n")),
                    ..Default::default()
                },
            ),
        ])
    }

    pub(super) fn base(&mut self) -> Result<Vec<(String, Select)>, SqlError> {
        let mut out = Vec::new();
        let tables = self.tables;
        let cmap = &tables.contacts;
        let cid = col("c", cmap.column("id"));
        let mut c0 = Select {
            items: vec![(cid.clone(), "id".into())],
            from: Some(table(cmap.name("contacts"), "c")),
            ..Default::default()
        };
        // The account link, to accounts that exist.
        if self.has_accounts() {
            let amap = &tables.accounts;
            let link = self
                .plan
                .schema
                .contact
                .iter()
                .find(|f| f.ty == Type::AccountLink);
            let on = match link {
                Some(f) => col("x", amap.column("id")).bin("=", col("c", cmap.column(&f.name))),
                None => Expr::bool(false),
            };
            c0.joins.push(left(table(amap.name("accounts"), "x"), on));
            c0.items
                .push((col("x", amap.column("id")), self.cols.account_id.clone()));
            for f in &self.plan.schema.account {
                if self.read.account.contains(&f.name) {
                    c0.items
                        .push((col("x", amap.column(&f.name)), self.account_col(&f.name)));
                }
            }
        }
        for (i, f) in self.plan.schema.contact.iter().enumerate() {
            if self.read.contact.contains(&f.name) && !f.history {
                c0.items
                    .push((col("c", cmap.column(&f.name)), self.attr_col(i)));
            }
        }
        if !self.plan.aggregates.is_empty() {
            let shared = self.shared_conditions()?;
            out.push(("ev".into(), self.events(&shared)));
            let (stages, joins, items) = self.aggregates(&shared)?;
            out.extend(stages);
            c0.joins.extend(joins);
            c0.items.extend(items);
        }
        let (stages, joins, items) = self.history()?;
        out.extend(stages);
        c0.joins.extend(joins);
        c0.items.extend(items);
        c0.joins.push(cross("moments", "m"));
        out.push(("c0".into(), c0));
        Ok(out)
    }

    fn events(&self, shared: &Shared) -> Select {
        let e = &self.tables.events;
        let mut items = vec![
            (col("e", e.column("contact_id")), "contact_id".to_string()),
            (col("e", e.column("event")), "event".to_string()),
            (col("e", e.column("at")), "at".to_string()),
        ];
        if let Some(o) = &e.order {
            items.push((col("e", o.as_str()), "seq".into()));
        }
        for f in self.fields.keys().filter(|f| self.read.fields.contains(*f)) {
            items.push((col("e", e.column(f)), format!("f_{f}")));
        }
        // An event's age at moment 0, once for every decay and regularity reading it.
        let aged = |k: &AggKind| {
            matches!(
                k,
                AggKind::Periods { .. } | AggKind::Points { decay: Some(_), .. }
            )
        };
        if self
            .plan
            .aggregates
            .iter()
            .any(|a| a.moment == 0 && aged(&a.kind))
        {
            let age = self.seconds_to(col("e", e.column("at")), self.moment(0));
            items.push((age, "age_s".into()));
        }
        items.extend(shared.items.iter().cloned());
        Select {
            items,
            from: Some(table(e.name("events"), "e")),
            joins: vec![cross("moments", "m")],
            filter: Some(col("e", e.column("at")).bin("<=", self.moment(0))),
            // Each event's conditions and age once, not at every aggregate reading them.
            once: true,
            ..Default::default()
        }
    }

    /// Time order of events (`desc`: latest first), ties by the order column if any.
    fn event_order(&self, alias: &str, desc: bool) -> Vec<(Expr, bool)> {
        let mut o = vec![(col(alias, "at"), desc)];
        if self.tables.events.order.is_some() {
            o.push((col(alias, "seq"), desc));
        }
        o
    }

    fn aggregates(&mut self, shared: &Shared) -> Result<Parts, SqlError> {
        let mut stages = Vec::new();
        let mut joins = Vec::new();
        let mut items = Vec::new();
        let mut grouped = Vec::new();
        let users = self.aggregate_users();
        for (i, a) in self.plan.aggregates.iter().enumerate() {
            self.rule = users.get(&i).cloned().unwrap_or_else(|| a.label.clone());
            let m = self.moment(a.moment);
            // `ev` holds the events up to moment 0 only.
            let window = self.window_parts(col("ev", "at"), &a.window, m.clone(), a.moment == 0)?;
            // The event and its filter: the shared column of `ev`, or in place.
            let mut cond = match shared.of.get(&i) {
                Some(c) => [vec![col("ev", c.as_str())], window].concat(),
                None => {
                    let (event, filter) = self.event_parts(a)?;
                    event.into_iter().chain(window).chain(filter).collect()
                }
            };
            let field = |f: &str| col("ev", format!("f_{f}"));
            let ft = |f: &str| self.fields.get(f).copied().unwrap_or(T::Unknown);
            let age = if a.moment == 0 {
                col("ev", "age_s")
            } else {
                self.seconds_to(col("ev", "at"), m.clone())
            };
            let name = self.agg_col(i);
            let simple = |agg: Expr| (agg, name.clone());
            let mut zero = None;
            let g = match &a.kind {
                AggKind::Count => {
                    zero = Some(Expr::int(0));
                    Expr::Agg {
                        name: "COUNT",
                        arg: None,
                        distinct: false,
                        filter: Some(Box::new(Expr::all(cond))),
                    }
                }
                AggKind::CountDistinct { field: f } => {
                    zero = Some(Expr::int(0));
                    Expr::Agg {
                        name: "COUNT",
                        arg: Some(Box::new(self.fold(field(f), ft(f))?)),
                        distinct: true,
                        filter: Some(Box::new(Expr::all(cond))),
                    }
                }
                AggKind::Sum { field: f } => {
                    zero = Some(Expr::int(0));
                    Expr::agg("SUM", field(f), Some(Expr::all(cond)))
                }
                AggKind::Avg { field: f } => {
                    Expr::agg("AVG", field(f).cast(SqlType::Double), Some(Expr::all(cond)))
                }
                AggKind::Min { field: f } | AggKind::Max { field: f } => {
                    if ft(f) == T::Text {
                        return Err(self.unsupported(format!("the smallest or largest text `{f}`")));
                    }
                    let n = if matches!(a.kind, AggKind::Min { .. }) {
                        "MIN"
                    } else {
                        "MAX"
                    };
                    Expr::agg(n, field(f), Some(Expr::all(cond)))
                }
                AggKind::FirstTime => Expr::agg("MIN", col("ev", "at"), Some(Expr::all(cond))),
                AggKind::LastTime => Expr::agg("MAX", col("ev", "at"), Some(Expr::all(cond))),
                AggKind::Periods { unit, of_last } => {
                    let u = Dur {
                        amount: 1,
                        unit: *unit,
                    }
                    .fixed_seconds()
                    .ok_or_else(|| {
                        self.unsupported("regularity counted in calendar months or years")
                    })?;
                    zero = Some(Expr::int(0));
                    let u = lit_num(u as f64);
                    let k = Expr::iff(
                        age.clone().bin("<=", u.clone()),
                        Expr::int(0),
                        Expr::func("CEIL", vec![age.clone().bin("/", u.clone())])
                            .bin("-", Expr::int(1)),
                    );
                    cond.push(age.bin(
                        "<=",
                        u.bin("*", Expr::int(i64::try_from(*of_last).unwrap_or(i64::MAX))),
                    ));
                    Expr::Agg {
                        name: "COUNT",
                        arg: Some(Box::new(k)),
                        distinct: true,
                        filter: Some(Box::new(Expr::all(cond))),
                    }
                }
                AggKind::Points { times_field, decay } => {
                    zero = Some(lit_num(0.0));
                    let mult = match times_field {
                        Some(f) => field(f).cast(SqlType::Double).or_else(lit_num(0.0)),
                        None => lit_num(1.0),
                    };
                    let factor = match decay {
                        None => lit_num(1.0),
                        Some(Decay::HalfLife(h)) => {
                            let h = h.fixed_seconds().unwrap_or(1).max(1) as f64;
                            Expr::func("POWER", vec![lit_num(0.5), age.bin("/", lit_num(h))])
                        }
                        Some(Decay::Step { percent, every }) => {
                            let e = every.fixed_seconds().unwrap_or(1).max(1) as f64;
                            Expr::func(
                                "POWER",
                                vec![
                                    lit_num(1.0 - percent / 100.0),
                                    Expr::func("FLOOR", vec![age.bin("/", lit_num(e))]),
                                ],
                            )
                        }
                    };
                    Expr::agg("SUM", mult.bin("*", factor), Some(Expr::all(cond)))
                }
                AggKind::First { field: f }
                | AggKind::Last { field: f }
                | AggKind::MostFrequent { field: f } => {
                    let rn = format!("r{i}");
                    cond.push(field(f).is_null(true));
                    let ranked = if let AggKind::MostFrequent { .. } = a.kind {
                        let counted = format!("r{i}c");
                        let keyed = format!("r{i}k");
                        // The folded key is a column before it is partitioned by: a
                        // dialect's folding may stop the query on text it cannot fold
                        // (an error call), which DuckDB will not partition by.
                        let mut k_items = vec![
                            (col("ev", "contact_id"), "id".to_string()),
                            (field(f), "v".into()),
                            (self.fold(field(f), ft(f))?, "key".into()),
                            (col("ev", "at"), "at".into()),
                        ];
                        if self.tables.events.order.is_some() {
                            k_items.push((col("ev", "seq"), "seq".into()));
                        }
                        stages.push((
                            keyed.clone(),
                            Select {
                                items: k_items,
                                from: Some(cte("ev", "ev")),
                                joins: vec![cross("moments", "m")],
                                filter: Some(Expr::all(cond)),
                                ..Default::default()
                            },
                        ));
                        let by_key = vec![col("k", "id"), col("k", "key")];
                        stages.push((
                            counted.clone(),
                            Select {
                                items: vec![
                                    (col("k", "id"), "id".into()),
                                    (col("k", "v"), "v".into()),
                                    (col("k", "key"), "key".into()),
                                    (
                                        Expr::Agg {
                                            name: "COUNT",
                                            arg: None,
                                            distinct: false,
                                            filter: None,
                                        }
                                        .window_over(by_key.clone()),
                                        "n".into(),
                                    ),
                                    (
                                        Expr::RowNumber {
                                            partition: by_key,
                                            order: self.event_order("k", false),
                                        },
                                        "occ".into(),
                                    ),
                                ],
                                from: Some(cte(&keyed, "k")),
                                ..Default::default()
                            },
                        ));
                        let key = match self.d.byte_collation() {
                            Some(c) => Expr::Collate {
                                expr: Box::new(col("q", "key")),
                                collation: c,
                            },
                            None => col("q", "key"),
                        };
                        Select {
                            items: vec![
                                (col("q", "id"), "id".into()),
                                (col("q", "v"), "v".into()),
                                (
                                    Expr::RowNumber {
                                        partition: vec![col("q", "id")],
                                        order: vec![(col("q", "n"), true), (key, false)],
                                    },
                                    "rn".into(),
                                ),
                            ],
                            from: Some(cte(&counted, "q")),
                            filter: Some(col("q", "occ").bin("=", Expr::int(1))),
                            ..Default::default()
                        }
                    } else {
                        let desc = matches!(a.kind, AggKind::Last { .. });
                        Select {
                            items: vec![
                                (col("ev", "contact_id"), "id".into()),
                                (field(f), "v".into()),
                                (
                                    Expr::RowNumber {
                                        partition: vec![col("ev", "contact_id")],
                                        order: self.event_order("ev", desc),
                                    },
                                    "rn".into(),
                                ),
                            ],
                            from: Some(cte("ev", "ev")),
                            joins: vec![cross("moments", "m")],
                            filter: Some(Expr::all(cond)),
                            ..Default::default()
                        }
                    };
                    stages.push((rn.clone(), ranked));
                    joins.push(left(
                        cte(&rn, &rn),
                        col(&rn, "id")
                            .bin("=", col("c", self.tables.contacts.column("id")))
                            .bin("AND", col(&rn, "rn").bin("=", Expr::int(1))),
                    ));
                    items.push((col(&rn, "v"), name.clone()));
                    continue;
                }
            };
            grouped.push(simple(g));
            let v = col("g", name.clone());
            items.push((
                match zero {
                    Some(z) => v.or_else(z),
                    None => v,
                },
                name.clone(),
            ));
        }
        if !grouped.is_empty() {
            let mut g_items = vec![(col("ev", "contact_id"), "id".to_string())];
            g_items.extend(grouped);
            stages.insert(
                0,
                (
                    "agg".into(),
                    Select {
                        items: g_items,
                        from: Some(cte("ev", "ev")),
                        joins: vec![cross("moments", "m")],
                        group_by: vec![col("ev", "contact_id")],
                        ..Default::default()
                    },
                ),
            );
            joins.insert(
                0,
                left(
                    cte("agg", "g"),
                    col("g", "id").bin("=", col("c", self.tables.contacts.column("id"))),
                ),
            );
        }
        Ok((stages, joins, items))
    }

    /// For each aggregate, the first definition that uses it (for error messages).
    pub(super) fn aggregate_users(&self) -> BTreeMap<usize, String> {
        let mut out = BTreeMap::new();
        for n in &self.plan.nodes {
            let mut stack = node_exprs(&n.kind);
            if let NodeKind::Score(s) = &n.kind
                && let ScoreBody::Groups(gs) = &s.body
            {
                for r in gs.iter().flat_map(|g| &g.rules) {
                    if let RuleKind::Per { points_of, .. } = r.kind {
                        out.entry(points_of).or_insert_with(|| n.name.clone());
                    }
                }
            }
            while let Some(e) = stack.pop() {
                if let P::Agg(i) = e {
                    out.entry(*i).or_insert_with(|| n.name.clone());
                }
                stack.extend(children(e));
            }
        }
        out
    }

    fn history(&self) -> Result<Parts, SqlError> {
        let mut stages = Vec::new();
        let mut joins = Vec::new();
        let mut items = Vec::new();
        let ch = &self.tables.changes;
        let cid = col("c", self.tables.contacts.column("id"));
        let mut attrs: Vec<usize> = self
            .hist
            .iter()
            .map(|h| h.attr)
            .chain(self.tests.iter().map(|t| t.attr))
            .collect();
        attrs.sort_unstable();
        attrs.dedup();
        for &i in &attrs {
            let t = self.attr_type(i);
            let value = if t == T::Text {
                col("ch", ch.column("value"))
            } else {
                col("ch", ch.column("value")).cast(sql_type(t))
            };
            let mut order = vec![col("ch", ch.column("at"))];
            let mut log_items = vec![
                (col("ch", ch.column("contact_id")), "contact_id".to_string()),
                (col("ch", ch.column("at")), "at".to_string()),
            ];
            if let Some(o) = &ch.order {
                order.push(col("ch", o.as_str()));
                log_items.push((col("ch", o.as_str()), "seq".into()));
            }
            log_items.push((value.clone(), "value".into()));
            log_items.push((
                Expr::Lag {
                    expr: Box::new(value),
                    partition: vec![col("ch", ch.column("contact_id"))],
                    order,
                },
                "prev".into(),
            ));
            stages.push((
                format!("hx{i}"),
                Select {
                    items: log_items,
                    from: Some(table(ch.name("changes"), "ch")),
                    filter: Some(
                        col("ch", ch.column("attribute")).bin("=", Expr::str(&self.attr_name(i))),
                    ),
                    ..Default::default()
                },
            ));
            let hl = format!("hl{i}");
            stages.push((
                hl.clone(),
                Select {
                    distinct: true,
                    items: vec![(col("h", "contact_id"), "id".into())],
                    from: Some(cte(&format!("hx{i}"), "h")),
                    ..Default::default()
                },
            ));
            joins.push(left(cte(&hl, &hl), col(&hl, "id").bin("=", cid.clone())));
        }
        let has_log = |i: usize| col(&format!("hl{i}"), "id").is_null(true);
        let source = |i: usize| col("c", self.source_attr(i));
        let read = |j: usize, attr: usize| {
            let h = format!("h{j}");
            Expr::iff(has_log(attr), col(&h, "v"), source(attr))
        };
        for (j, h) in self.hist.iter().enumerate() {
            let name = format!("h{j}");
            let mut order = vec![(col("h", "at"), true)];
            if self.tables.changes.order.is_some() {
                order.push((col("h", "seq"), true));
            }
            stages.push((
                name.clone(),
                Select {
                    items: vec![
                        (col("h", "contact_id"), "id".into()),
                        (col("h", "value"), "v".into()),
                        (
                            Expr::RowNumber {
                                partition: vec![col("h", "contact_id")],
                                order,
                            },
                            "rn".into(),
                        ),
                    ],
                    from: Some(cte(&format!("hx{}", h.attr), "h")),
                    joins: vec![cross("moments", "m")],
                    filter: Some(col("h", "at").bin("<=", h.instant.clone())),
                    ..Default::default()
                },
            ));
            joins.push(left(
                cte(&name, &name),
                col(&name, "id")
                    .bin("=", cid.clone())
                    .bin("AND", col(&name, "rn").bin("=", Expr::int(1))),
            ));
            items.push((read(j, h.attr), h.col.clone()));
        }
        for (k, test) in self.tests.iter().enumerate() {
            let name = format!("wt{k}");
            stages.push((
                name.clone(),
                Select {
                    items: vec![
                        (col("h", "contact_id"), "id".into()),
                        (self.d.bool_or(test.entry.clone()), "hit".into()),
                    ],
                    from: Some(cte(&format!("hx{}", test.attr), "h")),
                    joins: vec![cross("moments", "m")],
                    group_by: vec![col("h", "contact_id")],
                    ..Default::default()
                },
            ));
            joins.push(left(
                cte(&name, &name),
                col(&name, "id").bin("=", cid.clone()),
            ));
            let t = self.attr_type(test.attr);
            let hit = col(&name, "hit").or_else(Expr::bool(false));
            let start = match test.held {
                Held::No => None,
                Held::At(j) => Some(read(j, test.attr)),
                Held::BeforeHistory => Some(Expr::iff(
                    has_log(test.attr),
                    Expr::Lit(Lit::Null),
                    source(test.attr),
                )),
            };
            let w = match start {
                Some(s) => self
                    .compare_raw(BinOp::Eq, s, t, test.want.clone(), t)?
                    .or_else(Expr::bool(false))
                    .bin("OR", hit),
                None => hit,
            };
            items.push((w, test.col.clone()));
        }
        Ok((stages, joins, items))
    }

    pub(super) fn accounts_base(&self) -> Select {
        let amap = &self.tables.accounts;
        let mut items = vec![(col("x", amap.column("id")), "id".to_string())];
        for f in &self.plan.schema.account {
            if self.read.account.contains(&f.name) {
                items.push((col("x", amap.column(&f.name)), self.account_col(&f.name)));
            }
        }
        Select {
            items,
            from: Some(table(amap.name("accounts"), "x")),
            ..Default::default()
        }
    }

    pub(super) fn rollup_stage(&self, first: usize, contacts: &str, accounts: &str) -> Select {
        let acct = self.cols.account_id.as_str();
        let mut items = vec![(col("p", acct), "id".to_string())];
        for (r, name) in self.rollups.iter().skip(first) {
            items.push((r.clone(), name.clone()));
        }
        Select {
            items,
            from: Some(cte(contacts, "p")),
            joins: vec![
                left(
                    cte(accounts, "an"),
                    col("an", "id").bin("=", col("p", acct)),
                ),
                cross("moments", "m"),
            ],
            filter: Some(col("p", acct).is_null(true)),
            group_by: vec![col("p", acct)],
            ..Default::default()
        }
    }
}
