//! Stage 2: name resolution, types and program-level checks.
