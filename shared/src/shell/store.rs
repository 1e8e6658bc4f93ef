//! DynamoDB: the environment's state record (written with a version check), and
//! de-duplication records in the shape AWS Powertools' idempotency utility uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::ShellError;
use crate::model::state::EnvironmentState;

/// The table: one string key `id`; TTL on `expiration` (epoch seconds).
#[derive(Debug, Clone, Copy)]
pub struct Store<'a> {
    pub client: &'a aws_sdk_dynamodb::Client,
    pub table: &'a str,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time (or the earlier record expired): go ahead, then `complete`.
    New,
    /// Done before: here is the stored result.
    Completed(serde_json::Value),
    /// Another invocation is working on it now.
    InProgress,
}

fn state_id(environment: &str) -> String {
    format!("state#{environment}")
}

fn idempotency_id(key: &str) -> String {
    format!("idempotency#{key}")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text<'i>(item: &'i HashMap<String, AttributeValue>, name: &str) -> Option<&'i str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// The state's next version, written only over the version it was read at (nothing
/// stored, for version 0): its item, the condition, and the condition's values.
struct StateWrite {
    next: EnvironmentState,
    item: HashMap<String, AttributeValue>,
    condition: &'static str,
    values: Option<HashMap<String, AttributeValue>>,
}

impl StateWrite {
    fn of(state: &EnvironmentState) -> Self {
        let mut next = state.clone();
        next.version = state.version + 1;
        let json = serde_json::to_string(&next).expect("the state serializes");
        let item = HashMap::from([
            ("id".to_string(), s(state_id(&state.environment))),
            ("version".to_string(), n(next.version)),
            ("state".to_string(), s(json)),
        ]);
        let (condition, values) = if state.version == 0 {
            ("attribute_not_exists(id)", None)
        } else {
            ("version = :expected", Some(HashMap::from([(":expected".to_string(), n(state.version))])))
        };
        Self { next, item, condition, values }
    }
}

impl Store<'_> {
    /// One item by id, read consistently.
    async fn get(&self, id: &str) -> Result<Option<HashMap<String, AttributeValue>>, ShellError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ShellError::aws("dynamodb:GetItem", e))?;
        Ok(out.item)
    }

    /// The stored state, or a fresh one (version 0) if none was ever written.
    pub async fn load(&self, environment: &str) -> Result<EnvironmentState, ShellError> {
        let id = state_id(environment);
        let Some(item) = self.get(&id).await? else {
            return Ok(EnvironmentState::new(environment));
        };
        let corrupt = |reason: String| ShellError::Corrupt { id: id.clone(), reason };
        let json = text(&item, "state").ok_or_else(|| corrupt("no `state` attribute".into()))?;
        let mut state: EnvironmentState = serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
        state.version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("no numeric `version` attribute".into()))?;
        Ok(state.upgraded())
    }

    /// Writes `state` if the stored version is still `state.version` (nothing stored for
    /// version 0). Returns the state as stored, with its new version. A lost race is
    /// [`ShellError::Conflict`]: reload, decide again.
    pub async fn commit(&self, state: &EnvironmentState) -> Result<EnvironmentState, ShellError> {
        let write = StateWrite::of(state);
        let put = self
            .client
            .put_item()
            .table_name(self.table)
            .set_item(Some(write.item))
            .condition_expression(write.condition)
            .set_expression_attribute_values(write.values);
        match put.send().await {
            Ok(_) => Ok(write.next),
            // Lost the race, or the item is in another invocation's transaction right now.
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_conditional_check_failed_exception() || e.is_transaction_conflict_exception()
                }) =>
            {
                Err(ShellError::Conflict { environment: state.environment.clone(), attempts: 1 })
            }
            Err(e) => Err(ShellError::aws("dynamodb:PutItem", e)),
        }
    }

    /// Claims an idempotency key (Powertools' record: `status` INPROGRESS/COMPLETED,
    /// `expiration` TTL, `in_progress_expiration` in ms, `validation` payload hash).
    pub async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<Claim, ShellError> {
        let id = idempotency_id(key);
        let put = self
            .client
            .put_item()
            .table_name(self.table)
            .item("id", s(&id))
            .item("status", s("INPROGRESS"))
            .item("expiration", n(expiration.timestamp()))
            .item("in_progress_expiration", n(in_progress_until.timestamp_millis()))
            .item("validation", s(payload_hash))
            .condition_expression(
                "attribute_not_exists(id) OR expiration < :now OR \
                 (#status = :in_progress AND in_progress_expiration < :now_ms)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":now_ms", n(now.timestamp_millis()))
            .expression_attribute_values(":in_progress", s("INPROGRESS"))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Claim::New),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(ShellError::aws("dynamodb:PutItem", e)),
        }
        let Some(item) = self.get(&id).await? else {
            // Deleted between our put and get: the other invocation failed; let the
            // caller try again.
            return Ok(Claim::InProgress);
        };
        if text(&item, "validation") != Some(payload_hash) {
            return Err(ShellError::KeyReused { key: key.into() });
        }
        match text(&item, "status") {
            Some("COMPLETED") => {
                let data = text(&item, "data").unwrap_or("null");
                let value =
                    serde_json::from_str(data).map_err(|e| ShellError::Corrupt { id, reason: e.to_string() })?;
                Ok(Claim::Completed(value))
            }
            _ => Ok(Claim::InProgress),
        }
    }

    /// Stores the result for a claimed key; later claims get it back.
    pub async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        data: &serde_json::Value,
        expiration: DateTime<Utc>,
    ) -> Result<(), ShellError> {
        self.client
            .put_item()
            .table_name(self.table)
            .item("id", s(idempotency_id(key)))
            .item("status", s("COMPLETED"))
            .item("expiration", n(expiration.timestamp()))
            .item("validation", s(payload_hash))
            .item("data", s(data.to_string()))
            .send()
            .await
            .map_err(|e| ShellError::aws("dynamodb:PutItem", e))?;
        Ok(())
    }

    /// Gives a claimed key back after a failure, so a retry can run.
    pub async fn abandon(&self, key: &str) -> Result<(), ShellError> {
        self.client
            .delete_item()
            .table_name(self.table)
            .key("id", s(idempotency_id(key)))
            .send()
            .await
            .map_err(|e| ShellError::aws("dynamodb:DeleteItem", e))?;
        Ok(())
    }

    /// A record kept beside the state, if there is one.
    pub async fn get_record(&self, id: &str) -> Result<Option<serde_json::Value>, ShellError> {
        let Some(item) = self.get(id).await? else { return Ok(None) };
        let corrupt = |reason: String| ShellError::Corrupt { id: id.to_string(), reason };
        let text = text(&item, "record").ok_or_else(|| corrupt("no `record` attribute".into()))?;
        serde_json::from_str(text).map(Some).map_err(|e| corrupt(e.to_string()))
    }

    /// Keeps a record (a deployment, a health transition) beside the state.
    pub async fn put_record(
        &self,
        id: &str,
        record: &serde_json::Value,
        expiration: Option<DateTime<Utc>>,
    ) -> Result<(), ShellError> {
        let mut put =
            self.client.put_item().table_name(self.table).item("id", s(id)).item("record", s(record.to_string()));
        if let Some(at) = expiration {
            put = put.item("expiration", n(at.timestamp()));
        }
        put.send().await.map_err(|e| ShellError::aws("dynamodb:PutItem", e))?;
        Ok(())
    }
}

