//! Crash safety: a writer process is killed (SIGKILL) mid-write, again and again; the
//! database stays consistent and every write it acknowledged is there.

use crate::{rt, urls};
use std::io::BufRead;

/// The writer, run as a child process by the test below (ignored when run directly).
#[test]
#[ignore = "a child process of kills_mid_write_lose_no_acknowledged_write"]
fn crash_writer() {
    let Ok(url) = std::env::var("FP_CRASH_DB") else {
        return;
    };
    let case: i64 = std::env::var("FP_CRASH_CASE").unwrap().parse().unwrap();
    rt().block_on(async {
        let s = store::Store::open(&url).await.unwrap();
        let mut out = std::io::stdout();
        for k in 0.. {
            let note = format!("note {k}");
            s.record_progress(case, &note, "crash").await.unwrap();
            // Acknowledged: committed before this line is printed.
            use std::io::Write;
            writeln!(out, "{note}").unwrap();
            out.flush().unwrap();
        }
    });
}

#[test]
fn kills_mid_write_lose_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let urls = rt().block_on(urls(dir.path(), "crash"));
    for url in urls {
        let case = rt().block_on(async {
            let s = crate::seeded(&url).await;
            s.open_case("QAA", None, "crash test", None, "t")
                .await
                .unwrap()
                .unwrap()
        });
        let mut acknowledged = Vec::new();
        for round in 0..6u64 {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "crash::crash_writer",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("FP_CRASH_DB", &url)
                .env("FP_CRASH_CASE", case.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let mut lines = std::io::BufReader::new(stdout).lines();
            // Let it write a varying number of notes, then kill it mid-stream.
            let want = 5 + round * 7;
            let mut seen = 0;
            while seen < want {
                match lines.next() {
                    Some(Ok(l)) if l.starts_with("note ") => {
                        acknowledged.push(format!("{round}:{l}"));
                        seen += 1;
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            child.kill().unwrap();
            child.wait().unwrap();
            // Anything printed after the kill signal was also acknowledged.
            for l in lines.map_while(Result::ok) {
                if l.starts_with("note ") {
                    acknowledged.push(format!("{round}:{l}"));
                }
            }
            let notes = rt().block_on(async {
                let s = store::Store::open(&url).await.unwrap();
                let c = s
                    .cases()
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|c| c.id == case)
                    .unwrap();
                // Every progress row has its audit row: no half-written change.
                let audits = s
                    .audit()
                    .await
                    .unwrap()
                    .iter()
                    .filter(|a| a.action == "record_progress")
                    .count();
                assert_eq!(audits, c.progress.len(), "{url}");
                c.progress.len()
            });
            let acked_this_far = acknowledged.len();
            eprintln!("{url} round {round}: {notes} stored, {acked_this_far} acknowledged");
            // No acknowledged write is lost. (More may be stored than acknowledged: a write can
            // commit and the process die before it says so.)
            assert!(
                notes >= acked_this_far,
                "{url}: {notes} notes stored, {acked_this_far} acknowledged"
            );
        }
        if url.starts_with("sqlite://") {
            rt().block_on(async {
                sqlx::any::install_default_drivers();
                let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                    .await
                    .unwrap();
                let ok: String = sqlx::Row::get(
                    &sqlx::query("PRAGMA integrity_check")
                        .fetch_one(&mut c)
                        .await
                        .unwrap(),
                    0,
                );
                assert_eq!(ok, "ok");
            });
        }
    }
}
