//! A server killed with SIGKILL in the middle of a stream of transfers loses nothing it
//! acknowledged and half-applies nothing: after a restart the ledger verifies, every
//! acknowledged transfer is there, and retrying every request (acknowledged or not) with its
//! key completes each award exactly once. Runs against the real binary, on SQLite by
//! default or PostgreSQL with YINLING_TEST_DATABASE_URL.

#![cfg(unix)]

use std::{
    collections::HashSet,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use yinling_store::testing::TestDb;
use yinling_web::kernel::wire::Conn;

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const PASSWORD: &str = "Kill-Test-2026!";
const COUNTY: i64 = 370830;

fn yinling(url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yinling"));
    cmd.env("YINLING_DATABASE_URL", url)
        .env("YINLING_DATA_KEY", KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn start(url: &str, addr: SocketAddr) -> Child {
    let mut child = yinling(url)
        .args(["serve", "--listen", &addr.to_string()])
        .spawn()
        .expect("start yinling serve");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        if let Ok(mut c) = Conn::open(addr).await
            && let Ok((200, _)) = c.get("/healthz", None).await
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("yinling serve did not come up");
}

fn earn_body(person: i64, key: &str) -> String {
    json!({"person": {"county_code": COUNTY, "id": person}, "activity": "kill_test",
        "source_ref": "kill", "idempotency_key": key})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_and_half_applies_nothing() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    db.store.close().await;
    let status = yinling(&url)
        .args([
            "demo",
            "--people",
            "300",
            "--no-serve",
            "--admin-password",
            PASSWORD,
        ])
        .status()
        .expect("demo");
    assert!(status.success(), "demo failed");

    let addr = free_addr();
    let mut server = start(&url, addr).await;
    let mut conn = Conn::open(addr).await.unwrap();
    let token = conn.login("wenshang", PASSWORD).await.unwrap();
    let (status, resp) = conn
        .request(
            "PUT",
            "/api/v1/ledger/earning-rules",
            Some(&token),
            Some(
                &json!({"county_code": COUNTY, "source_kind": "activity", "code": "kill_test",
                    "label": "测试活动", "points": 3, "minutes": 10})
                .to_string(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let (_, rules) = conn
        .get(&format!("/api/v1/ledger/rules/{COUNTY}"), Some(&token))
        .await
        .unwrap();
    let mut rules: Value = serde_json::from_slice(&rules).unwrap();
    rules["daily_points_cap"] = Value::Null;
    rules["daily_minutes_cap"] = Value::Null;
    let (status, resp) = conn
        .request(
            "PUT",
            &format!("/api/v1/ledger/rules/{COUNTY}"),
            Some(&token),
            Some(&rules.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let (_, people) = conn
        .get("/api/v1/people?per_page=50", Some(&token))
        .await
        .unwrap();
    let people: Vec<i64> = serde_json::from_slice::<Value>(&people).unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["county_code"] == COUNTY)
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(people.len() >= 10, "{people:?}");

    // Sixteen clients stream awards; the server is killed while they do.
    let acked: Arc<Mutex<Vec<(String, i64, i64)>>> = Arc::default();
    let sent: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..16 {
        let (acked, sent, token, people) =
            (acked.clone(), sent.clone(), token.clone(), people.clone());
        clients.push(tokio::spawn(async move {
            let Ok(mut conn) = Conn::open(addr).await else {
                return;
            };
            for n in 0.. {
                let key = format!("kill-{c}-{n}");
                let person = people[(c * 7 + n) % people.len()];
                sent.lock().unwrap().push((key.clone(), person));
                let Ok((status, resp)) = conn
                    .post(
                        "/api/v1/ledger/earn",
                        Some(&token),
                        &earn_body(person, &key),
                    )
                    .await
                else {
                    return; // the server died
                };
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
                let v: Value = serde_json::from_slice(&resp).unwrap();
                acked.lock().unwrap().push((
                    key,
                    v["points"]["transfer"]["id"].as_i64().unwrap(),
                    v["minutes"]["transfer"]["id"].as_i64().unwrap(),
                ));
            }
        }));
    }
    let t = Instant::now();
    while acked.lock().unwrap().len() < 300 && t.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(acked.len() >= 300, "only {} acknowledged", acked.len());
    assert!(
        sent.len() > acked.len(),
        "the kill should interrupt requests in flight"
    );

    // After a restart: the ledger verifies and every acknowledged transfer is there.
    let verify = yinling(&url).args(["ledger", "verify"]).status().unwrap();
    assert!(
        verify.success(),
        "yinling ledger verify failed after the kill"
    );
    let mut server = start(&url, addr).await;
    let mut conn = Conn::open(addr).await.unwrap();
    let token = conn.login("wenshang", PASSWORD).await.unwrap();
    let acked_keys: HashSet<&str> = acked.iter().map(|a| a.0.as_str()).collect();
    // Retrying everything sent: acknowledged ones replay the same transfers; the others
    // complete now, once.
    let mut replayed = 0;
    for (key, person) in &sent {
        let (status, resp) = conn
            .post(
                "/api/v1/ledger/earn",
                Some(&token),
                &earn_body(*person, key),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
        let v: Value = serde_json::from_slice(&resp).unwrap();
        if let Some(a) = acked.iter().find(|a| &a.0 == key) {
            assert_eq!(v["points"]["replayed"], true, "{key}");
            assert_eq!(v["points"]["transfer"]["id"], a.1);
            assert_eq!(v["minutes"]["transfer"]["id"], a.2);
            replayed += 1;
        }
    }
    assert_eq!(replayed, acked_keys.len());
    server.kill().unwrap();
    server.wait().unwrap();
    let verify = yinling(&url).args(["ledger", "verify"]).status().unwrap();
    assert!(verify.success());
    // Exactly two transfers per request sent, none twice.
    let store = yinling_store::Store::open(&yinling_store::StoreOptions::new(&url))
        .await
        .unwrap();
    let n: i64 = store
        .read()
        .scalar(yinling_store::q!(
            "SELECT COUNT(*) FROM ledger_transfers WHERE source_ref = 'kill'"
        ))
        .await
        .unwrap();
    assert_eq!(n, 2 * sent.len() as i64);
}
