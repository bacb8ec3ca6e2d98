//! Stage 3: lowering a checked program to an evaluation plan.
