//! The JSON Schema of the config, derived from the model.

/// The schema as pretty JSON (what `rel schema` prints and `schemas/release.schema.json` holds).
pub fn json() -> String {
    let schema = schemars::schema_for!(crate::config::Config);
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serialises");
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
                panic!("schemas/release.schema.json is stale: run `REL_UPDATE_SCHEMA=1 cargo test committed_schema` or `rel schema > schemas/release.schema.json`");
            }
        }
    }
}
