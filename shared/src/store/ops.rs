//! The media API's table operations. Every write is conditional on the owner and the state it
//! expects, so a race with process-upload, another request or the janitor cannot corrupt a record.

use super::dynamo::{classify, from_item};
use super::{schema, DynamoStore, StoreError};
use crate::media::{MediaRecord, Status, GC_SHARD};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Key = HashMap<String, AttributeValue>;

/// Index pages one listing request reads at most.
pub const MAX_LIST_PAGES: usize = 5;

/// Which index a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListBy {
    Owner(String),
    Scope(String),
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub kind: Option<String>,
    pub status: Option<String>,
}

/// Metadata edits: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct MetadataEdit {
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

impl DynamoStore {
    /// One page, newest first, through an index (never a Scan). Returns the items and the key to
    /// continue from.
    pub async fn list(&self, by: &ListBy, filter: &ListFilter, limit: usize, mut start: Option<Key>) -> Result<(Vec<MediaRecord>, Option<Key>), StoreError> {
        let (index, attr, value) = match by {
            ListBy::Owner(o) => (schema::BY_OWNER, "owner", o),
            ListBy::Scope(s) => (schema::BY_SCOPE, "scope", s),
        };
        let mut items: Vec<MediaRecord> = Vec::with_capacity(limit);
        let mut pages = 0;
        loop {
            pages += 1;
            let mut conditions = vec!["#status <> :deleting".to_string()];
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", attr)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", AttributeValue::S(value.clone()))
                .expression_attribute_values(":deleting", AttributeValue::S("deleting".into()))
                .scan_index_forward(false)
                .limit((limit - items.len()).max(1) as i32)
                .set_exclusive_start_key(start.take());
            if let Some(k) = &filter.kind {
                conditions.push("#kind = :kind".into());
                q = q.expression_attribute_names("#kind", "kind").expression_attribute_values(":kind", AttributeValue::S(k.clone()));
            }
            if let Some(s) = &filter.status {
                conditions.push("#status = :status".into());
                q = q.expression_attribute_values(":status", AttributeValue::S(s.clone()));
            }
            let out = q.filter_expression(conditions.join(" AND ")).send().await.map_err(classify)?;
            for item in out.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
            let next = out.last_evaluated_key;
            if items.len() >= limit {
                items.truncate(limit);
                let last = items.last().map(|r| index_key(r, attr, value));
                return Ok((items, last));
            }
            match next {
                // A filter that matches little must not walk a large partition in one request:
                // after a few pages, answer what was found and a cursor to go on from.
                Some(k) if pages >= MAX_LIST_PAGES => return Ok((items, Some(k))),
                Some(k) => start = Some(k),
                None => return Ok((items, None)),
            }
        }
    }

    pub async fn update_metadata(&self, id: &str, owner: &str, edit: &MetadataEdit, now: &str) -> Result<MediaRecord, StoreError> {
        let mut set = vec!["updated_at = :now".to_string()];
        let mut remove = Vec::new();
        let mut values: Vec<(&str, AttributeValue)> = vec![(":now", AttributeValue::S(now.into()))];
        let mut names: Vec<(&str, &str)> = Vec::new();
        for (name, attr, placeholder, field) in [("#title", "title", ":title", &edit.title), ("#description", "description", ":description", &edit.description)] {
            match field {
                Some(Some(v)) => {
                    set.push(format!("{name} = {placeholder}"));
                    values.push((placeholder, AttributeValue::S(v.clone())));
                    names.push((name, attr));
                }
                Some(None) => {
                    remove.push(name.to_string());
                    names.push((name, attr));
                }
                None => {}
            }
        }
        match &edit.tags {
            Some(t) if t.is_empty() => {
                remove.push("#tags".into());
                names.push(("#tags", "tags"));
            }
            Some(t) => {
                set.push("#tags = :tags".into());
                names.push(("#tags", "tags"));
                values.push((":tags", AttributeValue::L(t.iter().map(|s| AttributeValue::S(s.clone())).collect())));
            }
            None => {}
        }
        let mut expr = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let mut req = self.owned_update(id, owner).update_expression(expr);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        for (k, v) in names {
            req = req.expression_attribute_names(k, v);
        }
        let out = req.return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew).send().await.map_err(classify)?;
        from_item(out.attributes.unwrap_or_default())
    }

    /// Marks ready media as used by `reference`; attaching again to the same reference succeeds.
    /// The janitor never touches attached media (its gc attributes are removed).
    pub async fn attach(&self, id: &str, owner: &str, reference: &str, expect_kind: Option<&str>, now: &str) -> Result<MediaRecord, StoreError> {
        let mut cond = String::from("#status = :ready AND (attribute_not_exists(attached_to) OR attached_to = :ref)");
        let mut req = self
            .owned_update(id, owner)
            .update_expression("SET attached_to = :ref, updated_at = :now REMOVE gc_shard, gc_at")
            .expression_attribute_values(":ref", AttributeValue::S(reference.into()))
            .expression_attribute_values(":ready", AttributeValue::S("ready".into()))
            .expression_attribute_values(":now", AttributeValue::S(now.into()));
        if let Some(k) = expect_kind {
            cond.push_str(" AND #kind = :kind");
            req = req.expression_attribute_names("#kind", "kind").expression_attribute_values(":kind", AttributeValue::S(k.into()));
        }
        let out = req
            .condition_expression(format!("#owner = :owner AND #status <> :deleting AND {cond}"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        from_item(out.attributes.unwrap_or_default())
    }

    /// Detaches; media of kinds whose unattached media expire becomes janitor work again.
    pub async fn detach(&self, id: &str, owner: &str, gc_at: Option<&str>, now: &str) -> Result<MediaRecord, StoreError> {
        let mut req = self.owned_update(id, owner).expression_attribute_values(":now", AttributeValue::S(now.into()));
        req = match gc_at {
            Some(at) => req
                .update_expression("SET updated_at = :now, gc_shard = :gc, gc_at = :gcat REMOVE attached_to")
                .expression_attribute_values(":gc", AttributeValue::S(GC_SHARD.into()))
                .expression_attribute_values(":gcat", AttributeValue::S(at.into())),
            None => req.update_expression("SET updated_at = :now REMOVE attached_to"),
        };
        let out = req.return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew).send().await.map_err(classify)?;
        from_item(out.attributes.unwrap_or_default())
    }

    /// First step of a delete: the record becomes `deleting` (invisible to the API, janitor work
    /// due now), so a failure before the objects are gone loses nothing.
    pub async fn mark_deleting(&self, id: &str, owner: Option<&str>, now: &str) -> Result<MediaRecord, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.into()))
            .update_expression("SET #status = :deleting, updated_at = :now, gc_shard = :gc, gc_at = :now REMOVE pending_owner")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":deleting", AttributeValue::S("deleting".into()))
            .expression_attribute_values(":now", AttributeValue::S(now.into()))
            .expression_attribute_values(":gc", AttributeValue::S(GC_SHARD.into()));
        let mut cond = String::from("attribute_exists(id) AND #status <> :deleting");
        if let Some(o) = owner {
            cond.push_str(" AND #owner = :owner");
            req = req.expression_attribute_names("#owner", "owner").expression_attribute_values(":owner", AttributeValue::S(o.into()));
        }
        let out = req
            .condition_expression(cond)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        from_item(out.attributes.unwrap_or_default())
    }

    /// Deletes a record only if it is still in the state it was selected in: its status and its
    /// `gc_at`, which only state changes move (a PATCH does not), so a concurrent change keeps
    /// it and an edit cannot.
    pub async fn delete_if_unchanged(&self, id: &str, status: Status, gc_at: Option<&str>) -> Result<(), StoreError> {
        let req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.into()))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", AttributeValue::S(status.as_str().into()));
        let req = match gc_at {
            Some(at) => req
                .condition_expression("#status = :status AND gc_at = :gcat")
                .expression_attribute_values(":gcat", AttributeValue::S(at.into())),
            None => req.condition_expression("#status = :status AND attribute_not_exists(gc_at)"),
        };
        req.send().await.map_err(classify)?;
        Ok(())
    }

    fn owned_update(&self, id: &str, owner: &str) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.into()))
            .condition_expression("#owner = :owner AND #status <> :deleting")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.into()))
            .expression_attribute_values(":deleting", AttributeValue::S("deleting".into()))
    }
}

