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
