//! "Did you mean …?" for every message that names a key, a stage or a variable.
//!
//! A leaf module: the config, templates and the command line all suggest with the same
//! measure, so a typo gets the same hint wherever it is made.

/// The candidate closest to `word`, if it is close enough to be a plausible misspelling.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
