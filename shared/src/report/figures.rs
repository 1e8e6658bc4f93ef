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
mod tests;
