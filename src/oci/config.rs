//! The OCI image config: what runs (entrypoint, env, user), where it runs (platform), and
//! where it came from (OCI labels from git).
//!
//! Built on top of the base image's config when there is one, so its env and history are
//! kept. The only time in it is the release time (`SOURCE_DATE_EPOCH` or the commit time),
//! which keeps the config, and so the manifest digest, reproducible.

use super::platform::Platform;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The default `PATH` for images without a base.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The default user: a non-root uid/gid, like distroless' `nonroot`.
pub const DEFAULT_USER: &str = "65532:65532";

/// What goes in the config, already rendered.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Cmd.
    pub cmd: Vec<String>,
    /// `KEY=value` entries, added after (and overriding) the base's.
    pub env: Vec<String>,
    /// User.
    pub user: String,
    /// Working directory.
    pub workdir: Option<String>,
    /// Labels (OCI labels from git plus the configured ones).
    pub labels: BTreeMap<String, String>,
    /// RFC 3339 creation time.
    pub created: String,
}

/// A config to extend: the base's (or an empty one) without the base's platform and
/// engine fields, with `platform` and `created` set.
pub fn on_base(base: Option<&Value>, platform: &Platform, created: &str) -> Value {
    let mut cfg = base
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let obj = cfg.as_object_mut().expect("object");
    for k in [
        "architecture",
        "os",
        "variant",
        "os.version",
        "os.features",
        "container",
        "container_config",
        "docker_version",
        "author",
    ] {
        obj.remove(k);
    }
    if let Value::Object(p) = platform.to_json() {
        obj.extend(p);
    }
    obj.insert("created".into(), created.into());
    cfg
}

/// Set `KEY=value` in `env`: a later KEY replaces an earlier one in place.
pub fn set_env(env: &mut Vec<String>, entry: &str) {
    let key = entry.split_once('=').map(|x| x.0).unwrap_or(entry);
    match env
        .iter_mut()
        .find(|x| x.split_once('=').map(|x| x.0).unwrap_or(x) == key)
    {
        Some(slot) => *slot = entry.to_string(),
        None => env.push(entry.to_string()),
    }
}

/// The config of one platform's image. `base` is the base image's config (or `None` for
/// `scratch`); `diff_id` is the new layer's uncompressed digest.
pub fn build(
    base: Option<&Value>,
    platform: &Platform,
    s: &Settings,
    diff_id: &str,
    comment: &str,
) -> Value {
    let mut cfg = on_base(base, platform, &s.created);
    let obj = cfg.as_object_mut().expect("object");

    let mut inner = obj
        .get("config")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let c = inner.as_object_mut().expect("object");
    // Env: the base's, then ours; a later KEY replaces an earlier one in place.
    let mut env: Vec<String> = c
        .get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if base.is_none() && !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(DEFAULT_PATH.into());
    }
    for e in &s.env {
        set_env(&mut env, e);
    }
    c.insert("Env".into(), json!(env));
    c.insert("Entrypoint".into(), json!(s.entrypoint));
    if s.cmd.is_empty() {
        c.remove("Cmd");
    } else {
        c.insert("Cmd".into(), json!(s.cmd));
    }
    c.insert("User".into(), s.user.clone().into());
    if let Some(w) = &s.workdir {
        c.insert("WorkingDir".into(), w.clone().into());
    }
    let mut labels: BTreeMap<String, Value> = c
        .get("Labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (k, v) in &s.labels {
        labels.insert(k.clone(), v.clone().into());
    }
    c.insert("Labels".into(), json!(labels));
    obj.insert("config".into(), inner);

    let mut diff_ids: Vec<Value> = obj
        .get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    diff_ids.push(diff_id.into());
    obj.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": diff_ids}),
    );
    let mut history: Vec<Value> = obj
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    history.push(json!({"created": s.created, "created_by": "rel", "comment": comment}));
    obj.insert("history".into(), json!(history));
    cfg
}

/// `https://host/owner/name` from a git remote URL (`git@host:owner/name.git`, `ssh://…`,
/// `https://user@host/…`), for the `org.opencontainers.image.source` label.
pub fn source_url(remote: &str) -> Option<String> {
    crate::git::Remote::parse(remote).map(|r| r.web_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            entrypoint: vec!["/hello".into()],
            env: vec!["PATH=/bin".into(), "A=b".into()],
            user: DEFAULT_USER.into(),
            created: "2024-01-02T03:04:05Z".into(),
            labels: [(
                "org.opencontainers.image.version".to_string(),
                "1.0.0".to_string(),
            )]
            .into(),
            ..Default::default()
        }
    }

    #[test]
    fn scratch_config_has_platform_entrypoint_and_labels() {
        let c = build(
            None,
            &Platform::parse("linux/arm/v7").unwrap(),
            &settings(),
            "sha256:aa",
            "hello",
        );
        assert_eq!(c["architecture"], "arm");
        assert_eq!(c["variant"], "v7");
        assert_eq!(c["config"]["Entrypoint"], json!(["/hello"]));
        assert_eq!(
            c["config"]["Env"],
            json!(["PATH=/bin", "A=b"]),
            "configured PATH replaces the default in place"
        );
        assert_eq!(c["config"]["User"], "65532:65532");
        assert_eq!(c["rootfs"]["diff_ids"], json!(["sha256:aa"]));
        assert_eq!(
            c["config"]["Labels"]["org.opencontainers.image.version"],
            "1.0.0"
        );
    }

    #[test]
    fn base_config_is_extended() {
        let base = json!({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin", "TZ=UTC"], "Labels": {"x": "y"}}, "rootfs": {"type": "layers", "diff_ids": ["sha256:base"]}, "history": [{"created_by": "base"}]});
        let c = build(
            Some(&base),
            &Platform::parse("linux/amd64").unwrap(),
            &settings(),
            "sha256:aa",
            "hello",
        );
        assert_eq!(c["config"]["Env"], json!(["PATH=/bin", "TZ=UTC", "A=b"]));
        assert_eq!(c["config"]["Labels"]["x"], "y");
        assert_eq!(c["rootfs"]["diff_ids"], json!(["sha256:base", "sha256:aa"]));
        assert_eq!(c["history"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn source_urls() {
        assert_eq!(
            source_url("git@github.com:acme/hello.git").as_deref(),
            Some("https://github.com/acme/hello")
        );
        assert_eq!(
            source_url("https://tok@github.com/acme/hello").as_deref(),
            Some("https://github.com/acme/hello")
        );
        assert_eq!(
            source_url("ssh://git@gitlab.com:22/a/b.git").as_deref(),
            Some("https://gitlab.com/a/b")
        );
        assert_eq!(source_url("/local/path"), None);
    }
}
