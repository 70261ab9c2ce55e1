//! Importing other tools' configs into rel's.

pub mod goreleaser;
pub mod gotmpl;
pub mod yaml;
