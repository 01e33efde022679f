//! The distributed engine end to end: a Ballista scheduler and two executors as separate
//! `footprint cluster` processes on loopback, and the headline indicators computed on them
//! compared row by row with the embedded engine. Built with the `distributed` feature
//! (`.ci/run` runs it and fails if it did not run).

use super::footprint;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The processes a test started, stopped when it ends however it ends.
struct Cluster(Vec<Child>);

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A free loopback port whose next port is free too (an executor takes both).
fn free_pair() -> u16 {
    loop {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

fn wait_for(addr: SocketAddr, what: &str, cluster: &mut Cluster) {
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        for child in &mut cluster.0 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("a cluster process exited ({status}) before the {what} listened");
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the {what} did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(args: &[String], log: &Path) -> Child {
    let bin = assert_cmd::cargo::cargo_bin("footprint");
    let log = std::fs::File::create(log).unwrap();
    Command::new(bin)
        .args(args)
        .env("FOOTPRINT_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

type Row = (String, String, String, String, String, String);
type Values = [Option<f64>; 7];

/// indicators.parquet by key, with the suppression flag and every number.
fn read(path: &Path) -> BTreeMap<Row, (Values, bool)> {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = BTreeMap::new();
    for batch in reader {
        let b: RecordBatch = batch.unwrap();
        let s = |i: usize| b.column(i).as_string::<i32>().clone();
        let (id, kind, code, level, grain, period) = (s(0), s(1), s(2), s(3), s(4), s(5));
        let nums: Vec<_> = (6..13)
            .map(|i| b.column(i).as_primitive::<Float64Type>().clone())
            .collect();
        let suppressed = b.column(13).as_boolean().clone();
        for r in 0..b.num_rows() {
            let key = (
                id.value(r).to_string(),
                kind.value(r).to_string(),
                code.value(r).to_string(),
                level.value(r).to_string(),
                grain.value(r).to_string(),
                period.value(r).to_string(),
            );
            let mut values = [None; 7];
            for (v, a) in values.iter_mut().zip(&nums) {
                *v = (!a.is_null(r)).then(|| a.value(r));
            }
            assert!(
                out.insert(key, (values, suppressed.value(r))).is_none(),
                "a duplicate row"
            );
        }
    }
    out
}

#[test]
fn the_headline_indicators_and_the_need_model_on_a_two_executor_cluster_equal_the_embedded_engine() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synthetic");
    footprint()
        .args(["synth", "--quiet", "--scale", "0.002", "--seed", "11", "--out"])
        .arg(&data)
        .assert()
        .success();

    let scheduler: SocketAddr = format!("127.0.0.1:{}", free_pair()).parse().unwrap();
    let mut cluster = Cluster(Vec::new());
    cluster.0.push(spawn(
        &[
            "cluster".into(),
            "scheduler".into(),
            "--bind".into(),
            scheduler.to_string(),
        ],
        &dir.path().join("scheduler.log"),
    ));
    wait_for(scheduler, "scheduler", &mut cluster);
    for i in 0..2 {
        let bind: SocketAddr = format!("127.0.0.1:{}", free_pair()).parse().unwrap();
        let work = dir.path().join(format!("executor{i}"));
        std::fs::create_dir_all(&work).unwrap();
        cluster.0.push(spawn(
            &[
                "cluster".into(),
                "executor".into(),
                "--scheduler".into(),
                scheduler.to_string(),
                "--bind".into(),
                bind.to_string(),
                "--concurrency".into(),
                "2".into(),
                "--work-dir".into(),
                work.display().to_string(),
            ],
            &dir.path().join(format!("executor{i}.log")),
        ));
        wait_for(bind, "executor", &mut cluster);
    }

    let headline = [
        "emergency_admissions_rate",
        "readmissions_30d",
        "emergency_admissions_isr",
    ];
    let compute = |out: &Path, engine: &str| {
        let mut cmd = footprint();
        cmd.args(["indicators", "compute", "--quiet", "--engine", engine, "--out"])
            .arg(out)
            .arg(&data);
        for id in headline {
            cmd.args(["--indicator", id]);
        }
        let output = cmd.output().unwrap();
        assert!(
            output.status.success(),
            "--engine {engine}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let embedded = dir.path().join("embedded");
    let distributed = dir.path().join("distributed");
    compute(&embedded, "embedded");
    compute(&distributed, &format!("df://{scheduler}"));

    let a = read(&embedded.join("indicators.parquet"));
    let b = read(&distributed.join("indicators.parquet"));
    for id in headline {
        let n = a.keys().filter(|k| k.0 == id).count();
        assert!(n > 1000, "{id}: only {n} rows from the embedded engine");
    }
    assert_eq!(a.len(), b.len(), "the cluster gave a different number of rows");
    let mut suppressed = 0;
    for (key, (va, sa)) in &a {
        let (vb, sb) = b
            .get(key)
            .unwrap_or_else(|| panic!("the cluster has no row {key:?}"));
        assert_eq!(sa, sb, "{key:?}: suppressed differently");
        suppressed += usize::from(*sa);
        for (i, (x, y)) in va.iter().zip(vb).enumerate() {
            match (x, y) {
                (Some(x), Some(y)) => assert!(
                    (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                    "{key:?} column {i}: embedded {x}, cluster {y}"
                ),
                (None, None) => {}
                _ => panic!("{key:?} column {i}: embedded {x:?}, cluster {y:?}"),
            }
        }
    }
    assert!(
        suppressed > 0,
        "no suppressed rows: the comparison of suppression tested nothing"
    );

    // The need model reads every person of the base year through `Engine::query` (one SQL
    // over patients, LSOAs, conditions and the year's costs): on the cluster too.
    let fit = |engine: &str| {
        let out = dir
            .path()
            .join(format!("need-{}", engine.replace(['/', ':', '.'], "-")));
        let output = footprint()
            .args(["-q", "budgets", "fit", "--engine", engine, "--out"])
            .arg(&out)
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "budgets fit --engine {engine}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read_to_string(out.join("need.csv")).unwrap()
    };
    let (embedded, distributed) = (fit("embedded"), fit(&format!("df://{scheduler}")));
    let (a, b): (Vec<&str>, Vec<&str>) = (embedded.lines().collect(), distributed.lines().collect());
    assert!(a.len() > 100, "need.csv has {} lines", a.len());
    assert_eq!(a.len(), b.len(), "need.csv: a different number of practices");
    for (la, lb) in a.iter().zip(&b) {
        for (x, y) in la.split(',').zip(lb.split(',')) {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "need.csv:\n{la}\n{lb}"),
                _ => assert_eq!(x, y, "need.csv:\n{la}\n{lb}"),
            }
        }
    }

    // Both executors took part: each logged tasks it ran.
    drop(cluster);
    for i in 0..2 {
        let log = std::fs::read_to_string(dir.path().join(format!("executor{i}.log"))).unwrap();
        let tasks = log.matches("Finished task").count();
        assert!(tasks > 0, "executor {i} ran no task:\n{log}");
    }
}

#[test]
fn a_scheduler_that_is_not_there_is_reported_before_any_work() {
    let port = free_pair();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synthetic");
    footprint()
        .args(["synth", "--quiet", "--scale", "0.001", "--seed", "2", "--out"])
        .arg(&data)
        .assert()
        .success();
    let out = dir.path().join("out");
    let output = footprint()
        .args([
            "indicators",
            "compute",
            "--quiet",
            "--engine",
            &format!("df://127.0.0.1:{port}"),
            "--out",
        ])
        .arg(&out)
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot reach the Ballista scheduler at df://127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    assert!(!out.join("indicators.parquet").exists());
    // Nothing is left behind for executors that never ran.
    let staged = data.join(".footprint/cluster");
    assert!(!staged.exists() || std::fs::read_dir(&staged).unwrap().next().is_none());
}