/// The index the audit trail is read through: partition `log` (`audit#<env>#<YYYY-MM>`,
/// the UTC month), sort `at` ([`crate::audit::sort_key`]).
pub const HISTORY_INDEX: &str = "history";

/// The partition of the audit trail for `environment` in the UTC month of `at`.
fn audit_log(environment: &str, at: DateTime<Utc>) -> String {
    format!("audit#{environment}#{}", at.format("%Y-%m"))
}

/// The first instants of the UTC months that `[from, to)` touches, oldest first.
fn months(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let mut month = crate::model::state::BudgetPeriod::containing(from);
    while month.bounds().0 < to {
        out.push(month.bounds().0);
        let next = month.bounds().1;
        if next <= month.bounds().0 || next.year() > 9000 {
            break;
        }
        month = crate::model::state::BudgetPeriod::containing(next);
    }
    out
}

/// Why DynamoDB cancelled a transaction, from its cancellation reasons (one per item,
/// `None` for an item that was fine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The state's version moved, or another transaction held an item: decide again.
    LostRace,
    /// Throttled: retry the invocation.
    Throttled,
    /// Anything else (a validation error: an item too large): not the state's fault.
    Other,
}

/// Classifies a cancelled transaction by its reasons' codes.
pub fn cancelled(reasons: &[String]) -> Cancelled {
    let any = |codes: &[&str]| reasons.iter().any(|r| codes.contains(&r.as_str()));
    if any(&["ConditionalCheckFailed", "TransactionConflict"]) {
        Cancelled::LostRace
    } else if any(&["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"]) {
        Cancelled::Throttled
    } else {
        Cancelled::Other
    }
}

