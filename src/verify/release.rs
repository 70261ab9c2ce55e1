//! The release and its assets: the release for the tag exists and is published, holds
//! exactly the uploadable artifacts that were recorded (missing and unexpected ones by
//! name), and every asset, downloaded as anybody would, has the recorded SHA-256 and the one
//! its checksum file lists.
//!
//! Downloads stream through the hashers (and, for the few files a later check reads —
//! checksum files, signatures and what they sign — into a scratch file), a few at a time,
//! each retried as a whole under the one retry policy.

use super::{Downloaded, Report, Session, Source, short};
use crate::artifact::Kind;
use crate::config::Algorithm;
use crate::github::{self, Remote};
use futures_util::StreamExt;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

/// Downloads in flight at once.
const CONCURRENCY: usize = 4;

/// The release and asset checks.
pub fn check(s: &mut Session, r: &mut Report) {
    let subject = format!("{} {}", s.head.repository, s.head.tag);
    let (repo, tag) = (s.head.repository.clone(), s.head.tag.clone());
    let found = s.github_call("reading the release", || {
        github::find(&s.github, &repo, &tag)
    });
    let release = match found {
        Err(e) => {
            r.fail(
                "release",
                &subject,
                format!("cannot read the releases: {e}"),
            );
            return;
        }
        Ok(None) => {
            r.fail("release", &subject, "there is no release for this tag");
            return;
        }
        Ok(Some(rel)) => rel,
    };
    if release.draft {
        r.fail(
            "release",
            &subject,
            format!("release {} is still a draft: nobody can see it", release.id),
        );
    } else {
        r.pass(
            "release",
            &subject,
            format!("published at {}", release.html_url),
        );
        s.head.release_url = Some(release.html_url.clone());
    }
    let id = release.id;
    s.release = Some(release);
    let listed = s.github_call("listing the assets", || {
        github::list_assets(&s.github, &repo, id)
    });
    s.assets = match listed {
        Ok(a) => a,
        Err(e) => {
            r.fail("assets", &subject, format!("cannot list the assets: {e}"));
            return;
        }
    };
    let mut checksums = checksum_files(s);
    s.signed = super::signatures::pairs(s);
    download_all(s, r, &checksums);
    for c in &mut checksums {
        c.lines = lines_of(s, &c.name);
    }
    let expected = expected(s, r, &checksums);
    // From the tag alone without a checksum file there is no record of the set either: the
    // line above says so once instead of calling every asset unexpected.
    if s.recorded.is_some() || !checksums.is_empty() {
        set_check(s, r, &subject, &expected, &checksums);
    }
    for name in s.assets.keys().cloned().collect::<Vec<_>>() {
        content_check(s, r, &name, &expected, &checksums);
    }
}

/// A checksum file (the release's, or a one-line `<asset>.<algorithm>` sidecar): its asset
/// name and its algorithm.
#[derive(Debug, Clone)]
struct ChecksumFile {
    name: String,
    algorithm: Algorithm,
    /// What it lists (asset name → digest), once downloaded and read.
    lines: Option<BTreeMap<String, String>>,
}

fn algorithm_of(name: &str) -> Option<Algorithm> {
    match name {
        "sha256" => Some(Algorithm::Sha256),
        "sha512" => Some(Algorithm::Sha512),
        "blake3" => Some(Algorithm::Blake3),
        _ => None,
    }
}

/// The checksum files of the release: those recorded (with their algorithm), or, from the
/// tag alone, the file `checksum.name_template` names and the `<asset>.<algorithm>` sidecars.
fn checksum_files(s: &Session) -> Vec<ChecksumFile> {
    let config_algo = s.ctx.config.checksum.algorithm;
    if s.recorded.is_some() {
        return s
            .recorded_of(Kind::Checksum)
            .into_iter()
            .chain(s.recorded_of(Kind::ChecksumSidecar))
            .map(|a| ChecksumFile {
                name: a.name.clone(),
                algorithm: a
                    .extra
                    .get("algorithm")
                    .and_then(|v| v.as_str())
                    .and_then(algorithm_of)
                    .unwrap_or(config_algo),
                lines: None,
            })
            .collect();
    }
    let mut out = vec![];
    if let Some(t) = &s.ctx.config.checksum.name_template
        && let Ok(name) = s.render("checksum.name_template", t, &[])
        && s.assets.contains_key(&name)
    {
        out.push(ChecksumFile {
            name,
            algorithm: config_algo,
            lines: None,
        });
    }
    for name in s.assets.keys() {
        if let Some((base, ext)) = name.rsplit_once('.')
            && let Some(algorithm) = algorithm_of(ext)
            && s.assets.contains_key(base)
        {
            out.push(ChecksumFile {
                name: name.clone(),
                algorithm,
                lines: None,
            });
        }
    }
    out
}

