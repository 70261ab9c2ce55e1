//! The `rel` binary: parse the command line, run, map errors to exit codes.

use clap::Parser;
use rel::cli::{Cli, Color};
use std::io::IsTerminal;

fn init_logging(cli: &Cli) {
    let level = if cli.global.quiet {
        "warn"
    } else if cli.global.verbose {
        "debug"
    } else {
        "info"
    };
    let color = match cli.global.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .without_time()
        .with_target(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!("rel={level}")))
        .init();
    rel::progress::set_quiet(cli.global.quiet);
}

fn main() {
    // Both ring and aws-lc-rs are compiled in (rustls backends pulled by dependencies); with two
    // providers rustls cannot pick, so exactly one, ring, is installed before any TLS client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    init_logging(&cli);
    rel::interrupt::install();
    let root = match std::env::current_dir() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read the current folder: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = rel::commands::run(cli, &root) {
        // After a signal, the handler reports and exits; the work's own errors are noise.
        rel::interrupt::park_if_interrupted();
        let text = rel::redact::redact(&e.to_string());
        if text.starts_with("error:") {
            eprintln!("{text}");
        } else {
            eprintln!("error: {text}");
        }
        std::process::exit(e.exit_code());
    }
}
