//! Checks requests against GitHub's OpenAPI description (npm `@octokit/openapi`,
//! `generated/api.github.com.json`): method and path template, query parameters, and JSON
//! bodies against the operation's request schema. A request the description does not know
//! is a violation.
#![allow(dead_code)]

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// Where `scripts/test.sh` installs the description.
pub fn spec_path() -> PathBuf {
    if let Ok(p) = std::env::var("REL_GITHUB_OPENAPI") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/openapi/node_modules/@octokit/openapi/generated/api.github.com.json")
}

struct Op {
    method: String,
    segs: Vec<String>,
    id: String,
    /// (name, required, schema) of `in: query` parameters.
    query: Vec<(String, bool, Value)>,
    body_required: bool,
    content_types: Vec<String>,
    json_schema: Option<Value>,
    /// status → the JSON schema of that answer, as the description writes it (`$ref`s kept).
    responses: HashMap<String, Value>,
}

/// The loaded description.
pub struct OpenApi {
    ops: Vec<Op>,
    validators: Mutex<HashMap<usize, std::sync::Arc<jsonschema::Validator>>>,
    /// The description's `components`, which response schemas refer to.
    components: Value,
    response_validators: Mutex<HashMap<(usize, String), std::sync::Arc<jsonschema::Validator>>>,
}

/// The description, loaded once per test process. Panics (fails the test) when missing.
pub fn get() -> &'static OpenApi {
    static SPEC: OnceLock<OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path();
        let f = std::fs::File::open(&path).unwrap_or_else(|e| {
            panic!("GitHub's OpenAPI description is missing at {} ({e}): run scripts/test.sh, which installs @octokit/openapi", path.display())
        });
        let spec: Value = serde_json::from_reader(std::io::BufReader::new(f)).expect("OpenAPI JSON");
        OpenApi::new(&spec)
    })
}

