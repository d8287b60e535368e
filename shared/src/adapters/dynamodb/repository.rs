//! `MediaRepository` on the DynamoDB table: every read, conditional transition and index query
//! the domain makes. Every write is conditional on the owner and the state it expects, so a race
//! with process-upload, another request or the janitor cannot corrupt a record. Index keys cross
//! the port as opaque page tokens.

use super::dynamo::{classify, from_item, NO_LIVE_CLAIM};
use super::ops::{index_key, Key};
use crate::ports::MAX_LIST_PAGES;
use super::{schema, DynamoStore};
use crate::domain::kinds::KindName;
use crate::domain::media::{MediaRecord, Status, GC_SHARD};
use crate::ports::{ListBy, ListFilter, MediaRepository, MetadataEdit, PageToken, ReadyFields, RecordError};
use aws_sdk_dynamodb::types::AttributeValue;

fn to_key(token: PageToken) -> Key {
    token.0.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect()
}

/// Every attribute of a table key is a string; anything else cannot come from our indexes.
fn to_token(key: Key) -> PageToken {
    PageToken(key.into_iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone()))).collect())
}

impl MediaRepository for DynamoStore {
    async fn get(&self, id: &str) -> Result<Option<MediaRecord>, RecordError> {
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

    /// Claims the right to publish a pending media until `until`. Fails with `ConditionFailed`
    /// if it is decided, gone, or another run holds a live claim.
    async fn claim_publish(&self, id: &str, attempt: &str, now: &str, until: &str) -> Result<(), RecordError> {
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
    async fn release_claim(&self, id: &str, attempt: &str) -> Result<(), RecordError> {
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

    /// Two conditional updates, neither a read: add one within the current window while under
    /// the cap, or start the window at one if the record counts an older one (or none). A
    /// request that loses the race to start the window adds to it on its next attempt.
    async fn count_render(&self, id: &str, window: i64, cap: u32) -> Result<bool, RecordError> {
        for _ in 0..2 {
            let add = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(schema::PK, AttributeValue::S(id.to_string()))
                .condition_expression("render_window = :w AND render_count < :cap")
                .update_expression("SET render_count = render_count + :one")
                .expression_attribute_values(":w", AttributeValue::N(window.to_string()))
                .expression_attribute_values(":cap", AttributeValue::N(cap.to_string()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .send()
                .await
                .map_err(classify);
            match add {
                Ok(_) => return Ok(true),
                Err(RecordError::ConditionFailed) => {}
                Err(e) => return Err(e),
            }
            let start = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(schema::PK, AttributeValue::S(id.to_string()))
                .condition_expression("attribute_exists(#id) AND (attribute_not_exists(render_window) OR render_window <> :w)")
                .update_expression("SET render_window = :w, render_count = :one")
                .expression_attribute_names("#id", schema::PK)
                .expression_attribute_values(":w", AttributeValue::N(window.to_string()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .send()
                .await
                .map_err(classify);
            match start {
                Ok(_) => return Ok(cap >= 1),
                Err(RecordError::ConditionFailed) => {}
                Err(e) => return Err(e),
            }
        }
        // This window is counted and both attempts found it full.
        Ok(false)
    }

    async fn mark_event_sent(&self, id: &str, status: Status, event: &str) -> Result<(), RecordError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.to_string()))
            .condition_expression("#status = :status")
            .update_expression("SET event_sent = :event")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", AttributeValue::S(status.as_str().into()))
            .expression_attribute_values(":event", AttributeValue::S(event.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// pending → ready, only by the run holding the publish claim: a repeated or late event, or
    /// a run that verified other bytes, changes nothing.
    async fn mark_ready(&self, id: &str, f: &ReadyFields, now: &str, attempt: &str) -> Result<(), RecordError> {
        let variants = serde_dynamo::to_attribute_value(&f.variants).map_err(|e| RecordError::Other(e.to_string()))?;
        let mut update = String::from(
            "SET #status = :ready, content_type = :ct, size_bytes = :size, width = :w, height = :h, \
             final_key = :fk, variants = :variants, updated_at = :now, decided_at = :now",
        );
        // Attributes only some media have (images: hash, placeholder; videos: duration, codecs).
        let mut optional: Vec<(&str, AttributeValue)> = Vec::new();
        if let Some(sha) = &f.sha256 {
            optional.push(("sha256", AttributeValue::S(sha.clone())));
        }
        if let Some(ph) = &f.placeholder {
            optional.push(("placeholder", serde_dynamo::to_attribute_value(ph).map_err(|e| RecordError::Other(e.to_string()))?));
        }
        if let Some(d) = &f.display {
            optional.push(("display", serde_dynamo::to_attribute_value(d).map_err(|e| RecordError::Other(e.to_string()))?));
        }
        if let Some(p) = &f.poster {
            optional.push(("poster", serde_dynamo::to_attribute_value(p).map_err(|e| RecordError::Other(e.to_string()))?));
        }
        if let Some(reason) = &f.poster_error {
            optional.push(("poster_error", AttributeValue::S(reason.clone())));
        }
        if let Some(ms) = f.duration_ms {
            optional.push(("duration_ms", AttributeValue::N(ms.to_string())));
        }
        if !f.codecs.is_empty() {
            optional.push(("codecs", AttributeValue::L(f.codecs.iter().map(|c| AttributeValue::S(c.clone())).collect())));
        }
        for (name, _) in &optional {
            update.push_str(&format!(", {name} = :{name}"));
        }
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
            .expression_attribute_values(":fk", AttributeValue::S(f.final_key.clone()))
            .expression_attribute_values(":variants", variants)
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()));
        for (name, value) in optional {
            req = req.expression_attribute_values(format!(":{name}"), value);
        }
        match &f.gc_at {
            Some(at) => {
                update.push_str(", gc_shard = :gc, gc_at = :gcat REMOVE pending_owner, publish_claim, publish_claim_until");
                req = req
                    .expression_attribute_values(":gc", AttributeValue::S(crate::domain::media::GC_SHARD.into()))
                    .expression_attribute_values(":gcat", AttributeValue::S(at.clone()));
            }
            None => update.push_str(" REMOVE pending_owner, gc_shard, gc_at, publish_claim, publish_claim_until"),
        }
        req.update_expression(update).send().await.map_err(classify)?;
        Ok(())
    }

    /// pending → rejected, only from pending and while no run holds a live publish claim. The
    /// record stays (so clients see why) until `gc_at`, which nothing but a state change moves.
    async fn mark_rejected(&self, id: &str, rejection: &crate::domain::media::Rejection, now: &str, gc_at: &str) -> Result<(), RecordError> {
        let rej = serde_dynamo::to_attribute_value(rejection).map_err(|e| RecordError::Other(e.to_string()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.to_string()))
            .condition_expression(format!("#status = :pending AND {NO_LIVE_CLAIM}"))
            .update_expression(
                "SET #status = :rejected, rejection = :rej, updated_at = :now, decided_at = :now, gc_shard = :gc, gc_at = :gcat \
                 REMOVE pending_owner, publish_claim, publish_claim_until",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":rejected", AttributeValue::S("rejected".into()))
            .expression_attribute_values(":rej", rej)
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .expression_attribute_values(":gc", AttributeValue::S(crate::domain::media::GC_SHARD.into()))
            .expression_attribute_values(":gcat", AttributeValue::S(gc_at.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// One page, newest first, through an index (never a Scan). Returns the items and the key to
    /// continue from.
    async fn list(&self, by: &ListBy, filter: &ListFilter, limit: usize, start: Option<PageToken>) -> Result<(Vec<MediaRecord>, Option<PageToken>), RecordError> {
        let mut start = start.map(to_key);
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
                q = q.expression_attribute_names("#kind", "kind").expression_attribute_values(":kind", AttributeValue::S(k.to_string()));
            }
            if let Some(s) = &filter.status {
                conditions.push("#status = :status".into());
                q = q.expression_attribute_values(":status", AttributeValue::S(s.as_str().into()));
            }
            let out = q.filter_expression(conditions.join(" AND ")).send().await.map_err(classify)?;
            for item in out.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
            let next = out.last_evaluated_key;
            if items.len() >= limit {
                items.truncate(limit);
                let last = items.last().map(|r| index_key(r, attr, value));
                return Ok((items, last.map(to_token)));
            }
            match next {
                // A filter that matches little must not walk a large partition in one request:
                // after a few pages, answer what was found and a cursor to go on from.
                Some(k) if pages >= MAX_LIST_PAGES => return Ok((items, Some(to_token(k)))),
                Some(k) => start = Some(k),
                None => return Ok((items, None)),
            }
        }
    }

    async fn update_metadata(&self, id: &str, owner: &str, edit: &MetadataEdit, now: &str) -> Result<MediaRecord, RecordError> {
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
        match &edit.focal_point {
            Some(Some(f)) => {
                set.push("focal_point = :focal".into());
                values.push((":focal", serde_dynamo::to_attribute_value(f).map_err(|e| RecordError::Other(e.to_string()))?));
            }
            Some(None) => remove.push("focal_point".into()),
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
    async fn attach(&self, id: &str, owner: &str, reference: &str, expect_kind: Option<&KindName>, now: &str) -> Result<MediaRecord, RecordError> {
        let mut cond = String::from("#status = :ready AND (attribute_not_exists(attached_to) OR attached_to = :ref)");
        let mut req = self
            .owned_update(id, owner)
            .update_expression("SET attached_to = :ref, updated_at = :now REMOVE gc_shard, gc_at")
            .expression_attribute_values(":ref", AttributeValue::S(reference.into()))
            .expression_attribute_values(":ready", AttributeValue::S("ready".into()))
            .expression_attribute_values(":now", AttributeValue::S(now.into()));
        if let Some(k) = expect_kind {
            cond.push_str(" AND #kind = :kind");
            req = req.expression_attribute_names("#kind", "kind").expression_attribute_values(":kind", AttributeValue::S(k.to_string()));
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
    async fn detach(&self, id: &str, owner: &str, gc_at: Option<&str>, now: &str) -> Result<MediaRecord, RecordError> {
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
    async fn mark_deleting(&self, id: &str, owner: Option<&str>, now: &str) -> Result<MediaRecord, RecordError> {
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
    async fn delete_if_unchanged(&self, id: &str, status: Status, gc_at: Option<&str>) -> Result<(), RecordError> {
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

    /// Records whose janitor time has come (`gc_at <= now`), oldest first, from the sparse
    /// `gc_due` index: the janitor never scans the table.
    async fn gc_due(&self, now: &str, limit: usize, start: Option<PageToken>) -> Result<(Vec<MediaRecord>, Option<PageToken>), RecordError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(schema::GC_DUE)
            .key_condition_expression("gc_shard = :gc AND gc_at <= :now")
            .expression_attribute_values(":gc", AttributeValue::S(GC_SHARD.into()))
            .expression_attribute_values(":now", AttributeValue::S(now.into()))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start.map(to_key))
            .send()
            .await
            .map_err(classify)?;
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        Ok((items, out.last_evaluated_key.map(to_token)))
    }

    /// Takes a ready record out of the janitor's index when no rule applies to it any more (its
    /// kind stopped expiring unattached media), so it cannot be selected again on every run.
    async fn clear_gc(&self, id: &str, seen_gc_at: &str) -> Result<(), RecordError> {
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
    async fn mark_expired_deleting(&self, id: &str, seen_gc_at: &str, now: &str) -> Result<MediaRecord, RecordError> {
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
