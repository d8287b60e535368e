use super::schema::{self, PENDING_BY_OWNER};
use crate::ports::{RecordError, UploadRecords};
use crate::domain::media::MediaRecord;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, Select,
};
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

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table with its indexes (local stack and tests; deployed stacks use
    /// template.yaml). Succeeds if the table already exists.
    pub async fn create_table(&self) -> Result<(), RecordError> {
        let s = |n: &str| AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build();
        let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build();
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(schema::PK, KeyType::Hash).map_err(|e| RecordError::Other(e.to_string()))?);
        let mut attrs = vec![schema::PK.to_string()];
        for (name, hash, range) in schema::INDEXES {
            for a in [hash, range] {
                if !attrs.iter().any(|x| x == a) {
                    attrs.push(a.to_string());
                }
            }
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(hash, KeyType::Hash).map_err(|e| RecordError::Other(e.to_string()))?)
                .key_schema(key(range, KeyType::Range).map_err(|e| RecordError::Other(e.to_string()))?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| RecordError::Other(e.to_string()))?;
            req = req.global_secondary_indexes(gsi);
        }
        for a in attrs {
            req = req.attribute_definitions(s(&a).map_err(|e| RecordError::Other(e.to_string()))?);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
            Err(e) => Err(classify(e)),
        }
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
