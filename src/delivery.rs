//! Webhook delivery: a background task of every server instance that sends the outbox
//! (`webhook_deliveries`) to subscribers, signed, with exponential backoff.
//!
//! Each delivery is claimed with a lease in the database before it is sent, so several
//! instances share the work without sending one delivery twice at the same time; a delivery
//! whose sender died (crash, `kill -9`) is claimed again when its lease runs out. Delivery is
//! therefore *at least once*: receivers deduplicate by `Innofolio-Delivery` (or the event's
//! `seq`).
//!
//! Signature: `Innofolio-Signature: v1=HEX`, where HEX is the lower-case hex HMAC-SHA256 with
//! the subscription's secret as key over `TIMESTAMP + "." + BODY`, and TIMESTAMP is the
//! `Innofolio-Timestamp` header (Unix seconds). Receivers should recompute it, compare in
//! constant time and reject timestamps more than five minutes old.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::webhooks::{self as repo, AttemptResult, Claimed};
use crate::db::Db;

/// How deliveries are paced; read from the environment at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How often to look for due deliveries (`INNOFOLIO_WEBHOOK_POLL_MS`, default 1000).
    pub poll: Duration,
    /// First retry delay; doubles with every failed attempt (`INNOFOLIO_WEBHOOK_RETRY_BASE_MS`,
    /// default 5000).
    pub retry_base: Duration,
    /// Longest delay between attempts (1 hour).
    pub retry_max: Duration,
    /// Attempts before a delivery is marked `failed` (`INNOFOLIO_WEBHOOK_MAX_ATTEMPTS`,
    /// default 20: about 14 hours with the defaults).
    pub max_attempts: i64,
    /// How long a claimed delivery is reserved for its sender.
    pub lease: Duration,
    /// Time limit of one HTTP request.
    pub timeout: Duration,
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

impl Settings {
    pub fn from_env() -> Settings {
        Settings {
            poll: env_ms("INNOFOLIO_WEBHOOK_POLL_MS", 1000).max(Duration::from_millis(10)),
            retry_base: env_ms("INNOFOLIO_WEBHOOK_RETRY_BASE_MS", 5000),
            retry_max: Duration::from_secs(3600),
            max_attempts: std::env::var("INNOFOLIO_WEBHOOK_MAX_ATTEMPTS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(20),
            lease: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }

    /// The delay before the next attempt after `failures` failed attempts, or `None` when the
    /// delivery has failed for good.
    pub fn retry_delay(&self, failures: i64) -> Option<Duration> {
        if failures >= self.max_attempts {
            return None;
        }
        let factor = 1u32 << failures.clamp(1, 20).saturating_sub(1);
        Some(self.retry_base.saturating_mul(factor).min(self.retry_max))
    }
}

/// `v1=` + hex HMAC-SHA256 of `timestamp.body` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut out = String::from("v1=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Sends one delivery and reports what happened (never fails: errors are the result).
fn attempt(agent: &ureq::Agent, job: &Claimed) -> AttemptResult {
    let attempted_at = crate::db::now();
    let started = Instant::now();
    let body = crate::api::events::Event::try_from(job.event.clone())
        .map_err(|e| e.to_string())
        .and_then(|e| serde_json::to_string(&e).map_err(|e| e.to_string()));
    let (status_code, error) = match body {
        Err(e) => (None, Some(format!("cannot build the body: {e}"))),
        Ok(body) => {
            let timestamp = chrono::Utc::now().timestamp();
            let result = agent
                .post(&job.url)
                .set("Content-Type", "application/json")
                .set(
                    "User-Agent",
                    concat!("Innofolio-Webhooks/", env!("CARGO_PKG_VERSION")),
                )
                .set("Innofolio-Event", &job.event.event_type)
                .set("Innofolio-Event-Seq", &job.event.seq.to_string())
                .set("Innofolio-Delivery", &job.delivery.id.to_string())
                .set("Innofolio-Timestamp", &timestamp.to_string())
                .set("Innofolio-Signature", &sign(&job.secret, timestamp, &body))
                .send_string(&body);
            match result {
                Ok(res) => (Some(i64::from(res.status())), None),
                Err(ureq::Error::Status(code, res)) => {
                    let text: String = res
                        .into_string()
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect();
                    (Some(i64::from(code)), Some(format!("HTTP {code}: {text}")))
                }
                Err(e) => (None, Some(e.to_string().chars().take(500).collect())),
            }
        }
    };
    AttemptResult {
        attempted_at,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        delivered: status_code.is_some_and(|c| (200..300).contains(&c)),
        status_code,
        error,
    }
}

/// Runs until the server's runtime stops: claims due deliveries, sends them, logs each attempt.
pub async fn run(db: Db, settings: Settings) {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(settings.timeout)
        .redirects(0)
        .build();
    loop {
        let now = crate::db::now();
        let lease = TimeDelta::from_std(settings.lease).unwrap_or(TimeDelta::seconds(60));
        // Look first with a read: claiming is a write, and an idle server should not take the
        // write lock every poll.
        let due = db.read(move |c| Ok(repo::any_due(c, now)?)).await;
        if !matches!(due, Ok(true)) {
            actix_web::rt::time::sleep(settings.poll).await;
            continue;
        }
        let claimed = db
            .write(move |c| Ok(repo::claim_due(c, now, now + lease, 20)?))
            .await;
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery: cannot claim deliveries");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            actix_web::rt::time::sleep(settings.poll).await;
            continue;
        }
        for job in claimed {
            let agent = agent.clone();
            let failures = job.delivery.attempts + 1;
            let id = job.delivery.id;
            let result = match actix_web::web::block(move || attempt(&agent, &job)).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery: sender thread failed");
                    continue;
                }
            };
            let retry_at = if result.delivered {
                None
            } else {
                settings.retry_delay(failures).map(|d| {
                    crate::db::now() + TimeDelta::from_std(d).unwrap_or(TimeDelta::hours(1))
                })
            };
            if !result.delivered {
                tracing::info!(delivery = id, attempt = failures, error = ?result.error, "webhook delivery failed");
            }
            if let Err(e) = db
                .write(move |c| Ok(repo::record_attempt(c, id, &result, retry_at)?))
                .await
            {
                tracing::warn!(error = %e, delivery = id, "webhook delivery: cannot record attempt");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_and_body() {
        // Expected value computed independently with Python's hmac module.
        assert_eq!(
            sign("secret", 1_700_000_000, "{}"),
            "v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stops() {
        let s = Settings {
            poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            max_attempts: 20,
            lease: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        };
        assert_eq!(s.retry_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(s.retry_delay(2), Some(Duration::from_secs(10)));
        assert_eq!(s.retry_delay(4), Some(Duration::from_secs(40)));
        assert_eq!(s.retry_delay(15), Some(Duration::from_secs(3600)));
        assert_eq!(s.retry_delay(20), None);
    }
}