/// The exclusive start key that resumes a listing right after `r`.
fn index_key(r: &MediaRecord, attr: &str, value: &str) -> Key {
    HashMap::from([
        (schema::PK.to_string(), AttributeValue::S(r.id.clone())),
        (attr.to_string(), AttributeValue::S(value.to_string())),
        ("created_sk".to_string(), AttributeValue::S(r.created_sk.clone())),
    ])
}

impl DynamoStore {
    /// Records whose janitor time has come (`gc_at <= now`), oldest first, from the sparse
    /// `gc_due` index: the janitor never scans the table.
    pub async fn gc_due(&self, now: &str, limit: usize, start: Option<Key>) -> Result<(Vec<MediaRecord>, Option<Key>), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(schema::GC_DUE)
            .key_condition_expression("gc_shard = :gc AND gc_at <= :now")
            .expression_attribute_values(":gc", AttributeValue::S(GC_SHARD.into()))
            .expression_attribute_values(":now", AttributeValue::S(now.into()))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        Ok((items, out.last_evaluated_key))
    }

    /// Takes a ready record out of the janitor's index when no rule applies to it any more (its
    /// kind stopped expiring unattached media), so it cannot be selected again on every run.
    pub async fn clear_gc(&self, id: &str, seen_gc_at: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.into()))
            .update_expression("REMOVE gc_shard, gc_at")
            .condition_expression("#status = :ready AND gc_at = :seen")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":ready", AttributeValue::S("ready".into()))
            .expression_attribute_values(":seen", AttributeValue::S(seen_gc_at.into()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// ready → deleting for expired unattached media, only if its expiry is still the one it
    /// was selected by (an attach or detach in between keeps it; an edit does not).
    pub async fn mark_expired_deleting(&self, id: &str, seen_gc_at: &str, now: &str) -> Result<MediaRecord, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.into()))
            .update_expression("SET #status = :deleting, updated_at = :now, gc_at = :now")
            .condition_expression("#status = :ready AND attribute_not_exists(attached_to) AND gc_at = :seen")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":deleting", AttributeValue::S("deleting".into()))
            .expression_attribute_values(":ready", AttributeValue::S("ready".into()))
            .expression_attribute_values(":seen", AttributeValue::S(seen_gc_at.into()))
            .expression_attribute_values(":now", AttributeValue::S(now.into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        from_item(out.attributes.unwrap_or_default())
    }
}
