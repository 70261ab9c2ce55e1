//! OCI reference syntax shared by config checks and the image stages.

/// A fast syntax check of a repository name (`[host[:port]/]path`, the OCI distribution
/// grammar), for `rel check`: the full parser compiles a large regular expression, which
/// costs more than the whole rest of a config check.
pub fn check_repository_syntax(repository: &str) -> std::result::Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "`{repository}` is not a valid image repository: {why}"
        ))
    };
    if repository.is_empty() || repository.trim() != repository {
        return bad("it is empty or has spaces");
    }
    if repository.contains('@') {
        return bad("it has a digest");
    }
    let mut parts: Vec<&str> = repository.split('/').collect();
    let first = parts[0];
    if parts.len() > 1 && (first.contains('.') || first.contains(':') || first == "localhost") {
        let (host, port) = first.split_once(':').unwrap_or((first, ""));
        let host_ok = !host.is_empty()
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !host_ok
            || !port.chars().all(|c| c.is_ascii_digit())
            || (first.contains(':') && port.is_empty())
        {
            return bad("the registry host is not valid");
        }
        parts.remove(0);
    }
    for comp in parts {
        let valid = !comp.is_empty()
            && comp.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
            && comp.starts_with(|c: char| c.is_ascii_alphanumeric())
            && comp.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            return if comp.chars().any(|c| c.is_ascii_uppercase()) {
                bad("repository names must be lowercase")
            } else if comp.contains(':') {
                bad("it has a tag (put tags in `tags`)")
            } else {
                bad(&format!(
                    "`{comp}` is not a valid path component (lowercase letters, digits, `.`, `_`, `-`)"
                ))
            };
        }
    }
    Ok(())
}
