//! The JSON Schema of the config, derived from the model, then made to agree with what rel
//! accepts and useful in an editor.
//!
//! schemars writes a `default` for every key with a serde default, including `null`, `[]` and
//! `{}`, which editors then insert (`dir: null`) although the description names the real
//! default; those are removed. The Go platform keys get their value lists, the format enum its
//! aliases, `version` its one value, and booleans the YAML 1.1 words rel reads (`yes`, `on`, …).

use serde_json::{Value, json};

/// The YAML 1.1 boolean words rel's YAML reader accepts (case-insensitive there).
const BOOL_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
];

fn tidy(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("default").is_some_and(|d| {
                d.is_null()
                    || d.as_array().is_some_and(|a| a.is_empty())
                    || d.as_object().is_some_and(|o| o.is_empty())
                    || d.as_str() == Some("")
            }) {
                m.remove("default");
            }
            if m.get("type") == Some(&json!("boolean")) {
                m.remove("type");
                let default = m.remove("default");
                m.insert(
                    "anyOf".into(),
                    json!([{"type": "boolean"}, {"type": "string", "enum": BOOL_WORDS}]),
                );
                if let Some(d) = default {
                    m.insert("default".into(), d);
                }
                // Its new `anyOf` holds a boolean type of its own: not to be rewritten again.
                return;
            }
            for (_, x) in m.iter_mut() {
                tidy(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

fn items_enum(v: &mut Value, path: &[&str], values: Vec<&str>) {
    let mut cur = v;
    for p in path {
        match cur.get_mut(*p) {
            Some(x) => cur = x,
            None => return,
        }
    }
    if let Some(items) = cur.get_mut("items") {
        items["enum"] = json!(values);
    }
}

/// The schema as a JSON value.
pub fn value() -> Value {
    let schema = schemars::schema_for!(crate::config::Config);
    let mut v = serde_json::to_value(&schema).expect("schema serialises");
    tidy(&mut v);
    if let Some(ver) = v.pointer_mut("/properties/version") {
        ver["const"] = json!(1);
    }
    for key in ["goos", "goarch"] {
        let values = if key == "goos" {
            crate::target::known_goos()
        } else {
            crate::target::known_goarch()
        };
        items_enum(&mut v, &["$defs", "Build", "properties", key], values);
    }
    items_enum(
        &mut v,
        &["$defs", "Build", "properties", "goarm"],
        crate::target::GOARM.to_vec(),
    );
    items_enum(
        &mut v,
        &["$defs", "Build", "properties", "goamd64"],
        crate::target::GOAMD64.to_vec(),
    );
    // The archive format's aliases (`tgz`, `txz`, `tzst`) are accepted too.
    if let Some(f) = v.pointer_mut("/$defs/Format") {
        let aliases = json!({"type": "string", "enum": ["tgz", "txz", "tzst"], "description": "Aliases of tar.gz, tar.xz and tar.zst."});
        match f.get_mut("oneOf").and_then(Value::as_array_mut) {
            Some(list) => list.push(aliases),
            None => {
                if let Some(e) = f.get_mut("enum").and_then(Value::as_array_mut) {
                    e.extend(["tgz", "txz", "tzst"].map(|s| json!(s)));
                }
            }
        }
    }
    v["examples"] = json!([{
        "version": 1,
        "project_name": "hello",
        "builds": [{"main": ".", "goos": ["linux", "darwin", "windows"], "goarch": ["amd64", "arm64"]}],
        "archives": [{"formats": ["tar.gz"], "format_overrides": [{"goos": "windows", "formats": ["zip"]}]}]
    }]);
    v
}

/// The schema as pretty JSON (what `rel schema` prints and `schemas/release.schema.json` holds).
pub fn json() -> String {
    let mut s = serde_json::to_string_pretty(&value()).expect("schema serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/release.schema.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        if committed != super::json() {
            if std::env::var_os("REL_UPDATE_SCHEMA").is_some() {
                std::fs::write(path, super::json()).unwrap();
            } else {
                panic!(
                    "schemas/release.schema.json is stale: run `REL_UPDATE_SCHEMA=1 cargo test committed_schema` or `rel schema > schemas/release.schema.json`"
                );
            }
        }
    }

    #[test]
    fn no_empty_defaults_and_platform_lists() {
        let v = super::value();
        let text = serde_json::to_string(&v).unwrap();
        assert!(!text.contains("\"default\":null"));
        assert!(!text.contains("\"default\":[]"));
        assert_eq!(v["properties"]["version"]["const"], 1);
        let goos = &v["$defs"]["Build"]["properties"]["goos"]["items"]["enum"];
        assert!(goos.as_array().unwrap().iter().any(|x| x == "linux"));
        let draft = &v["$defs"]["Release"]["properties"]["draft"];
        assert!(
            draft["anyOf"][1]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == "yes"),
            "{draft}"
        );
    }
}
