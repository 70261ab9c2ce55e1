//! Registry credentials: where they come from, never where they go.
//!
//! Order: `REL_REGISTRY_TOKEN` (a bearer token), `REL_REGISTRY_USERNAME` +
//! `REL_REGISTRY_PASSWORD` (basic, or exchanged for a bearer token when the registry asks
//! for one), then `~/.docker/config.json` (`$DOCKER_CONFIG`) with its `auths`,
//! `credsStore` and `credHelpers`, then anonymous. The result only says *which* source was
//! used, so error messages can point at it without ever showing a secret.

use oci_client::secrets::RegistryAuth;

/// Credentials for one registry and a description of their source (safe to print).
pub struct Credentials {
    /// What to authenticate with.
    pub auth: RegistryAuth,
    /// `REL_REGISTRY_USERNAME/REL_REGISTRY_PASSWORD`, `docker config`, `anonymous`, …
    pub source: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials(from {})", self.source)
    }
}

/// The key docker uses for a registry host in config.json.
fn docker_key(registry: &str) -> String {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://index.docker.io/v1/".into()
        }
        r => r.to_string(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where the docker config is read from: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json` (what the credential lookup reads).
fn docker_config_path() -> String {
    match env("DOCKER_CONFIG") {
        Some(d) => format!("{}/config.json", d.trim_end_matches('/')),
        None => "~/.docker/config.json".into(),
    }
}

/// Credentials for `registry` (a host, with port if any).
pub fn resolve(registry: &str) -> Credentials {
    if let Some(t) = env("REL_REGISTRY_TOKEN") {
        return Credentials {
            auth: RegistryAuth::Bearer(t),
            source: "REL_REGISTRY_TOKEN".into(),
        };
    }
    if let (Some(u), Some(p)) = (env("REL_REGISTRY_USERNAME"), env("REL_REGISTRY_PASSWORD")) {
        return Credentials {
            auth: RegistryAuth::Basic(u, p),
            source: "REL_REGISTRY_USERNAME/REL_REGISTRY_PASSWORD".into(),
        };
    }
    match docker_credential::get_credential(&docker_key(registry)) {
        Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => Credentials {
            auth: RegistryAuth::Basic(u, p),
            source: format!("docker config ({})", docker_config_path()),
        },
        Ok(docker_credential::DockerCredential::IdentityToken(_)) => {
            tracing::warn!(
                "the docker config holds an identity token for {registry}, which rel cannot use; trying anonymously (set REL_REGISTRY_USERNAME/REL_REGISTRY_PASSWORD)"
            );
            anonymous()
        }
        Err(docker_credential::CredentialRetrievalError::NoCredentialConfigured)
        | Err(docker_credential::CredentialRetrievalError::ConfigNotFound)
        | Err(docker_credential::CredentialRetrievalError::ConfigReadError) => anonymous(),
        Err(docker_credential::CredentialRetrievalError::HelperFailure { helper, .. }) => {
            // The helper's output is not shown: it may hold a secret.
            tracing::warn!(
                "the credential helper docker-credential-{helper} failed for {registry}; trying anonymously"
            );
            anonymous()
        }
        Err(e) => {
            tracing::warn!(
                "cannot read docker credentials for {registry} ({e}); trying anonymously"
            );
            anonymous()
        }
    }
}

fn anonymous() -> Credentials {
    Credentials {
        auth: RegistryAuth::Anonymous,
        source: "anonymous (no REL_REGISTRY_USERNAME/REL_REGISTRY_PASSWORD and no docker login)"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_key() {
        assert_eq!(docker_key("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(docker_key("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials {
            auth: RegistryAuth::Basic("u".into(), "s3cret".into()),
            source: "test".into(),
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