/// Download every asset, a few at a time, hashing as the bytes stream.
fn download_all(s: &mut Session, r: &mut Report, checksums: &[ChecksumFile]) {
    let mut keep: BTreeSet<String> = checksums.iter().map(|c| c.name.clone()).collect();
    for p in &s.signed {
        keep.insert(p.signature.clone());
        keep.insert(p.subject.clone());
    }
    let algos: BTreeSet<&'static str> = checksums
        .iter()
        .filter(|c| c.algorithm != Algorithm::Sha256)
        .map(|c| crate::hash::algorithm_name(c.algorithm))
        .collect();
    let jobs: Vec<(Remote, Option<PathBuf>)> = s
        .assets
        .values()
        .filter(|a| a.state == "uploaded")
        .map(|a| {
            let kept = keep
                .contains(&a.name)
                .then(|| s.scratch.path().join(format!("asset-{}", a.id)));
            (a.clone(), kept)
        })
        .collect();
    let (client, repo, deadline) = (&s.github, s.head.repository.clone(), s.deadline);
    let results: Vec<(String, std::result::Result<Downloaded, String>)> = s.rt.block_on(
        futures_util::stream::iter(jobs.into_iter().map(|(asset, kept)| {
            let (repo, algos) = (repo.clone(), algos.clone());
            async move {
                let what = format!("downloading {}", asset.name);
                let got =
                    crate::retry::run(crate::retry::Policy::default(), deadline, &what, || {
                        download_one(client, &repo, &asset, kept.clone(), &algos)
                    })
                    .await
                    .map_err(|e| client.redact(e.message()));
                (asset.name.clone(), got)
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .collect(),
    );
    for (name, got) in results {
        match got {
            Ok(d) => {
                s.downloaded.insert(name, d);
            }
            Err(e) => r.fail("download", &name, format!("cannot download it: {e}")),
        }
    }
}

/// One attempt at one download: fresh hashers (and a fresh kept file) every time.
async fn download_one(
    client: &crate::github::Client,
    repo: &str,
    asset: &Remote,
    kept: Option<PathBuf>,
    algos: &BTreeSet<&'static str>,
) -> std::result::Result<Downloaded, crate::retry::Failure> {
    let fatal = |e: std::io::Error| crate::retry::Failure::Fatal(format!("scratch file: {e}"));
    let mut file = match &kept {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(fatal)?,
        )),
        None => None,
    };
    let mut sha256 = sha2::Sha256::new();
    let mut sha512 = algos.contains("sha512").then(sha2::Sha512::new);
    let mut blake3 = algos.contains("blake3").then(blake3::Hasher::new);
    let mut size = 0u64;
    github::download(client, repo, asset, &mut |chunk| {
        size += chunk.len() as u64;
        sha256.update(chunk);
        if let Some(h) = &mut sha512 {
            h.update(chunk);
        }
        if let Some(h) = &mut blake3 {
            h.update(chunk);
        }
        if let Some(f) = &mut file {
            f.write_all(chunk)
                .map_err(|e| format!("cannot keep {}: {e}", asset.name))?;
        }
        Ok(())
    })
    .await?;
    if let Some(mut f) = file {
        f.flush().map_err(fatal)?;
    }
    let mut other = BTreeMap::new();
    if let Some(h) = sha512 {
        other.insert("sha512", crate::hash::hex(&h.finalize()));
    }
    if let Some(h) = blake3 {
        other.insert("blake3", h.finalize().to_hex().to_string());
    }
    Ok(Downloaded {
        sha256: crate::hash::hex(&sha256.finalize()),
        other,
        size,
        kept,
    })
}

/// What a checksum file lists: asset name → digest (lower case), from the downloaded file.
fn lines_of(s: &Session, name: &str) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(s.downloaded.get(name)?.kept.as_ref()?).ok()?;
    Some(
        text.lines()
            .filter_map(|l| {
                let (hex, name) = l.trim_end().split_once(char::is_whitespace)?;
                let name = name.trim_start().trim_start_matches('*');
                Some((name.to_string(), hex.to_ascii_lowercase()))
            })
            .collect(),
    )
}

/// What the release should hold, by name, with the SHA-256 recorded for it (if any):
/// `artifacts.json`'s uploadable artifacts, or, from the tag alone, what the checksum files
/// list, the checksum files themselves and the signatures the config names.
fn expected(
    s: &Session,
    r: &mut Report,
    checksums: &[ChecksumFile],
) -> BTreeMap<String, Option<String>> {
    if let Some(recorded) = &s.recorded {
        return recorded
            .iter()
            .filter(|a| a.kind.uploadable())
            .map(|a| (a.name.clone(), a.sha256.clone()))
            .collect();
    }
    let mut out = BTreeMap::new();
    if checksums.is_empty() {
        r.fail(
            "checksums",
            &s.head.tag,
            "the release has no checksum file, so from the tag alone nothing can be compared: run `rel verify` where the release's dist/ is",
        );
    }
    for c in checksums {
        out.insert(c.name.clone(), None);
        match &c.lines {
            Some(lines) => out.extend(lines.keys().map(|n| (n.clone(), None))),
            None => r.fail(
                "checksums",
                &c.name,
                "cannot read the checksum file from the release",
            ),
        }
    }
    for p in &s.signed {
        out.insert(p.signature.clone(), None);
    }
    out
}

/// The release holds exactly the expected assets: one line each for missing and unexpected
/// ones, and one for the set.
fn set_check(
    s: &Session,
    r: &mut Report,
    subject: &str,
    expected: &BTreeMap<String, Option<String>>,
    checksums: &[ChecksumFile],
) {
    let record = match s.head.source {
        Source::Dist => "artifacts.json".to_string(),
        Source::Tag => checksums
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "the checksum file".into()),
    };
    let mut missing = vec![];
    for name in expected.keys() {
        match s.assets.get(name) {
            None => {
                r.fail(
                    "asset",
                    name,
                    format!("missing from the release ({record} lists it)"),
                );
                missing.push(name.clone());
            }
            Some(a) if a.state != "uploaded" => {
                r.fail(
                    "asset",
                    name,
                    format!("its upload never finished (state `{}`)", a.state),
                );
                missing.push(name.clone());
            }
            Some(_) => {}
        }
    }
    let unexpected: Vec<&String> = s
        .assets
        .keys()
        .filter(|n| !expected.contains_key(*n))
        .collect();
    for name in &unexpected {
        r.fail(
            "asset",
            name,
            format!("on the release but not in {record}: nothing says what it should hold"),
        );
    }
    if missing.is_empty() && unexpected.is_empty() {
        r.pass(
            "assets",
            subject,
            format!("{} assets, exactly those {record} lists", expected.len()),
        );
    } else {
        r.fail(
            "assets",
            subject,
            format!(
                "{} missing, {} unexpected (of {} expected)",
                missing.len(),
                unexpected.len(),
                expected.len()
            ),
        );
    }
}

