//! Cost Explorer: the bill, day by day and by service, and the month's forecast. Two
//! requests a report ($0.01 each). Cost Explorer answers from us-east-1 only.

use aws_sdk_costexplorer::types::{
    DateInterval, Expression, Granularity, GroupDefinition, GroupDefinitionType, Metric, TagValues,
};
use chrono::{DateTime, NaiveDate, Utc};

use super::ShellError;
use crate::model::state::BudgetPeriod;
use crate::report::daily::{Bill, CostFacts, ServiceCost, bill_range};

const METRIC: &str = "UnblendedCost";

/// Cost Explorer, filtered by the staging cost-allocation tag when one is configured.
#[derive(Debug, Clone, Copy)]
pub struct CostExplorer<'a> {
    pub client: &'a aws_sdk_costexplorer::Client,
    /// `(key, value)` of `STAGING_COST_TAG`.
    pub tag: Option<(&'a str, &'a str)>,
}

fn interval(from: NaiveDate, to: NaiveDate) -> Result<DateInterval, ShellError> {
    DateInterval::builder()
        .start(from.format("%Y-%m-%d").to_string())
        .end(to.format("%Y-%m-%d").to_string())
        .build()
        .map_err(|e| ShellError::BadEvent(e.to_string()))
}

/// A Cost Explorer amount; `None` when absent or not a finite number.
fn amount(value: Option<&str>) -> Option<f64> {
    value.and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite())
}

impl CostExplorer<'_> {
    fn filter(&self) -> Option<Expression> {
        self.tag
            .map(|(key, value)| Expression::builder().tags(TagValues::builder().key(key).values(value).build()).build())
    }

    /// Each day's spend by service in `[from, to)`.
    pub async fn bill(&self, from: NaiveDate, to: NaiveDate) -> Result<Bill, ShellError> {
        let mut results = Vec::new();
        let mut page: Option<String> = None;
        // A month by day and service can come in pages; a page is one more request.
        for _ in 0..10 {
            let out = self
                .client
                .get_cost_and_usage()
                .time_period(interval(from, to)?)
                .granularity(Granularity::Daily)
                .metrics(METRIC)
                .group_by(GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("SERVICE").build())
                .set_filter(self.filter())
                .set_next_page_token(page.take())
                .send()
                .await
                .map_err(|e| ShellError::aws("ce:GetCostAndUsage", e))?;
            results.extend(out.results_by_time().iter().cloned());
            match out.next_page_token() {
                Some(token) if !token.is_empty() => page = Some(token.to_string()),
                _ => break,
            }
        }
        let days = results
            .iter()
            .filter_map(|r| {
                let day = NaiveDate::parse_from_str(r.time_period()?.start(), "%Y-%m-%d").ok()?;
                let services = r
                    .groups()
                    .iter()
                    .map(|g| ServiceCost {
                        service: g.keys().first().cloned().unwrap_or_else(|| "(unnamed)".into()),
                        usd: amount(g.metrics().and_then(|m| m.get(METRIC)).and_then(|m| m.amount())).unwrap_or(0.0),
                    })
                    .collect();
                Some((day, services))
            })
            .collect();
        Ok(Bill { days })
    }

    /// The forecast spend from `today` to the end of its month.
    pub async fn forecast(&self, today: NaiveDate) -> Result<f64, ShellError> {
        let end =
            BudgetPeriod::containing(today.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()).bounds().1.date_naive();
        let out = self
            .client
            .get_cost_forecast()
            .time_period(interval(today, end)?)
            .metric(Metric::UnblendedCost)
            .granularity(Granularity::Monthly)
            .set_filter(self.filter())
            .send()
            .await
            .map_err(|e| ShellError::aws("ce:GetCostForecast", e))?;
        amount(out.total().and_then(|t| t.amount())).ok_or_else(|| ShellError::Aws {
            operation: "ce:GetCostForecast",
            code: None,
            message: "the answer has no total".into(),
            retryable: false,
        })
    }

    /// What the report needs, each part on its own: a failure is said, not fatal.
    pub async fn facts(&self, now: DateTime<Utc>) -> CostFacts {
        let (from, to) = bill_range(now);
        CostFacts {
            bill: self.bill(from, to).await.map_err(|e| e.to_string()),
            forecast_usd: self.forecast(to).await.map_err(|e| e.to_string()),
        }
    }
}
