//! rel: a declarative release manager.
//!
//! The library does the work; `main.rs` only parses the command line and maps errors to
//! exit codes. Data flows one way: config → context → plan → stages → `dist/`.

pub mod artifact;
pub mod cargo_meta;
pub mod changelog;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod dist;
pub mod error;
pub mod exec;
pub mod fileset;
pub mod git;
pub mod git_remote;
pub mod github;
pub mod hash;
pub mod import;
pub mod init;
pub mod interrupt;
pub mod keys;
pub mod manifest_files;
pub mod oci;
pub mod oci_ref;
pub mod options;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod redact;
pub mod retry;
pub mod sbom;
pub mod schema;
pub mod slots;
pub mod split;
pub mod stage;
pub mod suggest;
pub mod summary;
pub mod target;
pub mod template;
pub mod verify;

pub use error::{Error, Result};
