//! SNS: one topic for the team. Every message has a subject, message attributes
//! `severity` and `event` for subscription filters, and per-protocol bodies (see
//! [`Notification::sns_message`]).

use aws_sdk_sns::types::MessageAttributeValue;

use super::ShellError;
use crate::model::action::Notification;

fn attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type("String").string_value(value).build().expect("data type is set")
}

/// Publishes to the team topic; returns the message id.
pub async fn publish(client: &aws_sdk_sns::Client, topic_arn: &str, n: &Notification) -> Result<String, ShellError> {
    let out = client
        .publish()
        .topic_arn(topic_arn)
        .subject(&n.subject)
        .message_structure("json")
        .message(n.sns_message())
        .message_attributes("severity", attribute(n.severity.as_str()))
        .message_attributes("event", attribute(n.event.as_str()))
        .send()
        .await
        .map_err(|e| ShellError::aws("sns:Publish", e))?;
    Ok(out.message_id().unwrap_or_default().to_string())
}
