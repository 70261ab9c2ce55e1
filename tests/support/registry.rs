//! A real OCI registry (Debian's `docker-registry`) on 127.0.0.1 for the tests.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `docker-registry` on 127.0.0.1, killed when dropped.
pub struct Registry {
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
    dir: tempfile::TempDir,
    auth: Option<(String, String)>,
}

impl Registry {
    pub fn start() -> Registry {
        Self::start_with(None)
    }

    pub fn start_with(auth: Option<(&str, &str)>) -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = auth {
            let hash = bcrypt::hash(pass, 4).unwrap();
            std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
            cfg.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), cfg).unwrap();
        let mut r = Registry {
            child: None,
            port,
            dir,
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
        };
        r.resume();
        r
    }

    /// (Re)start the process on the same port and storage.
    pub fn resume(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("log"))
            .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("docker-registry is missing: run scripts/test.sh, which installs it");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: x\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.") {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "docker-registry did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Completed blob uploads (the PUT that closes a POST session), from the registry's log.
    pub fn blob_uploads(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| {
                l.contains("\"PUT /v2/")
                    && l.contains("/blobs/uploads/")
                    && l.contains("HTTP/1.1\" 201 ")
            })
            .count()
    }

    pub fn skopeo(&self, args: &[&str]) -> String {
        let mut c = Command::new("skopeo");
        c.args(args);
        let out = c
            .output()
            .expect("skopeo is missing: run scripts/test.sh, which installs it");
        assert!(
            out.status.success(),
            "skopeo {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn creds(&self) -> Vec<String> {
        match &self.auth {
            Some((u, p)) => vec!["--creds".into(), format!("{u}:{p}")],
            None => vec![],
        }
    }

    /// `skopeo inspect --raw` of `repo:tag` as JSON.
    pub fn inspect_raw(&self, reference: &str) -> Value {
        let mut args = vec![
            "inspect".to_string(),
            "--raw".into(),
            "--tls-verify=false".into(),
        ];
        args.extend(self.creds());
        args.push(format!("docker://{}/{reference}", self.host()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        serde_json::from_str(&self.skopeo(&a)).unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
