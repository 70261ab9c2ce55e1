//! Keeping secrets out of what rel prints.
//!
//! Commands are templated, so a user can put `{{ env.GITHUB_TOKEN }}` in a hook; the command
//! line then holds the token. Everything rel shows of a command (its line, its output, an
//! error) goes through [`redact`], which hides the values of the secret environment variables.

/// Whether an environment variable's value is a secret, by its name.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "PASSWORD",
        "SECRET",
        "PASSWD",
        "API_KEY",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// The values of secret environment variables, longest first (so a token that contains
/// another is hidden whole). Short values are left alone: hiding `1` would garble the text.
fn secrets() -> Vec<String> {
    let mut v: Vec<String> = std::env::vars()
        .filter(|(k, v)| is_secret_name(k) && v.len() >= 6)
        .map(|(_, v)| v)
        .collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v.dedup();
    v
}

/// `text` with every secret value replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for s in secrets() {
        if out.contains(&s) {
            out = out.replace(&s, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        assert!(
            is_secret_name("GITHUB_TOKEN")
                && is_secret_name("REL_REGISTRY_PASSWORD")
                && is_secret_name("gh_token")
        );
        assert!(!is_secret_name("PATH") && !is_secret_name("HOME"));
    }
}
