//! `scripts/load`: uploads from concurrent clients against the local stack (loopback only,
//! bounded in count and time), event replays, the janitor during the load, and an S3 outage
//! while events are processed. Prints the figures as JSON and exits non-zero if any promise broke.

use devtools::images;
use devtools::stack::{user, Stack};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const UPLOADS: usize = 300;
const CLIENTS: usize = 30;
const DEADLINE: Duration = Duration::from_secs(240);

#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    Ready,
    Rejected,
}

fn file(i: usize) -> (Vec<u8>, &'static str, Expect) {
    match i % 6 {
        0 => (images::jpeg(900, 600), "image/jpeg", Expect::Ready),
        1 => (images::png_rgba(400, 300), "image/png", Expect::Ready),
        2 => (images::webp(640, 360), "image/webp", Expect::Ready),
        3 => (images::jpeg(300, 1200), "image/jpeg", Expect::Ready),
        4 => (b"<html>not an image</html>".to_vec(), "image/jpeg", Expect::Rejected),
        _ => {
            let mut t = images::jpeg(500, 400);
            t.truncate(t.len() / 3);
            (t, "image/jpeg", Expect::Rejected)
        }
    }
}

async fn one_upload(s: &Stack, token: &str, i: usize) -> Result<(String, Expect), String> {
    let (bytes, ct, expect) = file(i);
    let method = if i % 2 == 0 { "post" } else { "put" };
    let body = json!({"kind": "post_image", "method": method, "files": [{"filename": format!("f{i}"), "content_type": ct, "size_bytes": bytes.len()}]});
    let r = s.call("POST", "/v1/uploads", Some(token), Some(&body)).await;
    if r.status != 201 {
        return Err(format!("slot {}: {}", r.status, r.body));
    }
    let slot = r.body["uploads"][0].clone();
    let (st, text) = if method == "post" { s.post_form(&slot, bytes, ct).await } else { s.put_slot(&slot, bytes).await };
    if !(200..300).contains(&st) {
        return Err(format!("upload {st}: {text}"));
    }
    Ok((slot["media_id"].as_str().unwrap_or_default().to_string(), expect))
}

async fn janitor(s: &Stack) -> Value {
    let url = format!("{}/2015-03-31/functions/janitor/invocations", s.api);
    s.http.post(url).json(&json!({"detail-type": "Scheduled Event"})).send().await.map(|r| r).ok()
        .map(|r| async { r.json::<Value>().await.unwrap_or(Value::Null) }).unwrap().await
}

async fn snapshot(s: &Stack, token: &str, id: &str) -> Value {
    s.call("GET", &format!("/v1/media/{id}"), Some(token), None).await.body
}

