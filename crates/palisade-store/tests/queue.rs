//! The job queue on SQLite and PostgreSQL: no job runs twice, none is lost.

// Test code: a failed set-up should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use palisade_store::now_ms;
use palisade_store::test_support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_claimed_once_and_completed_once() {
    for db in test_support::all().await {
        let store = &db.store;
        for i in 0..20 {
            assert!(
                store
                    .enqueue("rematch", &format!("{{\"n\":{i}}}"), None, 0)
                    .await
                    .unwrap()
            );
        }
        // Four workers race for the twenty jobs.
        let mut handles = Vec::new();
        for w in 0..4 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                let worker = format!("w{w}");
                let mut got = Vec::new();
                while let Some(job) = store.claim(&worker, 60_000).await.unwrap() {
                    assert!(store.complete(&job.id, &worker).await.unwrap());
                    got.push(job.payload);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        let unique: BTreeSet<_> = all.iter().cloned().collect();
        assert_eq!(all.len(), 20, "{}: every job ran exactly once", db.label);
        assert_eq!(unique.len(), 20, "{}", db.label);
        let stats = store.queue_stats().await.unwrap();
        assert_eq!(
            (stats.queued, stats.running, stats.done),
            (0, 0, 20),
            "{}",
            db.label
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_expired_lease_hands_the_job_to_another_worker() {
    for db in test_support::all().await {
        let store = &db.store;
        store.enqueue("sync", "{}", None, 0).await.unwrap();
        let job = store.claim("dead", 1).await.unwrap().expect("a job");
        // The first worker "dies": its lease of 1 ms runs out.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let again = store
            .claim("alive", 60_000)
            .await
            .unwrap()
            .expect("the job again");
        assert_eq!(again.id, job.id, "{}", db.label);
        assert_eq!(again.attempts, 2, "{}", db.label);
        // The dead worker cannot complete what it no longer holds.
        assert!(
            !store.complete(&job.id, "dead").await.unwrap(),
            "{}",
            db.label
        );
        assert!(
            store.complete(&job.id, "alive").await.unwrap(),
            "{}",
            db.label
        );
        assert!(
            store.claim("alive", 60_000).await.unwrap().is_none(),
            "{}",
            db.label
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn dedup_keys_absorb_duplicates_until_done_and_failures_retry() {
    for db in test_support::all().await {
        let store = &db.store;
        assert!(
            store
                .enqueue("rematch", "{}", Some("pkg:PyPI/django"), 0)
                .await
                .unwrap()
        );
        assert!(
            !store
                .enqueue("rematch", "{}", Some("pkg:PyPI/django"), 0)
                .await
                .unwrap()
        );
        let job = store.claim("w", 60_000).await.unwrap().expect("job");
        assert!(store.fail(&job.id, "w", "boom", 0).await.unwrap());
        let retry = store.claim("w", 60_000).await.unwrap().expect("retried");
        assert_eq!(retry.id, job.id);
        assert!(store.complete(&retry.id, "w").await.unwrap());
        // Done: the key is free again.
        assert!(
            store
                .enqueue("rematch", "{}", Some("pkg:PyPI/django"), now_ms())
                .await
                .unwrap()
        );
        db.finish().await;
    }
}