/// Inline `$ref`s and turn OpenAPI 3.0 `nullable` into JSON Schema.
fn to_json_schema(v: &Value, spec: &Value, depth: usize) -> Value {
    if depth > 40 {
        return Value::Bool(true);
    }
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                let ptr = r.trim_start_matches('#');
                let target = spec.pointer(ptr).cloned().unwrap_or(Value::Bool(true));
                return to_json_schema(&target, spec, depth + 1);
            }
            let mut out = Map::new();
            for (k, x) in m {
                if matches!(
                    k.as_str(),
                    "example"
                        | "examples"
                        | "nullable"
                        | "x-github"
                        | "discriminator"
                        | "xml"
                        | "externalDocs"
                ) {
                    continue;
                }
                let x = if matches!(
                    k.as_str(),
                    "properties" | "patternProperties" | "definitions"
                ) {
                    Value::Object(
                        x.as_object()
                            .map(|o| {
                                o.iter()
                                    .map(|(k, s)| (k.clone(), to_json_schema(s, spec, depth + 1)))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )
                } else {
                    to_json_schema(x, spec, depth + 1)
                };
                out.insert(k.clone(), x);
            }
            if m.get("nullable").and_then(Value::as_bool) == Some(true) {
                if let Some(t) = out.get("type").cloned() {
                    out.insert("type".into(), Value::Array(vec![t, Value::from("null")]));
                } else if out.contains_key("oneOf") || out.contains_key("anyOf") {
                    // A nullable choice (`author: null` of a commit GitHub matched to no
                    // account): null, or one of the choices.
                    return serde_json::json!({"anyOf": [{"type": "null"}, Value::Object(out)]});
                }
                if let Some(e) = out.get_mut("enum").and_then(Value::as_array_mut) {
                    e.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| to_json_schema(x, spec, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl OpenApi {
    fn new(spec: &Value) -> OpenApi {
        let mut ops = Vec::new();
        let resolve = |p: &Value| -> Value {
            match p.get("$ref").and_then(Value::as_str) {
                Some(r) => spec
                    .pointer(r.trim_start_matches('#'))
                    .cloned()
                    .unwrap_or_default(),
                None => p.clone(),
            }
        };
        for (path, item) in spec["paths"].as_object().expect("paths") {
            let shared: Vec<Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (method, op) in item.as_object().expect("path item") {
                if !["get", "post", "put", "patch", "delete", "head"].contains(&method.as_str()) {
                    continue;
                }
                let params: Vec<Value> = shared
                    .iter()
                    .chain(
                        op.get("parameters")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten(),
                    )
                    .map(resolve)
                    .collect();
                let query = params
                    .iter()
                    .filter(|p| p["in"] == "query")
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or_default().to_string(),
                            p["required"].as_bool().unwrap_or(false),
                            p["schema"].clone(),
                        )
                    })
                    .collect();
                let body = op.get("requestBody").map(resolve);
                let content = body
                    .as_ref()
                    .and_then(|b| b["content"].as_object().cloned())
                    .unwrap_or_default();
                ops.push(Op {
                    method: method.to_uppercase(),
                    segs: path
                        .trim_matches('/')
                        .split('/')
                        .map(String::from)
                        .collect(),
                    id: op["operationId"].as_str().unwrap_or_default().to_string(),
                    query,
                    body_required: body
                        .as_ref()
                        .and_then(|b| b["required"].as_bool())
                        .unwrap_or(false),
                    content_types: content.keys().cloned().collect(),
                    json_schema: content
                        .get("application/json")
                        .map(|c| to_json_schema(&c["schema"], spec, 0)),
                    responses: op["responses"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter_map(|(status, r)| {
                            let schema =
                                resolve(r)["content"]["application/json"]["schema"].clone();
                            (!schema.is_null()).then(|| (status.clone(), schema))
                        })
                        .collect(),
                });
            }
        }
        OpenApi {
            ops,
            validators: Mutex::new(HashMap::new()),
            components: serde_json::json!({ "components": spec["components"].clone() }),
            response_validators: Mutex::new(HashMap::new()),
        }
    }

    /// Check an answer against the operation's response schema for `status`: what the fake
    /// serves must be what GitHub could send. An answer the description has no JSON schema
    /// for passes.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let Some((idx, op)) = self
            .ops
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                op.method == method
                    && op.segs.len() == segs.len()
                    && op
                        .segs
                        .iter()
                        .zip(&segs)
                        .all(|(t, s)| t.starts_with('{') || t == s)
            })
            .max_by_key(|(_, op)| op.segs.iter().filter(|s| !s.starts_with('{')).count())
        else {
            return Err(format!(
                "{method} {path} is not in GitHub's OpenAPI description"
            ));
        };
        let key = status.to_string();
        let Some(raw) = op.responses.get(&key) else {
            return Ok(());
        };
        let validator = {
            let mut cache = self.response_validators.lock().unwrap();
            match cache.get(&(idx, key.clone())) {
                Some(v) => v.clone(),
                None => {
                    let schema = to_json_schema(raw, &self.components, 0);
                    let v = std::sync::Arc::new(
                        jsonschema::validator_for(&schema)
                            .map_err(|e| format!("response schema of {}: {e}", op.id))?,
                    );
                    cache.insert((idx, key), v.clone());
                    v
                }
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(body)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {path} ({}): the {status} answer does not match the schema: {}",
                op.id,
                errors.join("; ")
            ))
        }
    }

    /// Check one request; `Ok(operationId)` or a description of what is wrong.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<String, String> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let matches = |op: &Op| {
            // A last `{path}` parameter (the contents API's file path) spans the remaining
            // segments: GitHub documents it as a path with its slashes.
            let rest_path = op
                .segs
                .last()
                .is_some_and(|l| l == "{path}" || l == "{ref}")
                && segs.len() >= op.segs.len();
            (op.segs.len() == segs.len() || rest_path)
                && op.segs.iter().zip(&segs).all(|(t, s)| {
                    if t.starts_with('{') {
                        !s.is_empty()
                    } else {
                        t == s
                    }
                })
        };
        // A literal segment beats a template one (`/releases/latest` vs `/releases/{id}`).
        let Some((idx, op)) = self
            .ops
            .iter()
            .enumerate()
            .filter(|(_, op)| op.method == method && matches(op))
            .max_by_key(|(_, op)| op.segs.iter().filter(|s| !s.starts_with('{')).count())
        else {
            return Err(format!(
                "{method} {path} is not in GitHub's OpenAPI description"
            ));
        };
        for (k, v) in query {
            let Some((_, _, schema)) = op.query.iter().find(|(n, _, _)| n == k) else {
                return Err(format!(
                    "{method} {path} ({}): unknown query parameter `{k}`",
                    op.id
                ));
            };
            if schema["type"] == "integer" && v.parse::<i64>().is_err() {
                return Err(format!(
                    "{method} {path} ({}): query parameter `{k}` must be an integer, got `{v}`",
                    op.id
                ));
            }
        }
        for (n, required, _) in &op.query {
            if *required && !query.iter().any(|(k, _)| k == n) {
                return Err(format!(
                    "{method} {path} ({}): missing required query parameter `{n}`",
                    op.id
                ));
            }
        }
        let has_body = body.is_some_and(|b| !b.is_empty());
        if op.body_required && !has_body {
            return Err(format!(
                "{method} {path} ({}): missing required body",
                op.id
            ));
        }
        if has_body {
            if op.content_types.is_empty() {
                return Err(format!("{method} {path} ({}): takes no body", op.id));
            }
            let ct = content_type
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if !op.content_types.contains(&ct) {
                return Err(format!(
                    "{method} {path} ({}): content type `{ct}` not one of {:?}",
                    op.id, op.content_types
                ));
            }
            if ct == "application/json" {
                let json: Value = serde_json::from_slice(body.unwrap())
                    .map_err(|e| format!("{method} {path}: body is not JSON: {e}"))?;
                let validator = {
                    let mut cache = self.validators.lock().unwrap();
                    match cache.get(&idx) {
                        Some(v) => v.clone(),
                        None => {
                            let schema = op.json_schema.clone().unwrap_or(Value::Bool(true));
                            let v = std::sync::Arc::new(
                                jsonschema::validator_for(&schema)
                                    .map_err(|e| format!("schema of {}: {e}", op.id))?,
                            );
                            cache.insert(idx, v.clone());
                            v
                        }
                    }
                };
                let errors: Vec<String> = validator
                    .iter_errors(&json)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                if !errors.is_empty() {
                    return Err(format!(
                        "{method} {path} ({}): body does not match the schema: {}",
                        op.id,
                        errors.join("; ")
                    ));
                }
            }
        }
        Ok(op.id.clone())
    }
}