#[tokio::main]
async fn main() {
    let s = Arc::new(Stack::connect().await);
    let started = Instant::now();
    let tokens: Vec<String> = (0..CLIENTS).map(|c| s.token(&user(&format!("load{c}")), &[])).collect();
    let mut failures: Vec<String> = Vec::new();

    // 1. Uploads from 30 concurrent clients, with the janitor running during the load.
    let jan = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            let mut runs = Vec::new();
            for _ in 0..5 {
                runs.push(janitor(&s).await);
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
            runs
        })
    };
    let mut handles = Vec::new();
    for c in 0..CLIENTS {
        let s = Arc::clone(&s);
        let token = tokens[c].clone();
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for k in 0..UPLOADS / CLIENTS {
                out.push((c, one_upload(&s, &token, c * 100 + k).await));
            }
            out
        }));
    }
    let mut uploads: Vec<(usize, String, Expect)> = Vec::new();
    for h in handles {
        for (c, r) in h.await.unwrap_or_default() {
            match r {
                Ok((id, e)) => uploads.push((c, id, e)),
                Err(e) => failures.push(e),
            }
        }
    }
    let upload_secs = started.elapsed().as_secs_f64();
    let janitor_runs = jan.await.unwrap_or_default();

    // 2. Every upload decided: valid ones ready with thumbnails, invalid ones rejected.
    let mut states: HashMap<String, Value> = HashMap::new();
    let until = Instant::now() + DEADLINE;
    while states.len() < uploads.len() && Instant::now() < until {
        for (c, id, _) in &uploads {
            if !states.contains_key(id) {
                let m = snapshot(&s, &tokens[*c], id).await;
                if m["status"] != "pending" && !m.is_null() {
                    states.insert(id.clone(), m);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let decided_secs = started.elapsed().as_secs_f64();
    let (mut ready, mut rejected, mut stuck, mut wrong) = (0, 0, 0, 0);
    for (_, id, expect) in &uploads {
        match states.get(id) {
            None => stuck += 1,
            Some(m) => match (m["status"].as_str(), expect) {
                (Some("ready"), Expect::Ready) if !m["variants"].as_object().map_or(true, |v| v.is_empty()) => ready += 1,
                (Some("rejected"), Expect::Rejected) => rejected += 1,
                _ => {
                    wrong += 1;
                    failures.push(format!("{id}: expected {expect:?}, got {m}"));
                }
            },
        }
    }

    // 3. Replay every S3 event twice, newest first: nothing may change.
    let invoke = format!("{}/2015-03-31/functions/process-upload/invocations", s.api);
    let mut replays = 0;
    for (_, id, _) in uploads.iter().rev().chain(uploads.iter()) {
        let ev = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "replay"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"}, "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "replay", "bucket": {"name": s.bucket, "ownerIdentity": {"principalId": "x"}, "arn": "arn:aws:s3:::x"},
                   "object": {"key": format!("incoming/{id}"), "size": 1, "eTag": "x", "sequencer": "0"}}}]});
        if s.http.post(&invoke).json(&ev).send().await.is_ok() {
            replays += 1;
        }
    }
    let mut changed = 0;
    for (c, id, _) in &uploads {
        let now = snapshot(&s, &tokens[*c], id).await;
        if let Some(before) = states.get(id) {
            if now["updated_at"] != before["updated_at"] || now["status"] != before["status"] || now["sha256"] != before["sha256"] {
                changed += 1;
                failures.push(format!("{id} changed after replay"));
            }
        }
    }

    // 4. Faults: S3 (the emulator) goes away for 5 s right after 30 fresh uploads land, while
    //    their events are being processed; failed invocations are retried and every upload
    //    completes.
    let token = tokens[0].clone();
    let mut ids = Vec::new();
    for i in 0..30 {
        match one_upload(&s, &token, 6 * i).await {
            Ok((id, _)) => ids.push(id),
            Err(e) => failures.push(format!("fault-phase upload: {e}")),
        }
    }
    let outage = std::process::Command::new(devtools::env::repo_root().join("scripts/local"))
        .args(["restart-s3", "5"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let until = Instant::now() + Duration::from_secs(120);
    let mut done = 0;
    for id in &ids {
        loop {
            let m = snapshot(&s, &token, id).await;
            if m["status"] == "ready" {
                done += 1;
                break;
            }
            if Instant::now() > until {
                failures.push(format!("{id} not ready after the S3 outage: {m}"));
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let fault = json!({"uploads": ids.len(), "ready_after_outage": done, "s3_down_seconds": 5, "outage_injected": outage});

    let lost_by_janitor = uploads.iter().filter(|(_, id, _)| states.get(id).is_none()).count();
    let report = json!({
        "uploads": uploads.len(), "clients": CLIENTS, "upload_seconds": upload_secs, "all_decided_seconds": decided_secs,
        "ready": ready, "rejected": rejected, "stuck_pending": stuck, "wrong_verdict": wrong,
        "replayed_events": replays, "changed_by_replay": changed,
        "janitor_runs_during_load": janitor_runs, "lost": lost_by_janitor,
        "fault_injection": fault, "failures": failures.len(),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    for f in failures.iter().take(10) {
        eprintln!("failure: {f}");
    }
    let ok = failures.is_empty() && stuck == 0 && wrong == 0 && changed == 0 && uploads.len() == UPLOADS;
    std::process::exit(if ok { 0 } else { 1 });
}
