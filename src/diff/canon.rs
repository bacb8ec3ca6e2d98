//! Definitions compared by meaning: a node's plan JSON with every reference to another
//! node, aggregate or moment replaced by what it refers to, so that two plans compare
//! equal where the rules say the same, whatever the numbering.

use super::Definitions;
use crate::plan::{NodeId, Plan};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// The canonical JSON of each output definition at `now`, by name.
pub fn of(plan: &Plan) -> BTreeMap<String, Json> {
    plan.nodes
        .iter()
        .filter(|n| n.output)
        .map(|n| {
            let mut kind = serde_json::to_value(&n.kind).unwrap_or(Json::Null);
            resolve(plan, &mut kind);
            let mut obj = serde_json::Map::new();
            obj.insert(
                "scope".into(),
                serde_json::to_value(n.scope).unwrap_or(Json::Null),
            );
            obj.insert("kind".into(), kind);
            (n.name.clone(), Json::Object(obj))
        })
        .collect()
}

/// A node as `name@moment`.
fn node_ref(plan: &Plan, id: NodeId) -> Json {
    match plan.nodes.get(id) {
        Some(n) => Json::String(format!("{}@{}", n.name, moment_label(plan, n.moment))),
        None => Json::Null,
    }
}

fn moment_label(plan: &Plan, id: usize) -> String {
    plan.moments
        .get(id)
        .map_or_else(String::new, crate::plan::display::moment)
}

/// Replaces references by their targets, in place.
fn resolve(plan: &Plan, v: &mut Json) {
    match v {
        Json::Array(xs) => xs.iter_mut().for_each(|x| resolve(plan, x)),
        Json::Object(map) => {
            for (key, x) in map.iter_mut() {
                let Some(id) = x.as_u64().and_then(|i| usize::try_from(i).ok()) else {
                    resolve(plan, x);
                    continue;
                };
                *x = match key.as_str() {
                    "node" | "account_node" | "score" => node_ref(plan, id),
                    "agg" | "points_of" | "count" => aggregate(plan, id),
                    "moment" => Json::String(moment_label(plan, id)),
                    _ => continue,
                };
            }
        }
        _ => {}
    }
}

fn aggregate(plan: &Plan, id: usize) -> Json {
    let Some(a) = plan.aggregates.get(id) else {
        return Json::Null;
    };
    let mut v = serde_json::to_value(a).unwrap_or(Json::Null);
    if let Some(obj) = v.as_object_mut() {
        // The label is how the rule file spelt it; the rest is what it means.
        obj.remove("label");
    }
    resolve(plan, &mut v);
    v
}

/// Definitions added, removed, renamed (same meaning, new name) and changed.
pub fn definitions(old: Option<&Plan>, new: Option<&Plan>) -> Definitions {
    let a = old.map(of).unwrap_or_default();
    let b = new.map(of).unwrap_or_default();
    let mut removed: Vec<String> = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    let mut added: Vec<String> = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    let mut renamed = Vec::new();
    removed.retain(|r| {
        let Some(i) = added.iter().position(|n| a.get(r) == b.get(n)) else {
            return true;
        };
        renamed.push((r.clone(), added.remove(i)));
        false
    });
    let changed = a
        .iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k.clone())
        .collect();
    Definitions {
        added,
        removed,
        renamed,
        changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(src: &str) -> Plan {
        crate::plan::lower(&crate::check::check_text("r.funnel", src).program.unwrap())
    }

    #[test]
    fn renamed_added_removed_and_changed() {
        let schema = "contact { age: int? }\nevent click {}\n";
        let old = plan(&format!(
            "{schema}segment x = click within 7d\nsegment a = age > 3\nsegment gone = age > 9\n\
             segment uses = a and x\n"
        ));
        let new = plan(&format!(
            "{schema}segment y = click within 7d\nsegment a = age > 4\nsegment fresh = age < 1\n\
             segment uses = a and y\n"
        ));
        let d = definitions(Some(&old), Some(&new));
        assert_eq!(d.renamed, vec![("x".to_string(), "y".to_string())]);
        assert_eq!(d.added, vec!["fresh".to_string()]);
        assert_eq!(d.removed, vec!["gone".to_string()]);
        assert_eq!(d.changed, vec!["a".to_string(), "uses".to_string()]);
        assert_eq!(definitions(Some(&old), Some(&old)), Definitions::default());
    }
}
