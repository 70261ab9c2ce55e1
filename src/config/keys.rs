//! Every unknown key of a config at once.
//!
//! Typed deserialization stops at the first unknown key. When it does, this walks the
//! YAML as plain data against the config's JSON Schema (the same one `rel schema` prints)
//! and lists every key the schema does not have, each with its path, so a user fixes a
//! config copied from elsewhere in one pass. It runs only on that error path.

use super::locate::Seg;
use serde_json::Value;

/// A key the schema does not have: where it is and the keys that would be valid there.
pub struct Unknown {
    /// The path of the key itself.
    pub path: Vec<Seg>,
    /// The key.
    pub key: String,
    /// The keys valid in that mapping.
    pub expected: Vec<String>,
}

/// Every unknown key of `data` under `schema` (the whole config schema, with `$defs`).
pub fn unknown_keys(data: &Value, schema: &Value) -> Vec<Unknown> {
    let mut out = vec![];
    walk(data, schema, schema, &mut vec![], &mut out);
    out
}

/// `schema` with a `$ref` followed.
fn resolve<'a>(s: &'a Value, root: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root["$defs"].get(name))
            .unwrap_or(s),
        None => s,
    }
}

/// The schema itself and each of its `anyOf`/`oneOf`/`allOf` members, resolved.
fn alternatives<'a>(s: &'a Value, root: &'a Value) -> Vec<&'a Value> {
    let s = resolve(s, root);
    let mut out = vec![s];
    for k in ["anyOf", "oneOf", "allOf"] {
        for m in s.get(k).and_then(Value::as_array).into_iter().flatten() {
            out.extend(alternatives(m, root));
        }
    }
    out
}

fn walk(data: &Value, schema: &Value, root: &Value, path: &mut Vec<Seg>, out: &mut Vec<Unknown>) {
    let alts = alternatives(schema, root);
    match data {
        Value::Object(map) => {
            // Only a closed mapping with known properties can say a key is unknown.
            let Some(obj) = alts.iter().find(|a| a.get("properties").is_some()) else {
                return;
            };
            let props = obj["properties"].as_object().cloned().unwrap_or_default();
            let closed = obj.get("additionalProperties") == Some(&Value::Bool(false));
            for (k, v) in map {
                path.push(Seg::Key(k.clone()));
                match props.get(k) {
                    Some(sub) => walk(v, sub, root, path, out),
                    None if closed && k != "<<" => out.push(Unknown {
                        path: path.clone(),
                        key: k.clone(),
                        expected: props.keys().cloned().collect(),
                    }),
                    None => {}
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let Some(item) = alts.iter().find_map(|a| a.get("items")) else {
                return;
            };
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(v, item, root, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_unknown_key_with_its_path() {
        let schema = serde_json::to_value(schemars::schema_for!(crate::config::Config)).unwrap();
        let data = serde_json::json!({
            "projct_name": "x",
            "builds": [{"id": "a", "goso": ["linux"]}, {"id": "b"}],
            "archives": [{"files": ["README*", {"src": "x", "dest": "y"}]}],
            "release": {"github": {"owner": "a", "name": "b", "org": "c"}},
        });
        let found: Vec<String> = unknown_keys(&data, &schema)
            .iter()
            .map(|u| super::super::locate::display(&u.path))
            .collect();
        assert_eq!(
            found,
            [
                "archives[0].files[1].dest",
                "builds[0].goso",
                "projct_name",
                "release.github.org"
            ]
        );
    }
}