/// One downloaded asset against its recorded SHA-256, every checksum line naming it, and
/// GitHub's own digest.
fn content_check(
    s: &Session,
    r: &mut Report,
    name: &str,
    expected: &BTreeMap<String, Option<String>>,
    checksums: &[ChecksumFile],
) {
    let Some(got) = s.downloaded.get(name) else {
        // Not downloaded: an unfinished upload (reported above) or a failed download.
        return;
    };
    let mut wrong = vec![];
    let mut matched = vec![];
    if let Some(Some(want)) = expected.get(name) {
        if want.eq_ignore_ascii_case(&got.sha256) {
            matched.push("artifacts.json".to_string());
        } else {
            wrong.push(format!("artifacts.json records {}", short(want)));
        }
    }
    for c in checksums.iter().filter(|c| c.name != name) {
        let Some(lines) = &c.lines else {
            continue;
        };
        let Some(listed) = lines.get(name) else {
            continue;
        };
        match got.digest(c.algorithm) {
            Some(d) if d == listed => matched.push(c.name.clone()),
            Some(_) => wrong.push(format!(
                "{} lists {} {}",
                c.name,
                crate::hash::algorithm_name(c.algorithm),
                short(listed)
            )),
            None => {}
        }
    }
    if let Some(d) = s.assets.get(name).and_then(|a| a.digest.as_deref())
        && let Some(hex) = d.strip_prefix("sha256:")
        && !hex.eq_ignore_ascii_case(&got.sha256)
    {
        wrong.push(format!("GitHub's digest is {}", short(hex)));
    }
    if !wrong.is_empty() {
        r.fail(
            "asset",
            name,
            format!(
                "the release serves sha256 {} ({} bytes), but {}",
                short(&got.sha256),
                got.size,
                wrong.join("; ")
            ),
        );
    } else if matched.is_empty() {
        r.unchecked(
            "asset",
            name,
            format!(
                "sha256 {}: not checked, nothing records its content",
                short(&got.sha256)
            ),
        );
    } else {
        r.pass(
            "asset",
            name,
            format!(
                "sha256 {} matches {}",
                short(&got.sha256),
                matched.join(" and ")
            ),
        );
    }
}
