//! The page's rules as plain data: form drafts and their validation, the fold of worker reports
//! into what a widget shows, filters, deep links, chart geometry. No signals and no DOM, so it
//! builds natively and every rule is unit-tested; `state` wraps these in signals.

pub mod agents;
pub mod audit;
pub mod beyond;
pub mod cam_choice;
pub mod chart;
pub mod control;
pub mod draft;
pub mod explore;
pub mod gallery;
pub mod gan;
pub mod methods;
pub mod model_note;
pub mod prototypes;
pub mod published;
pub mod resolution;
pub mod run;
pub mod served;
pub mod side_job;
pub mod threads;
