use super::schema::{self, PENDING_BY_OWNER};
use super::{StoreError, UploadRecords};
use crate::media::MediaRecord;
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
pub(crate) fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    let code = e.code().unwrap_or_default().to_string();
    match code.as_str() {
        "ConditionalCheckFailedException" => StoreError::ConditionFailed,
        "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded"
        | "InternalServerError" | "ServiceUnavailable" | "TransactionConflictException" => {
            StoreError::Transient(format!("{code}: {}", e.message().unwrap_or_default()))
        }
        _ => match &e {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
                StoreError::Transient(format!("{e:?}"))
            }
            _ => StoreError::Other(format!("{code}: {}", e.message().unwrap_or(&format!("{e:?}")))),
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

    pub async fn get(&self, id: &str) -> Result<Option<MediaRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// Creates the table with its indexes (local stack and tests; deployed stacks use
    /// template.yaml). Succeeds if the table already exists.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let s = |n: &str| AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build();
        let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build();
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(schema::PK, KeyType::Hash).map_err(|e| StoreError::Other(e.to_string()))?);
        let mut attrs = vec![schema::PK.to_string()];
        for (name, hash, range) in schema::INDEXES {
            for a in [hash, range] {
                if !attrs.iter().any(|x| x == a) {
                    attrs.push(a.to_string());
                }
            }
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(hash, KeyType::Hash).map_err(|e| StoreError::Other(e.to_string()))?)
                .key_schema(key(range, KeyType::Range).map_err(|e| StoreError::Other(e.to_string()))?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| StoreError::Other(e.to_string()))?;
            req = req.global_secondary_indexes(gsi);
        }
        for a in attrs {
            req = req.attribute_definitions(s(&a).map_err(|e| StoreError::Other(e.to_string()))?);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

pub(crate) fn to_item(r: &MediaRecord) -> Result<std::collections::HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(r).map_err(|e| StoreError::Other(format!("encode record: {e}")))
}

pub(crate) fn from_item(item: std::collections::HashMap<String, AttributeValue>) -> Result<MediaRecord, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Other(format!("decode record: {e}")))
}

impl UploadRecords for DynamoStore {
    async fn put_new(&self, record: &MediaRecord) -> Result<(), StoreError> {
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

    async fn count_pending(&self, owner: &str, at_most: u32) -> Result<u32, StoreError> {
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

/// What a verified upload records.
#[derive(Debug, Clone)]
pub struct ReadyFields {
    pub content_type: crate::kinds::ContentType,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    pub final_key: String,
    pub variants: std::collections::BTreeMap<String, crate::media::Variant>,
    /// When the janitor should next look at it (kinds whose unattached media expire).
    pub gc_at: Option<String>,
}

impl DynamoStore {
    /// Claims the right to publish a pending media until `until`. Fails with `ConditionFailed`
    /// if it is decided, gone, or another run holds a live claim.
    pub async fn claim_publish(&self, id: &str, attempt: &str, now: &str, until: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.to_string()))
            .condition_expression(format!("#status = :pending AND {NO_LIVE_CLAIM}"))
            .update_expression("SET publish_claim = :attempt, publish_claim_until = :until")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt.to_string()))
            .expression_attribute_values(":until", AttributeValue::S(until.to_string()))
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Gives a claim back after a failure of ours, so a retry need not wait for the lease.
    pub async fn release_claim(&self, id: &str, attempt: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.to_string()))
            .condition_expression("publish_claim = :attempt")
            .update_expression("REMOVE publish_claim, publish_claim_until")
            .expression_attribute_values(":attempt", AttributeValue::S(attempt.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// pending → ready, only by the run holding the publish claim: a repeated or late event, or
    /// a run that verified other bytes, changes nothing.
    pub async fn mark_ready(&self, id: &str, f: &ReadyFields, now: &str, attempt: &str) -> Result<(), StoreError> {
        let variants = serde_dynamo::to_attribute_value(&f.variants).map_err(|e| StoreError::Other(e.to_string()))?;
        let mut update = String::from(
            "SET #status = :ready, content_type = :ct, size_bytes = :size, width = :w, height = :h, sha256 = :sha, \
             final_key = :fk, variants = :variants, updated_at = :now",
        );
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.to_string()))
            .condition_expression("#status = :pending AND publish_claim = :attempt")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt.to_string()))
            .expression_attribute_values(":ready", AttributeValue::S("ready".into()))
            .expression_attribute_values(":ct", AttributeValue::S(f.content_type.mime().into()))
            .expression_attribute_values(":size", AttributeValue::N(f.size_bytes.to_string()))
            .expression_attribute_values(":w", AttributeValue::N(f.width.to_string()))
            .expression_attribute_values(":h", AttributeValue::N(f.height.to_string()))
            .expression_attribute_values(":sha", AttributeValue::S(f.sha256.clone()))
            .expression_attribute_values(":fk", AttributeValue::S(f.final_key.clone()))
            .expression_attribute_values(":variants", variants)
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()));
        match &f.gc_at {
            Some(at) => {
                update.push_str(", gc_shard = :gc, gc_at = :gcat REMOVE pending_owner, publish_claim, publish_claim_until");
                req = req
                    .expression_attribute_values(":gc", AttributeValue::S(crate::media::GC_SHARD.into()))
                    .expression_attribute_values(":gcat", AttributeValue::S(at.clone()));
            }
            None => update.push_str(" REMOVE pending_owner, gc_shard, gc_at, publish_claim, publish_claim_until"),
        }
        req.update_expression(update).send().await.map_err(classify)?;
        Ok(())
    }

    /// pending → rejected, only from pending and while no run holds a live publish claim. The
    /// record stays (so clients see why) until `gc_at`, which nothing but a state change moves.
    pub async fn mark_rejected(&self, id: &str, rejection: &crate::media::Rejection, now: &str, gc_at: &str) -> Result<(), StoreError> {
        let rej = serde_dynamo::to_attribute_value(rejection).map_err(|e| StoreError::Other(e.to_string()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.to_string()))
            .condition_expression(format!("#status = :pending AND {NO_LIVE_CLAIM}"))
            .update_expression(
                "SET #status = :rejected, rejection = :rej, updated_at = :now, gc_shard = :gc, gc_at = :gcat \
                 REMOVE pending_owner, publish_claim, publish_claim_until",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":rejected", AttributeValue::S("rejected".into()))
            .expression_attribute_values(":rej", rej)
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .expression_attribute_values(":gc", AttributeValue::S(crate::media::GC_SHARD.into()))
            .expression_attribute_values(":gcat", AttributeValue::S(gc_at.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

/// No run holds an unexpired publish claim (timestamps sort as they compare).
const NO_LIVE_CLAIM: &str = "(attribute_not_exists(publish_claim) OR publish_claim_until < :now)";
