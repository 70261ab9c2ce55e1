//! The one retry policy of every HTTP client (GitHub and OCI registries): exponential
//! backoff with jitter, within a bounded total time and number of attempts, on 5xx, resets,
//! timeouts and rate limits (429, and 403 when its headers or body say rate limit), waiting
//! at least as long as the server's `Retry-After` / `X-RateLimit-Reset` asks.
//!
//! Client libraries' own retry layers retry at once, without backoff, and cannot see GitHub's
//! rate-limit headers, so every step of the publish flow is wrapped here instead. A step is
//! retried as a whole: each step re-reads the state it depends on, so a request that reached
//! GitHub before its response was lost is not repeated blindly.

use http::HeaderMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A failed attempt: whether it may succeed when tried again, and after how long at least.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 5xx, timeout, reset, rate limit: worth another try. `wait` is the server's hint.
    Transient {
        message: String,
        wait: Option<Duration>,
    },
    /// Anything else: trying again would fail the same way.
    Fatal(String),
    /// Transient failures until the budget ran out: time, not a fix, is what it needs.
    Exhausted(String),
}

impl Failure {
    /// The human-readable cause.
    pub fn message(&self) -> &str {
        match self {
            Failure::Transient { message, .. }
            | Failure::Fatal(message)
            | Failure::Exhausted(message) => message,
        }
    }
}

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The first backoff delay; each next one doubles.
    pub first: Duration,
    /// The longest single backoff delay (a server hint may be longer, within the budget).
    pub max_delay: Duration,
    /// The total time a step may spend waiting and retrying.
    pub budget: Duration,
    /// The most attempts a step gets, the first included.
    pub attempts: u32,
}

impl Default for Policy {
    /// GitHub: a publish step may wait out a rate limit.
    fn default() -> Self {
        Policy {
            first: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            budget: Duration::from_secs(600),
            attempts: u32::MAX,
        }
    }
}

impl Policy {
    /// Registry calls: many small requests, so a few quick attempts each; a re-run resumes
    /// where a push stopped.
    pub fn registry() -> Self {
        Policy {
            first: Duration::from_millis(300),
            max_delay: Duration::from_secs(30),
            budget: Duration::from_secs(600),
            attempts: 4,
        }
    }
}

impl Policy {
    /// The backoff before attempt `attempt + 1` (0-based): `first * 2^attempt`, capped, with
    /// "equal jitter" (a random point in the upper half) so parallel uploads that failed
    /// together do not retry together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .first
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let half = exp / 2;
        half + half.mul_f64(random_unit())
    }
}

