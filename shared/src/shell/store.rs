//! DynamoDB: the environment's state record (written with a version check), and
//! de-duplication records in the shape AWS Powertools' idempotency utility uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::ShellError;
use crate::state::EnvironmentState;

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
        let mut next = state.clone();
        next.version = state.version + 1;
        let json = serde_json::to_string(&next).expect("the state serializes");
        let mut put = self
            .client
            .put_item()
            .table_name(self.table)
            .item("id", s(state_id(&state.environment)))
            .item("version", n(next.version))
            .item("state", s(json));
        put = if state.version == 0 {
            put.condition_expression("attribute_not_exists(id)")
        } else {
            put.condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(state.version))
        };
        match put.send().await {
            Ok(_) => Ok(next),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(ShellError::Conflict {
                    environment: state.environment.clone(),
                    attempts: 1,
                })
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
                let value = serde_json::from_str(data).map_err(|e| ShellError::Corrupt { id, reason: e.to_string() })?;
                Ok(Claim::Completed(value))
            }
            _ => Ok(Claim::InProgress),
        }
    }

    /// Stores the result for a claimed key; later claims get it back.
    pub async fn complete(&self, key: &str, payload_hash: &str, data: &serde_json::Value, expiration: DateTime<Utc>) -> Result<(), ShellError> {
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
    pub async fn put_record(&self, id: &str, record: &serde_json::Value, expiration: Option<DateTime<Utc>>) -> Result<(), ShellError> {
        let mut put = self
            .client
            .put_item()
            .table_name(self.table)
            .item("id", s(id))
            .item("record", s(record.to_string()));
        if let Some(at) = expiration {
            put = put.item("expiration", n(at.timestamp()));
        }
        put.send().await.map_err(|e| ShellError::aws("dynamodb:PutItem", e))?;
        Ok(())
    }
}
