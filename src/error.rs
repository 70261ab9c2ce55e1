//! The one error type of the library and its mapping to exit codes.
//!
//! Exit code 2 means "your input is wrong and nothing has happened yet" (usage, config,
//! template); exit code 1 means "something failed while running". Keeping that split in the
//! type, rather than deciding it in `main`, means each layer states which kind it raises.

use std::path::PathBuf;

/// Everything that can stop `rel`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line mistake.
    #[error("{0}")]
    Usage(String),
    /// A config error, already rendered with file, line, column and the offending line.
    #[error("{0}")]
    Config(String),
    /// A template that does not parse or render.
    #[error("template error in `{key}`: {message}\n  template: {template}")]
    Template {
        key: String,
        template: String,
        message: String,
    },
    /// The repository is not in a state this command can work from (untagged, dirty, …).
    #[error("{0}")]
    State(String),
    /// A build (or hook) process failed.
    #[error("{0}")]
    Build(String),
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Work given up because another task failed first (not a cause in itself: the first
    /// real failure is reported instead).
    #[error("{0}")]
    Cancelled(String),
    /// Any other failure while running.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The process exit code for this error: 2 for input errors found before any side
    /// effect, 1 for failures while running.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Template { .. } => 2,
            _ => 1,
        }
    }

    /// An I/O error with the path it concerned.
    pub fn io(
        context: impl std::fmt::Display,
        path: &std::path::Path,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            context: format!("{context} {}", path.display()),
            source,
        }
    }
}

/// Attach a path to an `std::io::Result`.
pub trait IoContext<T> {
    /// Map the error to [`Error::Io`] naming what was being done and to which path.
    fn ctx(self, what: &str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: &str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(what, &path.into(), e))
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
