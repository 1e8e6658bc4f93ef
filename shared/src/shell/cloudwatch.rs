//! The load balancer's use figures from CloudWatch (`GetMetricData`), for the idle stop.
//!
//! One request reads `RequestCount` and `ActiveConnectionCount` (both `Sum`, 60 s periods)
//! of `AWS/ApplicationELB` for the load balancer named `app/<name>/<id>`, over the window
//! the core asks for ([`crate::decide::idle::window`]), into the core's
//! [`Usage`](crate::decide::idle::Usage). What the figures mean is the core's
//! ([`crate::decide::idle`]); a query that fails is "no data", said why.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode};
use chrono::{DateTime, Utc};

use crate::decide::idle::{Minute, Usage};

/// The namespace of an Application Load Balancer's metrics.
pub const NAMESPACE: &str = "AWS/ApplicationELB";
/// The query ids of the two figures (in the request and the answer).
const REQUESTS: &str = "requests";
const CONNECTIONS: &str = "connections";
/// Pages read at most (a window of an hour or two is one page: 1,440 points a query).
const MAX_PAGES: usize = 10;

fn query(id: &str, metric: &str, load_balancer: &str) -> MetricDataQuery {
    let dimension = Dimension::builder().name("LoadBalancer").value(load_balancer).build();
    let metric = Metric::builder().namespace(NAMESPACE).metric_name(metric).dimensions(dimension).build();
    let stat = MetricStat::builder().metric(metric).period(60).stat("Sum").build();
    MetricDataQuery::builder().id(id).metric_stat(stat).return_data(true).build()
}

/// The figures of the load balancer named `load_balancer` (`app/<name>/<id>`) from `from`
/// to `to`, per minute; [`Usage::NoData`] when CloudWatch cannot answer.
pub async fn usage(
    client: &aws_sdk_cloudwatch::Client,
    load_balancer: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Usage {
    let mut minutes: BTreeMap<DateTime<Utc>, Minute> = BTreeMap::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let answer = client
            .get_metric_data()
            .metric_data_queries(query(REQUESTS, "RequestCount", load_balancer))
            .metric_data_queries(query(CONNECTIONS, "ActiveConnectionCount", load_balancer))
            .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(from.timestamp()))
            .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(to.timestamp()))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                let why = format!("GetMetricData failed: {}", DisplayErrorContext(&e));
                tracing::warn!(error = %why, "no use figures for the idle stop");
                return Usage::NoData { why };
            }
        };
        for result in answer.metric_data_results() {
            if let Some(code @ (StatusCode::Forbidden | StatusCode::InternalError)) = result.status_code() {
                let why = format!("GetMetricData answered {code} for {}", result.id().unwrap_or("a query"));
                tracing::warn!(error = %why, "no use figures for the idle stop");
                return Usage::NoData { why };
            }
            let is_requests = match result.id() {
                Some(REQUESTS) => true,
                Some(CONNECTIONS) => false,
                _ => continue,
            };
            for (at, value) in result.timestamps().iter().zip(result.values()) {
                let Some(start) = DateTime::from_timestamp(at.secs(), at.subsec_nanos()) else { continue };
                let minute = minutes.entry(start).or_insert(Minute { start, requests: 0.0, connections: 0.0 });
                if is_requests {
                    minute.requests += value;
                } else {
                    minute.connections += value;
                }
            }
        }
        match answer.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }
    Usage::Figures { from, minutes: minutes.into_values().collect() }
}
