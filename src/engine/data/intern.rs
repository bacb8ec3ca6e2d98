//! One shared copy of each text the change log repeats: the few distinct values of
//! most attributes with history (stages, owners) then take one allocation per part of
//! a file instead of one per row.

use crate::plan::types::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// Most distinct texts remembered: past this, new texts are kept as they are.
const MAX_REMEMBERED: usize = 1 << 12;

/// The texts seen so far.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    seen: HashSet<Arc<str>, foldhash::fast::FixedState>,
}

impl Interner {
    /// `v`, its text replaced by the copy seen before when there is one.
    pub fn share(&mut self, v: Option<Value>) -> Option<Value> {
        let Some(Value::Text(t)) = v else { return v };
        if let Some(seen) = self.seen.get(&*t) {
            return Some(Value::Text(Arc::clone(seen)));
        }
        if self.seen.len() < MAX_REMEMBERED {
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
        let a = i.share(Some(Value::Text("emea".into())));
        let b = i.share(Some(Value::Text("emea".into())));
        match (&a, &b) {
            (Some(Value::Text(x)), Some(Value::Text(y))) => assert!(Arc::ptr_eq(x, y)),
            _ => panic!("texts expected"),
        }
        assert_eq!(i.share(Some(Value::Int(3))), Some(Value::Int(3)));
        assert_eq!(i.share(None), None);
    }

    #[test]
    fn stops_remembering_past_its_limit_but_keeps_every_value() {
        let mut i = Interner::default();
        for n in 0..MAX_REMEMBERED + 10 {
            let v = Some(Value::Text(n.to_string().into()));
            assert_eq!(i.share(v.clone()), v);
        }
        assert_eq!(i.seen.len(), MAX_REMEMBERED);
    }
}
