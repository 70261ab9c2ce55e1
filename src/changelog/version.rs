//! The next version from conventional commits.
//!
//! Rules: a breaking change bumps the major version (the minor one while the major is 0,
//! where semver lets anything change); a `feat` bumps the minor; anything else the patch.
//! From a prerelease the bump lands on the release it leads to when that release is already
//! big enough (v1.2.0-rc.1 + fix or feat → v1.2.0), the way `semver inc` does it elsewhere.

use super::commits::Commit;
use semver::{BuildMetadata, Prerelease, Version};

/// How much the commits change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// Fixes and everything else.
    Patch,
    /// New features.
    Minor,
    /// Breaking changes.
    Major,
}

/// The bump the commits call for (`None` when there are none).
pub fn bump_of<'a>(commits: impl IntoIterator<Item = &'a Commit>) -> Option<Bump> {
    commits
        .into_iter()
        .map(|c| {
            if c.breaking {
                Bump::Major
            } else if c.kind.as_deref() == Some("feat") {
                Bump::Minor
            } else {
                Bump::Patch
            }
        })
        .max()
}

/// `proposed` if no tag in `tags` names it, else the next version past the highest existing
/// tag of its line (same major.minor for a patch, same major for a minor, any for a major),
/// so that a tag made on another branch is never proposed again.
pub fn past_existing(proposed: Version, bump: Bump, tags: &[String], prefix: &str) -> Version {
    let existing: Vec<Version> = tags
        .iter()
        .filter_map(|t| crate::git::tag_version(t, prefix))
        .filter(|v| v.pre.is_empty())
        .collect();
    let mut v = proposed;
    while existing.contains(&v) {
        let line = existing
            .iter()
            .filter(|x| match bump {
                Bump::Patch => x.major == v.major && x.minor == v.minor,
                Bump::Minor => x.major == v.major,
                Bump::Major => true,
            })
            .max()
            .cloned()
            .unwrap_or_else(|| v.clone());
        let step = if bump == Bump::Major && line.major == 0 {
            Bump::Minor
        } else {
            bump
        };
        v = next(&line, step);
    }
    v
}

/// Apply `bump` to `v`.
pub fn next(v: &Version, bump: Bump) -> Version {
    let bump = if bump == Bump::Major && v.major == 0 {
        Bump::Minor
    } else {
        bump
    };
    let pre = !v.pre.is_empty();
    let (major, minor, patch) = (v.major, v.minor, v.patch);
    let (major, minor, patch) = match bump {
        Bump::Major if pre && minor == 0 && patch == 0 => (major, 0, 0),
        Bump::Major => (major + 1, 0, 0),
        Bump::Minor if pre && patch == 0 => (major, minor, 0),
        Bump::Minor => (major, minor + 1, 0),
        Bump::Patch if pre => (major, minor, patch),
        Bump::Patch => (major, minor, patch + 1),
    };
    Version {
        major,
        minor,
        patch,
        pre: Prerelease::EMPTY,
        build: BuildMetadata::EMPTY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_proposes_an_existing_tag() {
        let tags: Vec<String> = [
            "v0.37.0-rc.1",
            "v0.36.1",
            "v0.36.0",
            "v0.36.0-rc.1",
            "v0.35.0",
        ]
        .map(String::from)
        .to_vec();
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(
            past_existing(v("0.36.0"), Bump::Patch, &tags, ""),
            v("0.36.2")
        );
        assert_eq!(
            past_existing(v("0.36.0"), Bump::Minor, &tags, ""),
            v("0.37.0")
        );
        assert_eq!(
            past_existing(v("0.38.0"), Bump::Minor, &tags, ""),
            v("0.38.0")
        );
        assert_eq!(
            past_existing(v("0.36.0"), Bump::Major, &tags, ""),
            v("0.37.0")
        );
    }

    fn n(v: &str, b: Bump) -> String {
        next(&Version::parse(v).unwrap(), b).to_string()
    }

    #[test]
    fn stable_versions() {
        assert_eq!(n("1.2.3", Bump::Patch), "1.2.4");
        assert_eq!(n("1.2.3", Bump::Minor), "1.3.0");
        assert_eq!(n("1.2.3", Bump::Major), "2.0.0");
        assert_eq!(n("0.4.2", Bump::Major), "0.5.0");
        assert_eq!(n("1.2.3+build.7", Bump::Patch), "1.2.4");
    }

    #[test]
    fn prereleases_lead_to_their_release() {
        assert_eq!(n("1.2.0-rc.1", Bump::Patch), "1.2.0");
        assert_eq!(n("1.2.0-rc.1", Bump::Minor), "1.2.0");
        assert_eq!(n("1.2.0-rc.1", Bump::Major), "2.0.0");
        assert_eq!(n("2.0.0-beta.3", Bump::Major), "2.0.0");
        assert_eq!(n("1.2.3-rc.1", Bump::Minor), "1.3.0");
        assert_eq!(n("0.3.0-rc.1", Bump::Major), "0.3.0");
    }
}
