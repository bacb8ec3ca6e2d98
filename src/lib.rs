//! Funnel: a declarative language for marketing segments and lead scores.
//!
//! The pipeline is the module layout: [`syntax`] (parse) → [`check`] (resolve and type)
//! → [`plan`] (lower to an evaluation plan) → [`engine`] (run the plan over contact
//! data), with [`diag`] (diagnostics) and the command line ([`cli`]) at the edges.
//!
//! # Checking rules
//!
//! Sources can come from disk ([`syntax::load_paths`]) or from memory
//! ([`syntax::loader::MemoryFs`]); diagnostics are data.
//!
//! ```
//! use funnel::syntax::loader::{MemoryFs, load_source};
//! use std::path::Path;
//!
//! let mut fs = MemoryFs::new();
//! fs.insert("/project/schema.funnel", "contact { plan: one of (free, pro) }");
//! let rules = "use \"schema.funnel\"\nsegment paying = plan = pr";
//! let loaded = load_source(&fs, Path::new("/project"), Path::new("/project/rules.funnel"), "rules.funnel", rules);
//! let checked = funnel::check::check(&loaded);
//! assert!(checked.program.is_none());
//! let d = &checked.diagnostics[0];
//! assert_eq!(d.code.as_str(), "E0304");
//! assert!(d.help.as_deref().unwrap_or("").contains("`pro`"));
//! ```
//!
//! # Running rules over data
//!
//! Compile a checked program to a [`plan::Plan`] (which can be saved as JSON and loaded
//! again with [`plan::Plan::from_json`]), load data validated against its schema, and
//! run it at a chosen `now`; results are typed, per contact and per account.
//!
//! ```
//! use funnel::engine::data::{Format, LoadOptions, Source, Sources, load_readers};
//! use funnel::syntax::loader::{MemoryFs, load_source};
//! use std::path::Path;
//!
//! let rules = r#"
//!     contact { title: text? }
//!     event page_viewed { url: text }
//!     segment pricing_fans = page_viewed where url starts with "/pricing" at least 2 times
//!     score interest in 0..100 {
//!       decay half_life 30d
//!       +10 per page_viewed
//!       +20 if title = "CEO"
//!     }
//! "#;
//! let loaded = load_source(&MemoryFs::new(), Path::new("/"), Path::new("/rules.funnel"), "rules.funnel", rules);
//! let program = funnel::check::check(&loaded).program.expect("the rules check");
//! let plan = funnel::plan::lower(&program);
//! let plan = funnel::plan::Plan::from_json(&plan.to_json())?; // plans survive JSON
//!
//! let contacts = "id,title\nc1,ceo\nc2,\n";
//! let events = "contact_id,event,at,url\n\
//!               c1,page_viewed,2026-11-20T00:00:00Z,/pricing\n\
//!               c1,page_viewed,2026-10-21T00:00:00Z,/pricing/team\n";
//! let data = load_readers(
//!     &plan.schema,
//!     Sources {
//!         contacts: Source::new("contacts.csv", Format::Csv, contacts.as_bytes()),
//!         events: Some(Source::new("events.csv", Format::Csv, events.as_bytes())),
//!         accounts: None,
//!         changes: None,
//!     },
//!     &LoadOptions::default(),
//! )?;
//! let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")?.to_utc();
//! let results = funnel::engine::run(&plan, &data.dataset, now)?;
//!
//! let c1 = results.contacts.row("c1").expect("c1 is in the data");
//! assert!(c1.in_segment("pricing_fans"));
//! // 10 (today) + 10 × 0.5 (one half-life ago) + 20 (title, case-insensitive)
//! assert_eq!(c1.score("interest"), Some(35.0));
//! assert!(!results.contacts.row("c2").expect("c2").in_segment("pricing_fans"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod engine;
pub mod r#gen;
pub mod limits;
pub mod plan;
pub mod report;
pub mod serve;
pub mod sql;
pub mod syntax;
