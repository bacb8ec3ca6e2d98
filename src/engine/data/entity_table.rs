//! Contacts column by column: the ids in one buffer, and per attribute a code per
//! contact into that attribute's values. A million contacts with a score of attributes
//! then take a few hundred megabytes instead of a row, a vector and a value per cell.

use super::ContactRow;
use crate::plan::types::Value;
use std::fmt;

/// The rows of a table of contacts (or accounts, while they are read): ids, and per
/// attribute a column of codes. Rows are indexed from 0 in file order.
#[derive(Clone, Default)]
pub struct EntityTable {
    /// Every id, one after the other.
    ids: String,
    /// Where each row's id ends in `ids`.
    id_ends: Vec<usize>,
    attrs: Vec<AttrColumn>,
}

/// One attribute over every row: per row a code, 0 for missing and `k` for
/// `values[k - 1]`. Rows that hold equal values may share a code. A column without
/// values may hold fewer codes than there are rows: the others are 0.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttrColumn {
    codes: Vec<u32>,
    values: Vec<Value>,
}

/// A code that is not missing.
pub(crate) type Code = std::num::NonZeroU32;

impl AttrColumn {
    fn get(&self, row: usize) -> Option<&Value> {
        let code = *self.codes.get(row)?;
        self.values.get(code.checked_sub(1)? as usize)
    }

    /// The codes, first filled up to `rows` rows.
    fn codes_for(&mut self, rows: usize) -> &mut Vec<u32> {
        if self.codes.len() < rows {
            self.codes.resize(rows, 0);
        }
        &mut self.codes
    }

    /// The code of a new distinct value, `None` past `u32::MAX - 1` values.
    pub(crate) fn add(&mut self, v: Value) -> Option<Code> {
        let code = Code::new(u32::try_from(self.values.len() + 1).ok()?)?;
        self.values.push(v);
        Some(code)
    }
}

impl EntityTable {
    /// An empty table of rows with `attrs` attributes.
    pub fn new(attrs: usize) -> EntityTable {
        EntityTable {
            attrs: vec![AttrColumn::default(); attrs],
            ..EntityTable::default()
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.id_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.id_ends.is_empty()
    }

    /// The id of row `row`.
    pub fn id(&self, row: usize) -> Option<&str> {
        let end = *self.id_ends.get(row)?;
        let start = match row.checked_sub(1) {
            Some(before) => *self.id_ends.get(before)?,
            None => 0,
        };
        self.ids.get(start..end)
    }

    /// Every id, in row order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|r| self.id(r).unwrap_or_default())
    }

    /// The row whose id is `id` (a scan: for one look-up, not one per row).
    pub fn position(&self, id: &str) -> Option<usize> {
        self.ids().position(|i| i == id)
    }

    /// Attribute `attr` of row `row` (`None`: missing, or no such row or attribute).
    pub fn get(&self, row: usize, attr: usize) -> Option<&Value> {
        self.attrs.get(attr)?.get(row)
    }

    /// Row `row` as a [`ContactRow`] (a copy).
    pub fn row(&self, row: usize) -> Option<ContactRow> {
        Some(ContactRow {
            id: self.id(row)?.to_owned(),
            attrs: (0..self.attrs.len())
                .map(|a| self.get(row, a).cloned())
                .collect(),
        })
    }

    /// Every row as a [`ContactRow`] (copies), in order.
    pub fn rows(&self) -> impl Iterator<Item = ContactRow> + '_ {
        (0..self.len()).filter_map(|r| self.row(r))
    }

    /// Appends a row; an attribute past the table's gets a column of its own.
    pub fn push(&mut self, row: ContactRow) {
        let ContactRow { id, attrs } = row;
        if self.attrs.len() < attrs.len() {
            self.attrs.resize_with(attrs.len(), AttrColumn::default);
        }
        let codes: Vec<u32> = self
            .attrs
            .iter_mut()
            .zip(attrs)
            .map(|(col, v)| v.and_then(|v| col.add(v)).map_or(0, Code::get))
            .collect();
        self.push_coded(&id, &codes);
    }

    /// Appends a row of codes already in the columns (`codes[a]` for attribute `a`;
    /// attributes past `codes` are missing).
    pub(crate) fn push_coded(&mut self, id: &str, codes: &[u32]) {
        let len = self.len();
        for (col, &code) in self.attrs.iter_mut().zip(codes) {
            if code != 0 || !col.codes.is_empty() {
                col.codes_for(len).push(code);
            }
        }
        self.push_id(id);
    }

    fn push_id(&mut self, id: &str) {
        self.ids.push_str(id);
        self.id_ends.push(self.ids.len());
    }

    /// The column of attribute `attr`, to add values to.
    pub(crate) fn column_mut(&mut self, attr: usize) -> Option<&mut AttrColumn> {
        self.attrs.get_mut(attr)
    }

    /// Appends the rows of `other` (with the same attributes), its codes moved past
    /// this table's values.
    pub(crate) fn append(&mut self, other: EntityTable) {
        let (len, offset) = (self.len(), self.ids.len());
        self.ids.push_str(&other.ids);
        self.id_ends
            .extend(other.id_ends.iter().map(|&end| end + offset));
        for (col, theirs) in self.attrs.iter_mut().zip(other.attrs) {
            if theirs.codes.is_empty() {
                continue;
            }
            let shift = u32::try_from(col.values.len()).unwrap_or(u32::MAX);
            col.codes_for(len).extend(
                theirs
                    .codes
                    .iter()
                    .map(|&c| if c == 0 { 0 } else { c.saturating_add(shift) }),
            );
            col.values.extend(theirs.values);
        }
    }

    /// Releases spare capacity (after loading), and the codes of columns without
    /// values.
    pub fn shrink_to_fit(&mut self) {
        self.ids.shrink_to_fit();
        self.id_ends.shrink_to_fit();
        for col in &mut self.attrs {
            if col.values.is_empty() {
                col.codes = Vec::new();
            }
            col.codes.shrink_to_fit();
            col.values.shrink_to_fit();
        }
    }
}

