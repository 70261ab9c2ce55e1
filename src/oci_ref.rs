//! OCI reference syntax shared by config checks and the image stages.
//!
//! `rel check` must accept exactly the repositories the push accepts. The push parses with
//! `oci_client::Reference` (the distribution project's grammar as one regular expression,
//! whose compilation alone costs ~40 ms, more than the rest of a check); this is the same
//! grammar written out by hand, and a test holds it equal to the parser on tricky names.

/// The longest repository name (without the registry host) the parser accepts.
const NAME_MAX: usize = 255;

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`: one label of a registry host.
fn domain_component(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `domain-component ('.' domain-component)* (':' [0-9]+)?`
fn domain(s: &str) -> bool {
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    host.split('.').all(domain_component)
        && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `[a-z0-9]+ ((\.|_|__|-*) [a-z0-9]+)*`: one path component.
fn path_component(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut runs: Vec<(bool, String)> = vec![];
    for c in s.chars() {
        let is_alnum = alnum(c);
        match runs.last_mut() {
            Some((a, text)) if *a == is_alnum => text.push(c),
            _ => runs.push((is_alnum, c.to_string())),
        }
    }
    let separator = |t: &str| matches!(t, "." | "_" | "__") || t.chars().all(|c| c == '-');
    runs.first().is_some_and(|(a, _)| *a)
        && runs.last().is_some_and(|(a, _)| *a)
        && runs.iter().all(|(a, t)| *a || separator(t))
}

/// Why `repository` is not a repository name the registry client accepts, if it is not.
fn problem(repository: &str) -> Option<&'static str> {
    if repository.is_empty() || repository.chars().any(char::is_whitespace) {
        return Some("it is empty or has spaces");
    }
    if repository.contains('@') {
        return Some("it has a digest");
    }
    let parts: Vec<&str> = repository.split('/').collect();
    let paths_ok = |ps: &[&str]| ps.iter().all(|p| path_component(p));
    let with_domain = parts.len() > 1 && domain(parts[0]) && paths_ok(&parts[1..]);
    if !with_domain && !paths_ok(&parts) {
        let last = parts.last().copied().unwrap_or_default();
        return Some(if repository.chars().any(|c| c.is_ascii_uppercase()) {
            "repository names must be lowercase"
        } else if last.contains(':') {
            "it has a tag (put tags in `tags`)"
        } else {
            "each path component is lowercase letters and digits, joined by one `.`, one `_`, `__` or dashes"
        });
    }
    // The name without its registry host, as the parser measures it.
    let first = parts[0];
    let explicit_host =
        parts.len() > 1 && (first.contains('.') || first.contains(':') || first == "localhost");
    let name_len = if explicit_host {
        repository.len() - first.len() - 1
    } else if parts.len() == 1 {
        repository.len() + "library/".len()
    } else {
        repository.len()
    };
    (name_len > NAME_MAX).then_some("it is longer than 255 characters")
}

/// `[\w][\w.-]{0,127}`: a tag.
fn tag_ok(t: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    t.chars().next().is_some_and(word)
        && t.chars().count() <= 128
        && t.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`, and the hex length
/// its algorithm needs.
fn digest_problem(d: &str) -> Option<&'static str> {
    let Some((algo, hex)) = d.split_once(':') else {
        return Some("the digest has no `algorithm:`");
    };
    let comp_ok = |c: &str| {
        c.chars().next().is_some_and(|x| x.is_ascii_alphabetic())
            && c.chars().all(|x| x.is_ascii_alphanumeric())
    };
    if !algo.split(['-', '_', '+', '.']).all(comp_ok)
        || hex.len() < 32
        || !hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Some("the digest is not `algorithm:hex`");
    }
    match (algo, hex.len()) {
        ("sha256", 64) | ("sha384", 96) | ("sha512", 128) => None,
        ("sha256" | "sha384" | "sha512", _) => Some("the digest has the wrong length"),
        _ => Some("the digest algorithm is not supported"),
    }
}

