//! The code each raw cell of a contact or account column got before: a cell seen
//! again is neither checked nor stored again, so the few distinct values of most
//! attributes (regions, stages, countries, owners, ages, account links) are held once
//! per part of a file.

use super::tables::FastMap;
use super::validate::Raw;

/// Most distinct raw cells remembered per column: past this, new cells are checked and
/// stored one by one (a column of unique texts, such as e-mail addresses, gains
/// nothing from remembering them).
const MAX_REMEMBERED: usize = 1 << 12;

/// A raw cell that is not text, as a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    /// The bits of the float, so that `0.0` and `-0.0` are different cells.
    Float(u64),
    Bool(bool),
    /// Microseconds since the epoch.
    Time(i64),
}

impl Key {
    fn of(raw: Raw<'_>) -> Option<Key> {
        match raw {
            Raw::Int(i) => Some(Key::Int(i)),
            Raw::Float(f) => Some(Key::Float(f.to_bits())),
            Raw::Bool(b) => Some(Key::Bool(b)),
            Raw::Time(t) => Some(Key::Time(t)),
            Raw::Missing | Raw::Text(_) | Raw::Other(_) => None,
        }
    }
}

/// The raw cells of one column seen so far and their codes.
#[derive(Debug, Default)]
pub(crate) struct Dictionary {
    texts: FastMap<Box<str>, u32>,
    others: FastMap<Key, u32>,
}

impl Dictionary {
    /// The code a cell equal to `raw` got before, if one did.
    pub fn code(&self, raw: Raw<'_>) -> Option<u32> {
        match raw {
            Raw::Text(s) => self.texts.get(s).copied(),
            other => self.others.get(&Key::of(other)?).copied(),
        }
    }

    /// Remembers that `raw` got `code` (while fewer than the limit are remembered).
    pub fn remember(&mut self, raw: Raw<'_>, code: u32) {
        match raw {
            Raw::Text(s) if self.texts.len() < MAX_REMEMBERED => {
                self.texts.insert(s.into(), code);
            }
            other => {
                if let Some(key) = Key::of(other)
                    && self.others.len() < MAX_REMEMBERED
                {
                    self.others.insert(key, code);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_seen_before_have_their_codes_back() {
        let mut d = Dictionary::default();
        assert_eq!(d.code(Raw::Text("emea")), None);
        d.remember(Raw::Text("emea"), 1);
        d.remember(Raw::Int(7), 2);
        d.remember(Raw::Float(-0.0), 3);
        d.remember(Raw::Missing, 4);
        assert_eq!(d.code(Raw::Text("emea")), Some(1));
        assert_eq!(d.code(Raw::Int(7)), Some(2));
        assert_eq!(d.code(Raw::Text("7")), None);
        assert_eq!(d.code(Raw::Float(-0.0)), Some(3));
        assert_eq!(d.code(Raw::Float(0.0)), None);
        assert_eq!(d.code(Raw::Missing), None);
    }

    #[test]
    fn stops_remembering_past_its_limit() {
        let mut d = Dictionary::default();
        for n in 0..MAX_REMEMBERED + 10 {
            d.remember(Raw::Text(&n.to_string()), n as u32);
            d.remember(Raw::Int(n as i64), n as u32);
        }
        assert_eq!(d.texts.len(), MAX_REMEMBERED);
        assert_eq!(d.others.len(), MAX_REMEMBERED);
        assert_eq!(d.code(Raw::Text(&MAX_REMEMBERED.to_string())), None);
    }
}
