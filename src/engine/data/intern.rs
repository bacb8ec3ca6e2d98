//! One shared copy of each text a table column repeats: the few distinct values of
//! most text attributes (regions, stages, countries, owners, account links) then take
//! one allocation per part of a file instead of one per row.

use super::validate::Raw;
use crate::plan::types::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// Most distinct texts remembered per column: past this, new texts are kept as they
/// are (a column of unique texts, such as e-mail addresses, gains nothing).
const MAX_REMEMBERED: usize = 1 << 12;

/// The texts of one column seen so far, each read as itself: a raw text found here was
/// valid for the column and read as the same text before.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    seen: HashSet<Arc<str>, foldhash::fast::FixedState>,
}

impl Interner {
    /// The value of a cell whose raw text was seen before in this column, without
    /// checking or copying it again.
    pub fn known(&self, raw: Raw<'_>) -> Option<Value> {
        let Raw::Text(s) = raw else { return None };
        self.seen.get(s).map(|t| Value::Text(Arc::clone(t)))
    }

    /// `v`, read from `raw`, its text replaced by the copy seen before when there is
    /// one; remembered when it is `raw`'s text itself.
    pub fn share(&mut self, raw: Raw<'_>, v: Option<Value>) -> Option<Value> {
        let Some(Value::Text(t)) = v else { return v };
        if let Some(seen) = self.seen.get(&*t) {
            return Some(Value::Text(Arc::clone(seen)));
        }
        if self.seen.len() < MAX_REMEMBERED && matches!(raw, Raw::Text(s) if *s == *t) {
            self.seen.insert(Arc::clone(&t));
        }
        Some(Value::Text(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_copy_and_other_values_pass_through() {
        let mut i = Interner::default();
        let raw = Raw::Text("emea");
        assert_eq!(i.known(raw), None);
        let a = i.share(raw, Some(Value::Text("emea".into())));
        let b = i.share(raw, Some(Value::Text("emea".into())));
        let c = i.known(raw);
        match (&a, &b, &c) {
            (Some(Value::Text(x)), Some(Value::Text(y)), Some(Value::Text(z))) => {
                assert!(Arc::ptr_eq(x, y) && Arc::ptr_eq(x, z))
            }
            _ => panic!("texts expected"),
        }
        assert_eq!(
            i.share(Raw::Int(3), Some(Value::Int(3))),
            Some(Value::Int(3))
        );
        assert_eq!(i.share(Raw::Missing, None), None);
    }

    #[test]
    fn a_text_read_as_another_is_shared_but_not_known_by_its_raw_text() {
        let mut i = Interner::default();
        i.share(Raw::Int(7), Some(Value::Text("7".into())));
        assert_eq!(i.known(Raw::Text("7")), None);
        assert_eq!(i.known(Raw::Int(7)), None);
    }

    #[test]
    fn stops_remembering_past_its_limit_but_keeps_every_value() {
        let mut i = Interner::default();
        for n in 0..MAX_REMEMBERED + 10 {
            let text = n.to_string();
            let v = Some(Value::Text(text.as_str().into()));
            assert_eq!(i.share(Raw::Text(&text), v.clone()), v);
        }
        assert_eq!(i.seen.len(), MAX_REMEMBERED);
    }
}
