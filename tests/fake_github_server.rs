//! The fake GitHub as a process, for `benches/publish.sh` (built by `cargo build --tests`).
//!
//! `fake_github_server serve [--latency-ms N] [--bandwidth-kbps N] [--token T]` prints `api=URL uploads=URL` and
//! serves until killed. Run without arguments (as `cargo test` does), it checks itself: a
//! request outside GitHub's description is a violation, a valid one is served.

#[path = "support/mod.rs"]
mod support;

use support::fake_github::{Fake, Options, http_request};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let mut opts = Options::default();
        let mut it = args.iter().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--latency-ms" => {
                    opts.latency = std::time::Duration::from_millis(
                        it.next()
                            .and_then(|v| v.parse().ok())
                            .expect("--latency-ms N"),
                    )
                }
                "--bandwidth-kbps" => {
                    opts.bandwidth = Some(
                        it.next()
                            .and_then(|v| v.parse::<u64>().ok())
                            .expect("--bandwidth-kbps N")
                            * 1000,
                    )
                }
                "--token" => opts.token = it.next().expect("--token T").clone(),
                other => panic!("unknown argument {other}"),
            }
        }
        let fake = Fake::start(opts);
        println!("api={} uploads={}", fake.api(), fake.uploads());
        loop {
            std::thread::park();
        }
    }
    // Self-check (what `cargo test` runs).
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let fake = Fake::start(Options::default());
    let auth = [
        ("authorization", "Bearer fake-token"),
        ("content-type", "application/json"),
    ];
    let (st, _) = http_request(
        "POST",
        &format!("{}/repos/acme/demo/releases", fake.api()),
        &auth,
        br#"{"tag_name":"v1.0.0","draft":true}"#,
    );
    assert_eq!(st, 201, "a valid create is served");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let (st, _) = http_request(
        "POST",
        &format!("{}/repos/acme/demo/releases", fake.api()),
        &auth,
        br#"{"tag_name":"v1.0.0","draft":"yes"}"#,
    );
    assert_eq!(st, 404);
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("body does not match")),
        "{:?}",
        fake.violations()
    );
    let (st, _) = http_request(
        "GET",
        &format!("{}/repos/acme/demo/not-an-endpoint", fake.api()),
        &auth,
        b"",
    );
    assert_eq!(st, 404);
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("not in GitHub's OpenAPI description")),
        "{:?}",
        fake.violations()
    );
    let (st, _) = http_request(
        "GET",
        &format!("{}/repos/acme/demo/releases?per_page=x", fake.api()),
        &auth,
        b"",
    );
    assert_eq!(st, 404, "a non-integer per_page is rejected");
    let (st, _) = http_request(
        "GET",
        &format!("{}/repos/acme/demo/releases", fake.api()),
        &[("authorization", "Bearer wrong")],
        b"",
    );
    assert_eq!(st, 401, "a wrong token is rejected");
    println!("fake_github_server: self-check ok");
}