impl FromIterator<ContactRow> for EntityTable {
    fn from_iter<I: IntoIterator<Item = ContactRow>>(rows: I) -> EntityTable {
        let mut table = EntityTable::default();
        for row in rows {
            table.push(row);
        }
        table
    }
}

impl From<Vec<ContactRow>> for EntityTable {
    fn from(rows: Vec<ContactRow>) -> EntityTable {
        rows.into_iter().collect()
    }
}

/// Tables are equal when their rows are: the same ids and values, however coded.
impl PartialEq for EntityTable {
    fn eq(&self, other: &EntityTable) -> bool {
        let attrs = self.attrs.len().max(other.attrs.len());
        self.len() == other.len()
            && (0..self.len()).all(|r| {
                self.id(r) == other.id(r) && (0..attrs).all(|a| self.get(r, a) == other.get(r, a))
            })
    }
}

impl fmt::Debug for EntityTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.rows()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, attrs: Vec<Option<Value>>) -> ContactRow {
        ContactRow {
            id: id.to_owned(),
            attrs,
        }
    }

    #[test]
    fn rows_read_back_as_pushed() {
        let rows = vec![
            row("c1", vec![Some(Value::Int(3)), None]),
            row("", vec![None, Some(Value::Text("x".into()))]),
            row("c333", vec![Some(Value::Bool(true)), None]),
        ];
        let table = EntityTable::from(rows.clone());
        assert_eq!(table.len(), 3);
        assert_eq!(table.rows().collect::<Vec<_>>(), rows);
        assert_eq!(table.ids().collect::<Vec<_>>(), ["c1", "", "c333"]);
        assert_eq!(table.position("c333"), Some(2));
        assert_eq!(table.position("c4"), None);
        assert_eq!(table.get(1, 1), Some(&Value::Text("x".into())));
        assert_eq!(table.get(1, 0), None);
        assert_eq!(table.get(3, 0), None);
        assert_eq!(table.get(0, 2), None);
    }

    #[test]
    fn a_longer_row_adds_columns_missing_in_earlier_rows() {
        let table: EntityTable = [row("a", vec![]), row("b", vec![Some(Value::Int(1))])]
            .into_iter()
            .collect();
        assert_eq!(table.row(0), Some(row("a", vec![None])));
        assert_eq!(table.row(1), Some(row("b", vec![Some(Value::Int(1))])));
    }

    #[test]
    fn appending_moves_codes_past_the_values_already_there() {
        let mut a = EntityTable::from(vec![row("a", vec![Some(Value::Int(1)), None])]);
        let b = EntityTable::from(vec![
            row("b", vec![Some(Value::Int(2)), Some(Value::Int(5))]),
            row("c", vec![None, Some(Value::Int(6))]),
        ]);
        a.append(b.clone());
        let mut want = vec![row("a", vec![Some(Value::Int(1)), None])];
        want.extend(b.rows());
        assert_eq!(a.rows().collect::<Vec<_>>(), want);
        assert_eq!(a, EntityTable::from(want));
    }

    #[test]
    fn columns_hold_no_codes_until_a_value_comes() {
        let mut a = EntityTable::new(2);
        a.push_coded("a", &[0, 0]);
        let one = a
            .column_mut(1)
            .and_then(|c| c.add(Value::Int(1)))
            .map_or(0, Code::get);
        a.push_coded("b", &[0, one]);
        assert!(a.attrs.iter().all(|c| c.codes.len() < 3));
        let mut b = EntityTable::new(2);
        let two = b
            .column_mut(0)
            .and_then(|c| c.add(Value::Int(2)))
            .map_or(0, Code::get);
        b.push_coded("c", &[0, 0]);
        b.push_coded("d", &[two, 0]);
        a.append(b);
        a.push_coded("e", &[0, 0]);
        a.shrink_to_fit();
        let want = |id: &str, x: Option<i64>, y: Option<i64>| {
            row(id, vec![x.map(Value::Int), y.map(Value::Int)])
        };
        assert_eq!(
            a.rows().collect::<Vec<_>>(),
            [
                want("a", None, None),
                want("b", None, Some(1)),
                want("c", None, None),
                want("d", Some(2), None),
                want("e", None, None),
            ]
        );
        let empty = EntityTable::from(vec![row("x", vec![None]), row("y", vec![None])]);
        let mut shrunk = empty.clone();
        shrunk.shrink_to_fit();
        assert!(shrunk.attrs.iter().all(|c| c.codes.is_empty()));
        assert_eq!(shrunk, empty);
    }

    #[test]
    fn shared_codes_read_the_same_value() {
        let mut t = EntityTable::new(1);
        let code = t
            .column_mut(0)
            .and_then(|c| c.add(Value::Text("emea".into())))
            .map_or(0, Code::get);
        t.push_coded("a", &[code]);
        t.push_coded("b", &[0]);
        t.push_coded("c", &[code]);
        assert_eq!(t.get(0, 0), t.get(2, 0));
        assert_eq!(t.get(1, 0), None);
        assert_ne!(t, EntityTable::from(vec![row("a", vec![None])]));
    }
}
