//! CloudWatch metrics as embedded-metric-format (EMF) log lines: a function prints the
//! line to stdout and CloudWatch Logs extracts the metric, with no API call and no
//! permission beyond writing logs.

use chrono::{DateTime, Utc};

/// The namespace of every metric Staging Control emits.
pub const NAMESPACE: &str = "StagingControl";

/// 1 while the committed intent keeps staging running past its teardown
/// ([`crate::lifecycle::teardown_overdue`]), else 0; emitted by every health tick.
pub const TEARDOWN_OVERDUE: &str = "TeardownOverdue";

/// One EMF line carrying `metrics` (name, value, unit) for `environment` (the one
/// dimension, `Environment`), timestamped `at` (milliseconds, as EMF requires).
pub fn emf_line(environment: &str, at: DateTime<Utc>, metrics: &[(&str, f64, &str)]) -> String {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Environment"]],
                "Metrics": metrics.iter().map(|(name, _, unit)| serde_json::json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        },
        "Environment": environment,
    });
    for (name, value, _) in metrics {
        line[*name] = serde_json::json!(value);
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_names_each_metric_its_dimension_and_carries_the_values() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T18:15:00.123456789Z").unwrap().with_timezone(&Utc);
        let line = emf_line("staging", at, &[(TEARDOWN_OVERDUE, 1.0, "Count")]);
        assert!(!line.contains('\n'), "one line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1795803300123_i64, "milliseconds, sub-second kept");
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "StagingControl");
        assert_eq!(directive["Dimensions"], serde_json::json!([["Environment"]]));
        assert_eq!(directive["Metrics"], serde_json::json!([{"Name": "TeardownOverdue", "Unit": "Count"}]));
        assert_eq!((v["Environment"].as_str(), v["TeardownOverdue"].as_f64()), (Some("staging"), Some(1.0)));
    }
}
