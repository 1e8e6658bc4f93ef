//! AWS Budgets: a budget's limit, actual and forecasted spend.

use super::ShellError;

/// Amounts in the budget's unit (USD for cost budgets). Budgets refreshes spend only
/// a few times a day, and may not have a forecast yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BudgetStatus {
    pub name: String,
    pub limit: Option<f64>,
    pub actual: Option<f64>,
    pub forecast: Option<f64>,
    pub unit: Option<String>,
}

pub async fn read(client: &aws_sdk_budgets::Client, account_id: &str, name: &str) -> Result<BudgetStatus, ShellError> {
    let out = client
        .describe_budget()
        .account_id(account_id)
        .budget_name(name)
        .send()
        .await
        .map_err(|e| ShellError::aws("budgets:DescribeBudget", e))?;
    let budget = out.budget();
    let amount = |s: Option<&aws_sdk_budgets::types::Spend>| s.and_then(|s| s.amount().parse::<f64>().ok());
    let spend = budget.and_then(|b| b.calculated_spend());
    Ok(BudgetStatus {
        name: name.into(),
        limit: amount(budget.and_then(|b| b.budget_limit())),
        actual: amount(spend.and_then(|s| s.actual_spend())),
        forecast: amount(spend.and_then(|s| s.forecasted_spend())),
        unit: budget.and_then(|b| b.budget_limit()).map(|l| l.unit().to_string()),
    })
}