/// Parse a whole reference (`[host/]path[:tag][@digest]`) exactly as `oci_client` does —
/// registry `docker.io` and `library/` for short names, tag `latest` when there is neither
/// tag nor digest — without compiling its regular expression (~40 ms, paid by every
/// `rel check` and dry run otherwise). A test holds the two equal.
pub fn parse(s: &str) -> std::result::Result<oci_client::Reference, String> {
    let bad = |why: &str| Err(format!("`{s}` is not a valid image reference: {why}"));
    if s.is_empty() {
        return bad("it is empty");
    }
    let (rest, digest) = match s.split_once('@') {
        Some((a, d)) => (a, Some(d)),
        None => (s, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(why) = problem(name) {
        return bad(why);
    }
    if let Some(t) = tag
        && !tag_ok(t)
    {
        return bad("the tag is not letters, digits, `_`, `.` and `-` (at most 128)");
    }
    if let Some(why) = digest.and_then(digest_problem) {
        return bad(why);
    }
    let (registry, repository) = match name.split_once('/') {
        Some((left, right)) if left.contains('.') || left.contains(':') || left == "localhost" => {
            (left.to_string(), right.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let registry = if registry == "index.docker.io" {
        "docker.io".to_string()
    } else {
        registry
    };
    let repository = if registry == "docker.io" && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository
    };
    let (tag, digest) = (tag.map(String::from), digest.map(String::from));
    Ok(match (tag, digest) {
        (Some(t), Some(d)) => {
            oci_client::Reference::with_tag_and_digest(registry, repository, t, d)
        }
        (None, Some(d)) => oci_client::Reference::with_digest(registry, repository, d),
        (t, None) => oci_client::Reference::with_tag(
            registry,
            repository,
            t.unwrap_or_else(|| "latest".into()),
        ),
    })
}

/// A syntax check of a repository name (`[host[:port]/]path`), the parser's grammar.
pub fn check_repository_syntax(repository: &str) -> std::result::Result<(), String> {
    match problem(repository) {
        None => Ok(()),
        Some(why) => Err(format!(
            "`{repository}` is not a valid image repository: {why}"
        )),
    }
}

/// Check a repository and tag render to a valid reference (`Error::Usage`: exit 2).
pub fn check_reference(
    key: &str,
    repository: &str,
    tag: &str,
) -> crate::error::Result<oci_client::Reference> {
    use crate::error::Error;
    check_repository_syntax(repository).map_err(|m| Error::Usage(format!("{key}: {m}")))?;
    let last = repository.rsplit('/').next().unwrap_or(repository);
    if repository.contains('@')
        || (repository.contains('/') && last.contains(':'))
        || repository.trim() != repository
        || repository.is_empty()
    {
        return Err(Error::Usage(format!(
            "{key}: `{repository}` is not a valid image repository (expected e.g. ghcr.io/owner/name, without a tag or digest)"
        )));
    }
    let whole = format!("{repository}:{tag}");
    let r = parse(&whole).map_err(|e| Error::Usage(format!("{key}: {e}")))?;
    if r.repository().chars().any(|c| c.is_ascii_uppercase()) {
        return Err(Error::Usage(format!(
            "{key}: `{repository}` is not a valid image repository: repository names must be lowercase"
        )));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names around every rule of the grammar: separators, hosts, ports, case, length.
    fn tricky() -> Vec<String> {
        let mut v: Vec<String> = [
            "acme/hello",
            "ghcr.io/acme/hello",
            "ghcr.io/acme/a..b",
            "ghcr.io/acme/a.b",
            "ghcr.io/acme/a__b",
            "ghcr.io/acme/a___b",
            "ghcr.io/acme/a--b",
            "ghcr.io/acme/a-_b",
            "ghcr.io/acme/a_.b",
            "ghcr.io/acme/-a",
            "ghcr.io/acme/a-",
            "ghcr.io/acme/_a",
            "ghcr.io/Acme/hello",
            "Acme/hello",
            "acme/Hello",
            "GHCR.IO/acme/hello",
            "ghcr.io/acme/hello:1.0",
            "acme/hello:1.0",
            "localhost:5000/x",
            "localhost/x",
            "localhost",
            "127.0.0.1:5000/a/b-c_d.e",
            "ghcr.io:x/a",
            "ghcr.io:/a",
            "-ghcr.io/a",
            "ghcr-.io/a",
            "gh-cr.io/a",
            "a//b",
            "a/",
            "/a",
            "-a/b",
            "a/b@sha256:00",
            " a/b",
            "a b",
            "",
            "hello",
            "a",
            "a/b/c/d/e",
            "ex_ample.com/a",
            "example.com:5000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(format!("ghcr.io/{}", "a".repeat(255)));
        v.push(format!("ghcr.io/{}", "a".repeat(256)));
        v.push(format!("acme/{}", "a".repeat(250)));
        v.push(format!("acme/{}", "a".repeat(251)));
        v.push("a".repeat(247));
        v.push("a".repeat(248));
        v
    }

    #[test]
    fn accepts_exactly_what_the_push_parser_accepts() {
        let mut differ = vec![];
        for name in tricky() {
            let ours = check_repository_syntax(&name).is_ok();
            // A repository with no tag: the parser adds `latest` itself.
            let theirs = name.parse::<oci_client::Reference>().is_ok()
                && !name.contains(['@'])
                && !name.rsplit('/').next().unwrap_or_default().contains(':');
            if ours != theirs {
                differ.push(format!("{name}: rel check {ours}, push parser {theirs}"));
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    #[test]
    fn parses_whole_references_exactly_like_the_push_parser() {
        let d64 = "a".repeat(64);
        let mut refs: Vec<String> = tricky();
        for r in [
            "alpine",
            "alpine:3.20",
            "library/alpine:3.20",
            "docker.io/alpine",
            "index.docker.io/acme/x:1",
            "ghcr.io/acme/x:v1.0.0-rc.1",
            "ghcr.io/acme/x:_under",
            "ghcr.io/acme/x:-dash",
            "ghcr.io/acme/x:.dot",
            "ghcr.io/acme/x:",
            "localhost:5000/x:tag",
            "localhost:5000",
            "x:1:2",
            "a/b:c/d",
        ] {
            refs.push(r.to_string());
        }
        refs.push(format!("ghcr.io/acme/x:{}", "t".repeat(128)));
        refs.push(format!("ghcr.io/acme/x:{}", "t".repeat(129)));
        refs.push(format!("ghcr.io/acme/x@sha256:{d64}"));
        refs.push(format!("ghcr.io/acme/x:1@sha256:{d64}"));
        refs.push(format!("ghcr.io/acme/x@sha256:{}", "a".repeat(63)));
        refs.push(format!("ghcr.io/acme/x@sha512:{d64}"));
        refs.push(format!("ghcr.io/acme/x@md5:{d64}"));
        refs.push(format!("ghcr.io/acme/x@sha256:{}", "g".repeat(64)));
        let mut differ = vec![];
        for r in refs {
            let ours = parse(&r).map(|x| x.whole()).ok();
            let theirs = r.parse::<oci_client::Reference>().map(|x| x.whole()).ok();
            if ours != theirs {
                differ.push(format!("{r}: ours {ours:?}, parser {theirs:?}"));
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    #[test]
    fn says_why() {
        assert!(
            check_repository_syntax("ghcr.io/Acme/x")
                .unwrap_err()
                .contains("lowercase")
        );
        assert!(
            check_repository_syntax("acme/x:1")
                .unwrap_err()
                .contains("tags")
        );
        assert!(
            check_repository_syntax("acme/a..b")
                .unwrap_err()
                .contains("path component")
        );
    }
}
