//! rel's own build of a copy-only Dockerfile: the base image's layers, one reproducible
//! layer of the copied files (as buildah writes one layer per build), and the base's config
//! with the Dockerfile's changes. No engine, no daemon; the same commit gives the same
//! digests on every machine.

use super::analyze::{ConfigChanges, CopyOnly};
use crate::error::Result;
use crate::oci::base::BaseImage;
use crate::oci::layer::{self, Entry};
use crate::oci::layout::{Layout, media};
use crate::oci::platform::Platform;
use crate::oci::push::PlatformImage;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The `PATH` engines give an image whose base sets none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn set_map(c: &mut serde_json::Map<String, Value>, key: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let mut m = c
        .get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for i in items {
        m.insert(i.clone(), json!({}));
    }
    c.insert(key.into(), Value::Object(m));
}

/// The image config: `base` (or nothing) with the Dockerfile's `changes` and `labels`.
pub fn config(
    base: Option<&Value>,
    platform: &Platform,
    changes: &ConfigChanges,
    labels: &BTreeMap<String, String>,
    created: &str,
    diff_id: Option<&str>,
    steps: &[String],
) -> Value {
    let mut cfg = crate::oci::config::on_base(base, platform, created);
    let obj = cfg.as_object_mut().expect("object");
    let mut inner = obj
        .get("config")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let c = inner.as_object_mut().expect("object");
    let mut env: Vec<String> = c
        .get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.into());
    }
    for (k, v) in &changes.env {
        crate::oci::config::set_env(&mut env, &format!("{k}={v}"));
    }
    c.insert("Env".into(), json!(env));
    if let Some(e) = &changes.entrypoint {
        c.insert("Entrypoint".into(), json!(e));
    }
    match &changes.cmd {
        Some(cmd) if cmd.is_empty() => {
            c.remove("Cmd");
        }
        Some(cmd) => {
            c.insert("Cmd".into(), json!(cmd));
        }
        None => {}
    }
    if let Some(u) = &changes.user {
        c.insert("User".into(), u.clone().into());
    }
    if let Some(w) = &changes.workdir {
        c.insert("WorkingDir".into(), w.clone().into());
    }
    set_map(c, "ExposedPorts", &changes.exposed);
    set_map(c, "Volumes", &changes.volumes);
    if let Some(s) = &changes.stop_signal {
        c.insert("StopSignal".into(), s.clone().into());
    }
    let mut all_labels: BTreeMap<String, Value> = c
        .get("Labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (k, v) in changes.labels.iter().chain(labels) {
        all_labels.insert(k.clone(), v.clone().into());
    }
    if !all_labels.is_empty() {
        c.insert("Labels".into(), json!(all_labels));
    }
    obj.insert("config".into(), inner);
    let mut diff_ids: Vec<Value> = obj
        .get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut history: Vec<Value> = obj
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match diff_id {
        Some(d) => {
            diff_ids.push(d.into());
            history.push(
                json!({"created": created, "created_by": steps.join(" && "), "comment": "rel"}),
            );
        }
        None => history.push(
            json!({"created": created, "created_by": "rel", "comment": "rel", "empty_layer": true}),
        ),
    }
    obj.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": diff_ids}),
    );
    obj.insert("history".into(), json!(history));
    cfg
}

/// Write one platform's image of a copy-only Dockerfile into `layout`.
#[allow(clippy::too_many_arguments)]
pub fn build(
    layout: &Layout,
    platform: &Platform,
    plan: &CopyOnly,
    base: Option<&BaseImage>,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    epoch: i64,
) -> Result<PlatformImage> {
    let created = jiff::Timestamp::from_second(epoch)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let entries: BTreeMap<String, Entry> = plan
        .files
        .iter()
        .map(|(p, f)| {
            (
                p.clone(),
                Entry {
                    src: f.src.clone(),
                    mode: f.mode,
                    uid: f.uid,
                    gid: f.gid,
                },
            )
        })
        .collect();
    let new_layer = if entries.is_empty() {
        None
    } else {
        Some(layer::write(layout, &entries, epoch)?)
    };
    let cfg = config(
        base.map(|b| &b.config),
        platform,
        &plan.config,
        labels,
        &created,
        new_layer.as_ref().map(|l| l.diff_id.as_str()),
        &plan.steps,
    );
    let (cfg_d, _) = layout.put_json(media::CONFIG, &cfg)?;
    let mut layers = base.map(|b| b.layers.clone()).unwrap_or_default();
    let base_layers = layers.iter().map(|l| l.digest.clone()).collect();
    if let Some(l) = &new_layer {
        layers.push(l.blob.clone());
    }
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::MANIFEST,
        "config": cfg_d.to_json(),
        "layers": layers.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
    });
    if !annotations.is_empty() {
        manifest["annotations"] = json!(annotations);
    }
    let (m_d, m_bytes) = layout.put_json(media::MANIFEST, &manifest)?;
    let mut blobs = vec![cfg_d];
    blobs.extend(layers);
    Ok(PlatformImage {
        platform: platform.clone(),
        manifest: m_d,
        manifest_bytes: m_bytes,
        blobs,
        base_layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrypoint_resets_the_base_cmd_and_labels_merge() {
        let base = json!({"config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin", "A=0"], "Labels": {"x": "base"}}, "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]}, "architecture": "amd64"});
        let changes = ConfigChanges {
            env: vec![("A".into(), "1".into())],
            entrypoint: Some(vec!["/app".into()]),
            cmd: Some(vec![]),
            labels: [("y".to_string(), "df".to_string())].into(),
            exposed: vec!["8080/tcp".into()],
            ..Default::default()
        };
        let labels = [("z".to_string(), "cfg".to_string())].into();
        let p = Platform::new("linux", "arm64", None);
        let c = config(
            Some(&base),
            &p,
            &changes,
            &labels,
            "1970-01-01T00:00:00Z",
            Some("sha256:bb"),
            &["COPY a /a".into()],
        );
        assert_eq!(c["architecture"], "arm64");
        assert_eq!(c["config"]["Env"], json!(["PATH=/bin", "A=1"]));
        assert_eq!(c["config"]["Entrypoint"], json!(["/app"]));
        assert!(c["config"].get("Cmd").is_none());
        assert_eq!(
            c["config"]["Labels"],
            json!({"x": "base", "y": "df", "z": "cfg"})
        );
        assert_eq!(c["config"]["ExposedPorts"], json!({"8080/tcp": {}}));
        assert_eq!(c["rootfs"]["diff_ids"], json!(["sha256:aa", "sha256:bb"]));
    }
}
