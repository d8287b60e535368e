use super::schema::{self, PENDING_BY_OWNER};
use crate::ports::{RecordError, UploadRecords};
use crate::domain::media::MediaRecord;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use aws_sdk_dynamodb::Client;

#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
}

/// Classifies an SDK error: a failed condition, something worth retrying, or a real failure.
pub(crate) fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> RecordError {
    let code = e.code().unwrap_or_default().to_string();
    match code.as_str() {
        "ConditionalCheckFailedException" => RecordError::ConditionFailed,
        "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded"
        | "InternalServerError" | "ServiceUnavailable" | "TransactionConflictException" => {
            RecordError::Transient(format!("{code}: {}", e.message().unwrap_or_default()))
        }
        _ => match &e {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
                RecordError::Transient(format!("{e:?}"))
            }
            _ => RecordError::Other(format!("{code}: {}", e.message().unwrap_or(&format!("{e:?}")))),
        },
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

pub(crate) fn to_item(r: &MediaRecord) -> Result<std::collections::HashMap<String, AttributeValue>, RecordError> {
    serde_dynamo::to_item(r).map_err(|e| RecordError::Other(format!("encode record: {e}")))
}

pub(crate) fn from_item(item: std::collections::HashMap<String, AttributeValue>) -> Result<MediaRecord, RecordError> {
    serde_dynamo::from_item(item).map_err(|e| RecordError::Other(format!("decode record: {e}")))
}

impl UploadRecords for DynamoStore {
    async fn put_new(&self, record: &MediaRecord) -> Result<(), RecordError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)?))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", schema::PK)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn count_pending(&self, owner: &str, at_most: u32) -> Result<u32, RecordError> {
        let mut total = 0u32;
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(PENDING_BY_OWNER)
                .key_condition_expression("pending_owner = :o")
                .expression_attribute_values(":o", AttributeValue::S(owner.to_string()))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            total = total.saturating_add(out.count as u32);
            start = out.last_evaluated_key;
            if start.is_none() || total >= at_most {
                return Ok(total.min(at_most));
            }
        }
    }
}


/// No run holds an unexpired publish claim (timestamps sort as they compare).
pub(super) const NO_LIVE_CLAIM: &str = "(attribute_not_exists(publish_claim) OR publish_claim_until < :now)";
