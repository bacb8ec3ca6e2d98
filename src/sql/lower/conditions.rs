//! Event conditions read by more than one aggregate (a signal counted and scored, or
//! read at several moments), computed once as a column of `ev` named after the signal
//! (`readiness_page`, or `page_viewed_where_url_starts_with_product_crm` for an event
//! type filtered in place): the aggregates' filters read the column.

use super::*;

/// The shared conditions: `ev`'s columns for them (over the events table `e`), and the
/// column of each aggregate reading one.
#[derive(Default)]
pub(super) struct Shared {
    pub(super) items: Vec<(Expr, String)>,
    pub(super) of: BTreeMap<usize, String>,
}

impl Compiler<'_> {
    /// An aggregate's event type and its filter, each as a condition over `ev`.
    pub(super) fn event_parts(
        &mut self,
        a: &crate::plan::Aggregate,
    ) -> Result<(Option<Expr>, Option<Expr>), SqlError> {
        let event = match &a.event {
            EventSel::Type(t) => Some(col("ev", "event").bin("=", Expr::str(t))),
            _ => None,
        };
        let filter = match &a.filter {
            Some(f) => Some(self.truthy(f, Ctx::Event)?),
            None => None,
        };
        Ok((event, filter))
    }

    /// The conditions more than one aggregate reads.
    pub(super) fn shared_conditions(&mut self) -> Result<Shared, SqlError> {
        let users = self.aggregate_users();
        let mut seen: Vec<(Expr, Vec<usize>)> = Vec::new();
        for (i, a) in self.plan.aggregates.iter().enumerate() {
            self.rule = users.get(&i).cloned().unwrap_or_else(|| a.label.clone());
            let (event, Some(filter)) = self.event_parts(a)? else {
                continue;
            };
            let cond = Expr::all(event.into_iter().chain([filter]).collect());
            match seen.iter_mut().find(|(c, _)| *c == cond) {
                Some((_, readers)) => readers.push(i),
                None => seen.push((cond, vec![i])),
            }
        }
        let e = &self.tables.events;
        let mut names = names::Names::default();
        for taken in ["contact_id", "event", "at", "seq", "age_s"] {
            names.take(taken);
        }
        for f in self.fields.keys() {
            names.take(&format!("f_{f}"));
        }
        let raw = |name: &str| -> String {
            match name {
                "seq" => e.order.clone().unwrap_or_default(),
                "event" | "at" => e.column(name).to_string(),
                _ => e
                    .column(name.strip_prefix("f_").unwrap_or(name))
                    .to_string(),
            }
        };
        let mut shared = Shared::default();
        for (cond, readers) in seen.into_iter().filter(|(_, r)| r.len() > 1) {
            let label = readers
                .first()
                .and_then(|i| self.plan.aggregates.get(*i))
                .map(condition_name)
                .unwrap_or_default();
            let name = names.take(&label);
            let over_e = cond.map_cols(&|t, n| (t == "ev").then(|| col("e", raw(n))));
            shared.items.push((over_e, name.clone()));
            for i in readers {
                shared.of.insert(i, name.clone());
            }
        }
        Ok(shared)
    }
}

/// A filtered aggregate's condition named after its signal: the word before ` where `
/// in its label (`count(readiness_page where url starts with …)`), or, when that is
/// the event type itself, the event and its condition up to the window or decay.
fn condition_name(a: &crate::plan::Aggregate) -> String {
    let label = a.label.as_str();
    let Some(w) = label.find(" where ") else {
        return "condition".into();
    };
    let signal = label
        .get(..w)
        .and_then(|h| h.rsplit(['(', ' ']).next())
        .unwrap_or_default();
    let rest = label.get(w + " where ".len()..).unwrap_or_default();
    let cut = [
        ", half_life",
        ", decay",
        " within ",
        " between ",
        " since ",
        " before ",
        " after ",
        " in the last ",
        " as of ",
    ]
    .iter()
    .filter_map(|m| rest.find(m))
    .min()
    .unwrap_or(rest.len());
    let is_event = matches!(&a.event, EventSel::Type(t) if t == signal);
    if is_event || signal.is_empty() {
        names::ident_of(&format!(
            "{signal} where {}",
            rest.get(..cut).unwrap_or_default()
        ))
    } else {
        names::ident_of(signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(label: &str, event: &str) -> String {
        condition_name(&crate::plan::Aggregate {
            label: label.into(),
            moment: 0,
            event: EventSel::Type(event.into()),
            filter: None,
            window: Window::Ever,
            kind: AggKind::Count,
        })
    }

    #[test]
    fn conditions_are_named_after_their_signal() {
        let readiness = "points(per readiness_page where url starts with (\"/pricing\", \"/demo\"), half_life 90d)";
        assert_eq!(named(readiness, "page_viewed"), "readiness_page");
        assert_eq!(
            named(
                "count(page_viewed where url starts with \"/product/crm\" within 30d)",
                "page_viewed"
            ),
            "page_viewed_where_url_starts_with_product_crm"
        );
        assert_eq!(
            named(
                "points(percent per video_watched where video starts with \"demo\", decay 25% every 30d)",
                "video_watched"
            ),
            "video_watched_where_video_starts_with_demo"
        );
        assert_eq!(named("count(page_viewed)", "page_viewed"), "condition");
    }
}
