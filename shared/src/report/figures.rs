//! Availability and recovery over a span, from the recorded health transitions: the
//! seed's success metrics, for `stagingctl status` (this month so far).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::state::{HealthStatus, HealthTransition};
use crate::schedule::BusinessHours;

/// Availability and recovery over a span: the seed's success metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    /// Business-hours time in the span, in seconds.
    pub business_secs: i64,
    /// Of which unhealthy, in seconds.
    pub down_secs: i64,
    /// `1 - down / business`; `None` without business hours in the span.
    pub availability: Option<f64>,
    /// Outages that ended in the span (recovered, or closed by a planned teardown).
    pub outages: u32,
    /// The mean time to recovery (wall clock, first failure to first answer again) of
    /// those that recovered, in seconds; an outage closed by a teardown did not recover.
    pub mttr_secs: Option<i64>,
}

/// Availability in business hours and the mean time to recovery between `from` and
/// `now`, from the recorded transitions (an outage still open counts up to `now`).
pub fn figures(
    history: &[HealthTransition],
    hours: &BusinessHours,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Figures {
    let mut sorted: Vec<HealthTransition> = history.to_vec();
    sorted.sort_by_key(|t| t.at);
    // (start, end, recovered): an outage ends with a recovery, or is closed by a
    // planned teardown (paused, not recovered).
    let mut outages: Vec<(DateTime<Utc>, Option<DateTime<Utc>>, bool)> = Vec::new();
    for t in &sorted {
        match (t.to, outages.last_mut()) {
            (HealthStatus::Unhealthy, Some((_, None, _))) => {}
            (HealthStatus::Unhealthy, _) => outages.push((t.at, None, false)),
            (to, Some((_, end @ None, recovered))) => {
                *end = Some(t.at);
                *recovered = to != HealthStatus::Unknown;
            }
            _ => {}
        }
    }
    let windows = hours.windows(from, now);
    let business_secs: i64 = windows.iter().map(|w| (w.end - w.start).num_seconds()).sum();
    let mut down_secs = 0;
    let mut ended = Vec::new();
    let mut outage_count = 0;
    for (start, end, recovered) in &outages {
        let stop = end.unwrap_or(now).min(now);
        for w in &windows {
            let (a, b) = ((*start).max(w.start), stop.min(w.end));
            if b > a {
                down_secs += (b - a).num_seconds();
            }
        }
        if let Some(end) = end
            && *end >= from
            && *end <= now
        {
            outage_count += 1;
            if *recovered {
                ended.push((*end - *start).num_seconds());
            }
        }
    }
    Figures {
        business_secs,
        down_secs,
        availability: (business_secs > 0).then(|| 1.0 - down_secs as f64 / business_secs as f64),
        outages: outage_count,
        mttr_secs: (!ended.is_empty()).then(|| ended.iter().sum::<i64>() / ended.len() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn availability_and_mttr_count_business_hours_only() {
        let hours = BusinessHours::default(); // Mon-Fri 08:00-18:00 UTC
        let t = |at: &str, from, to| HealthTransition { at: utc(at), from, to };
        use HealthStatus::*;
        let month = utc("2026-11-01T00:00:00Z");
        // Mon 23 Nov: down 10:00-10:30 (30 min). Tue 24: down 17:50 - Wed 08:10, i.e. 10
        // min on Tuesday and 10 on Wednesday in business hours; the night does not count.
        let history = [
            t("2026-11-23T09:00:00Z", Unknown, Healthy),
            t("2026-11-23T10:00:00Z", Healthy, Unhealthy),
            t("2026-11-23T10:30:00Z", Unhealthy, Healthy),
            t("2026-11-24T17:50:00Z", Healthy, Unhealthy),
            t("2026-11-25T08:10:00Z", Unhealthy, Healthy),
        ];
        let now = utc("2026-11-27T18:00:00Z");
        let f = figures(&history, &hours, month, now);
        // 20 working days in November up to Friday the 27th, 10 hours each.
        assert_eq!(f.business_secs, 20 * 10 * 3600);
        assert_eq!(f.down_secs, 50 * 60);
        assert_eq!(f.outages, 2);
        assert_eq!(f.mttr_secs, Some((30 * 60 + 14 * 3600 + 20 * 60) / 2));
        assert!((f.availability.unwrap() - (1.0 - 3000.0 / 720000.0)).abs() < 1e-12);
        // An open outage counts up to now; no outage ended, no MTTR.
        let open = [t("2026-11-27T17:00:00Z", Healthy, Unhealthy)];
        let f = figures(&open, &hours, month, now);
        assert_eq!((f.down_secs, f.outages, f.mttr_secs), (3600, 0, None));
        // A month with no business hours has no availability.
        let f = figures(&[], &BusinessHours { up_time: None, ..hours.clone() }, month, now);
        assert_eq!((f.availability, f.business_secs), (None, 0));
        // Paused (down by design) ends an outage like a recovery does.
        let paused = [t("2026-11-27T17:30:00Z", Healthy, Unhealthy), t("2026-11-27T18:00:00Z", Unhealthy, Unknown)];
        let f = figures(&paused, &hours, month, utc("2026-11-27T20:00:00Z"));
        assert_eq!((f.down_secs, f.outages, f.mttr_secs), (1800, 1, None), "closed by the teardown: not a recovery");
    }
}
