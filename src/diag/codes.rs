//! The registry of diagnostic codes. Codes are stable: never renumber or reuse one.
//! `docs/diagnostics.md` documents each (a test keeps the two in step).

use super::Severity;
use serde::Serialize;

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( #[doc = $title] $variant, )* }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The code as printed: `E0301`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// A short title for the code.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }

            /// The severity diagnostics with this code have.
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }
        }
    };
}

codes! {
    // input and syntax
    Syntax            = "E0101", Error, "syntax error";
    InvalidLiteral    = "E0102", Error, "invalid literal";
    TooDeep           = "E0103", Error, "nesting too deep";
    TooLarge          = "E0104", Error, "input too large";
    InvalidRegex      = "E0105", Error, "invalid regular expression";
    // imports
    ImportNotFound    = "E0201", Error, "imported file not found";
    ImportCycle       = "E0202", Error, "import cycle";
    ImportOutside     = "E0203", Error, "import outside the project folder";
    // names
    UnknownName       = "E0301", Error, "unknown name";
    Duplicate         = "E0302", Error, "duplicate definition";
    UnknownField      = "E0303", Error, "unknown event field";
    UnknownEnumValue  = "E0304", Error, "unknown enum value";
    UnknownType       = "E0305", Error, "unknown type";
    // types
    TypeMismatch      = "E0401", Error, "type mismatch";
    NonNumericAgg     = "E0402", Error, "aggregate over a non-numeric field";
    BadOperand        = "E0403", Error, "operator does not apply to this type";
    BadWindow         = "E0404", Error, "window on something that has no time";
    NoHistory         = "E0405", Error, "attribute has no history";
    BadAsOf           = "E0406", Error, "cannot be read as of an earlier moment";
    BadDecay          = "E0407", Error, "invalid decay";
    WrongScope        = "E0408", Error, "contact and account scopes mixed";
    NotAStream        = "E0409", Error, "not an event stream";
    CalendarDuration  = "E0410", Error, "duration without a fixed length";
    // structure
    Cycle             = "E0501", Error, "definitions depend on each other in a cycle";
    TierGap           = "E0502", Error, "tiers leave a gap";
    TierOverlap       = "E0503", Error, "tiers overlap";
    NeverTrue         = "E0504", Error, "condition can never be true";
    BadTopN           = "E0505", Error, "`top N` needs N of at least 1";
    BadRange          = "E0506", Error, "range is empty or reversed";
    RepeatedModifier  = "E0507", Error, "modifier written twice";
    BadSchema         = "E0508", Error, "invalid schema";
    FractionalBound   = "E0509", Error, "tier bound is not a whole number";
    // warnings
    UnusedSignal      = "W0101", Warning, "unused signal";
    OpensOnly         = "W0102", Warning, "segment rests on email opens alone";
    NoDecay           = "W0103", Warning, "score never decays";
    AlwaysTrue        = "W0104", Warning, "condition is always true";
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
