//! Where the data lives: the warehouse tables and columns the compiled SQL reads.
//!
//! Every table has a canonical shape (the one `docs/data.md` gives the files): contacts
//! (`id` + attributes), events (`contact_id`, `event`, `at` + fields), accounts (`id` +
//! attributes) and the attribute change log (`contact_id`, `attribute`, `value`, `at`).
//! A mapping renames tables and columns; names it does not mention stay canonical.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One table's place and column names.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMap {
    /// The table, possibly qualified (`analytics.events`).
    pub table: Option<String>,
    /// Canonical column name → the table's column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// A column giving the rows' original order (events and changes only): ties in
    /// time are broken by it, as the native engine breaks them by file order.
    pub order: Option<String>,
}

/// The four tables.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    #[serde(default)]
    pub contacts: TableMap,
    #[serde(default)]
    pub events: TableMap,
    #[serde(default)]
    pub accounts: TableMap,
    #[serde(default)]
    pub changes: TableMap,
}

impl Tables {
    /// Reads a mapping file (TOML).
    pub fn from_toml(text: &str) -> Result<Tables, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
    }
}

impl TableMap {
    /// The table's name split into its dotted parts, `default` when unmapped.
    pub fn name(&self, default: &str) -> Vec<String> {
        self.table
            .as_deref()
            .unwrap_or(default)
            .split('.')
            .map(str::to_string)
            .collect()
    }

    /// The table's column for a canonical column name.
    pub fn column<'m>(&'m self, canonical: &'m str) -> &'m str {
        self.columns
            .get(canonical)
            .map(String::as_str)
            .unwrap_or(canonical)
    }
}