/// A random number in `[0, 1)`, from the standard library's randomly keyed hasher (no
/// dependency needed for jitter).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether an HTTP status (with its headers and body) is worth retrying, and the wait the
/// server asked for: 5xx; 429; 403 when it is a rate limit (`Retry-After`,
/// `X-RateLimit-Remaining: 0`, or a "secondary rate limit" message), not a permission error.
pub fn classify(status: u16, headers: &HeaderMap, body: &str) -> Option<Option<Duration>> {
    let hint = server_wait(headers);
    match status {
        500..=599 => Some(hint),
        429 => Some(hint.or(Some(Duration::from_secs(60)))),
        403 => {
            let limited = headers.contains_key("retry-after")
                || header(headers, "x-ratelimit-remaining").as_deref() == Some("0")
                || body.to_ascii_lowercase().contains("rate limit");
            // Without a hint, GitHub asks clients to wait at least a minute after a
            // secondary rate limit.
            limited.then_some(hint.or(Some(Duration::from_secs(60))))
        }
        _ => None,
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// `Retry-After` (seconds) wins; else, when the primary limit is used up, the time until
/// `X-RateLimit-Reset` (unix seconds).
pub fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    if let Some(secs) = header(headers, "retry-after").and_then(|s| s.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    if header(headers, "x-ratelimit-remaining").as_deref() == Some("0")
        && let Some(reset) =
            header(headers, "x-ratelimit-reset").and_then(|s| s.parse::<u64>().ok())
    {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Some(Duration::from_secs(
            reset.saturating_sub(now).saturating_add(1),
        ));
    }
    None
}

/// Why [`run_with`] stopped trying: the last error, and whether it was transient (so the
/// retries ran out rather than a fatal error ending them).
#[derive(Debug)]
pub struct Stopped<E> {
    /// The last error.
    pub error: E,
    /// Whether the retries ran out (the error itself was worth retrying).
    pub exhausted: bool,
    /// What happened, for the message: attempts, time spent, the next wait.
    pub detail: String,
}

/// Run `step` until it succeeds, fails with an error `classify` calls fatal (`None`), or
/// the policy's attempts, budget or `deadline` run out. `classify` returns the server's wait
/// hint for a transient error.
pub async fn run_with<T, E, F, Fut>(
    policy: Policy,
    deadline: Option<Instant>,
    what: &str,
    classify: impl Fn(&E) -> Option<Option<Duration>>,
    mut step: F,
) -> Result<T, Stopped<E>>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let start = Instant::now();
    let mut end = start
        .checked_add(policy.budget)
        .unwrap_or(start + Duration::from_secs(3600));
    if let Some(d) = deadline {
        end = end.min(d);
    }
    let mut attempt = 0u32;
    loop {
        let error = match step().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let Some(wait) = classify(&error) else {
            return Err(Stopped {
                error,
                exhausted: false,
                detail: String::new(),
            });
        };
        let delay = wait.map_or_else(|| policy.backoff(attempt), |w| w.max(policy.backoff(0) / 2));
        let now = Instant::now();
        if attempt + 1 >= policy.attempts || now.checked_add(delay).is_none_or(|t| t > end) {
            let spent = now.duration_since(start).as_secs();
            return Err(Stopped {
                error,
                exhausted: true,
                detail: format!(
                    "gave up after {} attempts in {spent}s; the next try would have been in {}s",
                    attempt + 1,
                    delay.as_secs()
                ),
            });
        }
        tracing::warn!("{what}: {error}; retrying in {:.1}s", delay.as_secs_f64());
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// [`run_with`] for steps that classify their own failures ([`Failure`]).
pub async fn run<T, F, Fut>(
    policy: Policy,
    deadline: Option<Instant>,
    what: &str,
    step: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let classify = |f: &Failure| match f {
        Failure::Transient { wait, .. } => Some(*wait),
        _ => None,
    };
    run_with(policy, deadline, what, classify, step)
        .await
        .map_err(|s| match (s.exhausted, s.error) {
            (true, e) => Failure::Exhausted(format!("{} ({})", e.message(), s.detail)),
            (false, e) => e,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = Policy {
            first: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            budget: Duration::from_secs(5),
            attempts: u32::MAX,
        };
        for attempt in 0..8 {
            let d = p.backoff(attempt);
            let exp = (Duration::from_millis(100) * (1 << attempt)).min(Duration::from_secs(1));
            assert!(
                d >= exp / 2 && d <= exp,
                "attempt {attempt}: {d:?} not in [{:?}, {exp:?}]",
                exp / 2
            );
        }
        let many: std::collections::BTreeSet<_> = (0..20).map(|_| p.backoff(3)).collect();
        assert!(many.len() > 1, "jitter varies the delay");
    }

    #[test]
    fn classifies_rate_limits_and_permission_errors() {
        assert_eq!(classify(502, &HeaderMap::new(), ""), Some(None));
        assert_eq!(
            classify(403, &headers(&[("retry-after", "7")]), ""),
            Some(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            classify(
                403,
                &HeaderMap::new(),
                "Resource not accessible by integration"
            ),
            None
        );
        assert!(
            classify(
                403,
                &HeaderMap::new(),
                "You have exceeded a secondary rate limit"
            )
            .is_some()
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let reset = (now + 3).to_string();
        let w = classify(
            429,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ]),
            "",
        )
        .unwrap()
        .unwrap();
        assert!(
            w >= Duration::from_secs(3) && w <= Duration::from_secs(5),
            "{w:?}"
        );
        assert_eq!(classify(404, &HeaderMap::new(), ""), None);
        assert_eq!(classify(422, &HeaderMap::new(), ""), None);
    }

    #[tokio::test]
    async fn retries_until_success_and_gives_up_within_budget() {
        let p = Policy {
            first: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            budget: Duration::from_millis(200),
            attempts: u32::MAX,
        };
        let mut n = 0;
        let r = run(p, None, "t", || {
            n += 1;
            let k = n;
            async move {
                if k < 3 {
                    Err(Failure::Transient {
                        message: "502".into(),
                        wait: None,
                    })
                } else {
                    Ok(k)
                }
            }
        })
        .await;
        assert_eq!(r.unwrap(), 3);
        let start = Instant::now();
        let r: Result<(), _> = run(p, None, "t", || async {
            Err(Failure::Transient {
                message: "503".into(),
                wait: None,
            })
        })
        .await;
        assert!(matches!(r, Err(Failure::Exhausted(m)) if m.contains("gave up")));
        // The attempt limit ends it too.
        let mut tries = 0;
        let r: Result<(), _> = run(Policy { attempts: 2, ..p }, None, "t", || {
            tries += 1;
            async {
                Err(Failure::Transient {
                    message: "reset".into(),
                    wait: None,
                })
            }
        })
        .await;
        assert!(matches!(r, Err(Failure::Exhausted(_))));
        assert_eq!(tries, 2);
        assert!(start.elapsed() < Duration::from_secs(2));
        let r: Result<(), _> =
            run(p, None, "t", || async { Err(Failure::Fatal("404".into())) }).await;
        assert!(matches!(r, Err(Failure::Fatal(m)) if m == "404"));
    }
}
