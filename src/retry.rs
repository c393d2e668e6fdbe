//! When and how long to wait before trying a request again. Pure code.
//!
//! Only failures before any answer began are retried: a connection that could not
//! be made, or a 429/502/503/504 status. A POST whose stream has started is never
//! replayed. Waits grow exponentially with jitter, honour `Retry-After`, and are capped.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Status};

/// How many retries and how long to wait; `max_retries` 0 (the default) is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The first wait; each retry doubles it.
    pub base: Duration,
    /// No wait is longer, `Retry-After` included.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
        }
    }
}

/// Whether a failure happened before any answer began and may pass on a retry.
pub fn retryable(e: &Error) -> bool {
    match e.status {
        Status::Connect => true,
        Status::Http => matches!(e.http_status, 429 | 502 | 503 | 504),
        _ => false,
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0 for the first): the server's
    /// `Retry-After` when it gave one, else `base * 2^attempt` with equal jitter
    /// (half fixed, half random by `noise`); never more than `cap`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, noise: u64) -> Duration {
        if let Some(d) = retry_after {
            return d.min(self.cap);
        }
        let full = self
            .base
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.cap);
        let half = full / 2;
        let jitter = Duration::from_nanos(noise % (half.as_nanos() as u64).max(1));
        half + jitter
    }
}

/// A `Retry-After` value: delta-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), as a wait from `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = UNIX_EPOCH + Duration::from_secs(parse_http_date(v)?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(s: &str) -> Option<u64> {
    let mut it = s.split_whitespace();
    let (_weekday, day, month, year, time, zone) = (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    );
    if zone != "GMT" || it.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms[..] else { return None };
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || year < 1970 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    u64::try_from(days * 86400 + h * 3600 + m * 60 + sec).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_retryable() {
        let http = |code| Error {
            http_status: code,
            ..Error::new(Status::Http, "")
        };
        assert!(retryable(&Error::new(Status::Connect, "")));
        for code in [429, 502, 503, 504] {
            assert!(retryable(&http(code)), "{code}");
        }
        for code in [400, 401, 404, 500] {
            assert!(!retryable(&http(code)), "{code}");
        }
        for s in [Status::Tls, Status::Io, Status::TimedOut, Status::Protocol] {
            assert!(!retryable(&Error::new(s, "")), "{s:?}");
        }
    }

    #[test]
    fn delays_grow_with_jitter_and_cap() {
        let p = RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        assert_eq!(p.delay(0, None, 0), Duration::from_millis(50));
        assert!(p.delay(0, None, u64::MAX) < Duration::from_millis(100));
        assert_eq!(p.delay(2, None, 0), Duration::from_millis(200));
        assert_eq!(
            p.delay(10, None, 0),
            Duration::from_millis(500),
            "capped at 1 s, half fixed"
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(7)), 0),
            Duration::from_secs(1),
            "Retry-After capped"
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_millis(30)), 9),
            Duration::from_millis(30)
        );
        assert_eq!(
            p.delay(40, None, 0),
            Duration::from_millis(500),
            "no overflow"
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21 07:27:50 GMT
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(1_709_164_800)
        );
        for bad in [
            "soon",
            "-1",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