/// An audit item: its attributes.
fn entry_item(
    environment: &str,
    id: &str,
    entry: &crate::audit::Entry,
    keep_days: u32,
) -> HashMap<String, AttributeValue> {
    let record = serde_json::to_string(entry).expect("entries serialize");
    HashMap::from([
        ("id".to_string(), s(id)),
        ("log".to_string(), s(audit_log(environment, entry.at))),
        ("at".to_string(), s(entry.sort_key())),
        ("source".to_string(), s(entry.source.as_str())),
        ("record".to_string(), s(record)),
        ("expiration".to_string(), n((entry.at + chrono::Duration::days(i64::from(keep_days))).timestamp())),
    ])
}

impl Store<'_> {
    /// A new audit item's id: unique even for two decisions at the same instant (a
    /// retried schedule that committed nothing).
    pub fn new_entry_id(environment: &str, entry: &crate::audit::Entry) -> String {
        use std::hash::BuildHasher;
        let nonce = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now()) & 0xffff_ffff;
        format!("audit#{environment}#{}#{nonce:08x}", entry.sort_key())
    }

    /// The audit item of the decision that committed `version`: one per version, so a
    /// retried write is the same item.
    pub fn committed_entry_id(environment: &str, entry: &crate::audit::Entry, version: u64) -> String {
        format!("audit#{environment}#{}#v{version}", entry.sort_key())
    }

    /// Keeps (or replaces) one decision of the audit trail under `id`, expiring
    /// `keep_days` after it was made.
    pub async fn put_entry(
        &self,
        environment: &str,
        id: &str,
        entry: &crate::audit::Entry,
        keep_days: u32,
    ) -> Result<(), ShellError> {
        self.client
            .put_item()
            .table_name(self.table)
            .set_item(Some(entry_item(environment, id, entry, keep_days)))
            .send()
            .await
            .map_err(|e| ShellError::aws("dynamodb:PutItem", e))?;
        Ok(())
    }

    /// [`Store::commit`], and in the same transaction the decision's audit item (`id`):
    /// both are written or neither, so a committed decision is never missing from the
    /// trail (its actions are added once they are carried out).
    pub async fn commit_with_entry(
        &self,
        state: &EnvironmentState,
        id: &str,
        entry: &crate::audit::Entry,
        keep_days: u32,
    ) -> Result<EnvironmentState, ShellError> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
        let write = StateWrite::of(state);
        let next = write.next;
        let build = |e: aws_sdk_dynamodb::error::BuildError| ShellError::BadEvent(e.to_string());
        let put_state = Put::builder()
            .table_name(self.table)
            .set_item(Some(write.item))
            .condition_expression(write.condition)
            .set_expression_attribute_values(write.values);
        let put_entry =
            Put::builder().table_name(self.table).set_item(Some(entry_item(&state.environment, id, entry, keep_days)));
        let out = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_state.build().map_err(build)?).build())
            .transact_items(TransactWriteItem::builder().put(put_entry.build().map_err(build)?).build())
            .send()
            .await;
        let reasons: Vec<String> = match out.as_ref().err().and_then(|e| e.as_service_error()) {
            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                c.cancellation_reasons().iter().filter_map(|r| r.code().map(str::to_string)).collect()
            }
            _ => Vec::new(),
        };
        match out {
            Ok(_) => Ok(next),
            Err(e) => match cancelled(&reasons) {
                Cancelled::LostRace => {
                    Err(ShellError::Conflict { environment: state.environment.clone(), attempts: 1 })
                }
                Cancelled::Throttled => match ShellError::aws("dynamodb:TransactWriteItems", e) {
                    ShellError::Aws { operation, code, message, .. } => {
                        Err(ShellError::Aws { operation, code, message, retryable: true })
                    }
                    other => Err(other),
                },
                Cancelled::Other => Err(ShellError::aws("dynamodb:TransactWriteItems", e)),
            },
        }
    }

    /// The audit trail of `environment` in `[from, to)`: newest first when
    /// `newest_first`, at most `limit` entries, read a month's partition and a page at a
    /// time (a Query on [`HISTORY_INDEX`] per page).
    pub async fn entries(
        &self,
        environment: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        newest_first: bool,
        source: Option<crate::audit::Source>,
        limit: Option<usize>,
    ) -> Result<Vec<crate::audit::Entry>, ShellError> {
        use crate::audit::sort_key;
        let mut out = Vec::new();
        if to <= from {
            return Ok(out);
        }
        let mut partitions = months(from, to);
        if newest_first {
            partitions.reverse();
        }
        // The sort key's condition is inclusive: the last nanosecond before `to`.
        let (low, high) = (sort_key(from), sort_key(to - chrono::Duration::nanoseconds(1)));
        for month in partitions {
            let mut start: Option<HashMap<String, AttributeValue>> = None;
            loop {
                let want = limit.map(|l| l.saturating_sub(out.len()));
                if want == Some(0) {
                    return Ok(out);
                }
                let mut names =
                    HashMap::from([("#log".to_string(), "log".to_string()), ("#at".to_string(), "at".to_string())]);
                let mut values = HashMap::from([
                    (":log".to_string(), s(audit_log(environment, month))),
                    (":low".to_string(), s(&low)),
                    (":high".to_string(), s(&high)),
                ]);
                if let Some(kind) = source {
                    names.insert("#source".into(), "source".into());
                    values.insert(":source".into(), s(kind.as_str()));
                }
                let page = self
                    .client
                    .query()
                    .table_name(self.table)
                    .index_name(HISTORY_INDEX)
                    .key_condition_expression("#log = :log AND #at BETWEEN :low AND :high")
                    .set_filter_expression(source.map(|_| "#source = :source".to_string()))
                    .set_expression_attribute_names(Some(names))
                    .set_expression_attribute_values(Some(values))
                    .scan_index_forward(!newest_first)
                    .set_limit(want.map(|w| w.min(500) as i32))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| ShellError::aws("dynamodb:Query", e))?;
                for item in page.items() {
                    let id = text(item, "id").unwrap_or("an audit item").to_string();
                    let record = text(item, "record").ok_or_else(|| ShellError::Corrupt {
                        id: id.clone(),
                        reason: "no `record` attribute".into(),
                    })?;
                    let entry =
                        serde_json::from_str(record).map_err(|e| ShellError::Corrupt { id, reason: e.to_string() })?;
                    out.push(entry);
                }
                match page.last_evaluated_key() {
                    Some(key) if !key.is_empty() => start = Some(key.clone()),
                    _ => break,
                }
            }
        }
        if let Some(limit) = limit {
            out.truncate(limit);
        }
        Ok(out)
    }
}
