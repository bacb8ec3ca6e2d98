//! Differential property test: random rule programs over random data, evaluated by the
//! engine (through the plan) and by the naive reference evaluator (straight from the
//! checked program). They must agree exactly, for every contact, account and definition.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::generate::{SCHEMA, data, now, program};
use common::reference::Reference;
use funnel::engine::data::Dataset;
use proptest::prelude::*;

fn compare(src: &str, data: &Dataset) -> Result<(), TestCaseError> {
    let program = match common::check_with_schema(SCHEMA, src) {
        Ok(p) => p,
        Err(e) => return Err(TestCaseError::fail(format!("generated program {e}"))),
    };
    let plan = funnel::plan::lower(&program);
    let results = funnel::engine::run(&plan, data, now()).unwrap();
    let reference = Reference {
        program: &program,
        data,
        now: now(),
    };
    for (i, id) in results.contacts.ids.iter().enumerate() {
        let row = results.contacts.row(id).unwrap();
        for (name, want) in reference.contact(i) {
            prop_assert_eq!(
                row.get(&name),
                want,
                "contact `{}`, `{}` in\n{}",
                id,
                name,
                src
            );
        }
    }
    for (i, id) in results.accounts.ids.iter().enumerate() {
        let row = results.accounts.row(id).unwrap();
        for (name, want) in reference.account(i) {
            prop_assert_eq!(
                row.get(&name),
                want,
                "account `{}`, `{}` in\n{}",
                id,
                name,
                src
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::default())]
    #[test]
    fn engine_agrees_with_reference(src in program(), data in data()) {
        compare(&src, &data)?;
    }
}
