//! S3 input through `object_store`, against a local S3-compatible server (moto) the test starts
//! on 127.0.0.1: the same findings as scanning the same files from disk.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m moto.server (scripts/test.sh installs moto[server])");
    let server = Server(child);
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "moto server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

const ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_ALLOW_HTTP", "true"),
];

#[test]
fn s3_prefix_scans_like_the_same_folder() {
    let (_server, port) = start_moto();
    let endpoint = format!("http://127.0.0.1:{port}");
    let photos = root().join("tests/data/wheel_photos/photos");
    let upload = format!(
        r#"
import boto3, os
s3 = boto3.client("s3", endpoint_url="{endpoint}", aws_access_key_id="test",
                  aws_secret_access_key="test", region_name="us-east-1")
s3.create_bucket(Bucket="survey")
for name in sorted(os.listdir("{dir}")):
    s3.upload_file(os.path.join("{dir}", name), "survey", "round1/photos/" + name)
s3.put_object(Bucket="survey", Key="other/x.jpg", Body=b"not listed under the prefix")
"#,
        dir = photos.display()
    );
    let st = Command::new("python3").args(["-c", &upload]).status().unwrap();
    assert!(st.success(), "upload to moto failed");

    let tmp = tempfile::tempdir().unwrap();
    let out_s3 = tmp.path().join("s3");
    let out_local = tmp.path().join("local");
    let mut cmd = crowdsift();
    cmd.args(["scan", "s3://survey/round1/photos", "--out", out_s3.to_str().unwrap(), "-q"])
        .env("AWS_ENDPOINT_URL", &endpoint);
    for (k, v) in ENV {
        cmd.env(k, v);
    }
    run_ok(&mut cmd);
    run_ok(crowdsift().args(["scan", photos.to_str().unwrap(), "--out", out_local.to_str().unwrap(), "-q"]));

    let s3 = read_findings(&out_s3);
    let local = read_findings(&out_local);
    let key = |rows: &[Row]| {
        rows.iter()
            .map(|r| (r.id.clone(), r.check.clone(), r.flagged, r.reason.clone(), r.score.map(f64::to_bits)))
            .collect::<Vec<_>>()
    };
    assert_eq!(s3.len(), local.len());
    assert_eq!(key(&s3), key(&local), "S3 and local scans of the same files differ");
    assert!(s3.iter().any(|r| r.id == "flower_truncated.jpg" && r.reason == "truncated"));

    // A manifest pointing into S3, with one object that does not exist.
    let manifest = tmp.path().join("m.csv");
    std::fs::write(
        &manifest,
        "obs_uid,label,uri\nA,coffee,s3://survey/round1/photos/coffee.jpg\nB,coffee,s3://survey/round1/photos/gone.jpg\n",
    )
    .unwrap();
    let out_m = tmp.path().join("m");
    let mut cmd = crowdsift();
    cmd.args(["scan", manifest.to_str().unwrap(), "--out", out_m.to_str().unwrap(), "-q"])
        .env("AWS_ENDPOINT_URL", &endpoint);
    for (k, v) in ENV {
        cmd.env(k, v);
    }
    run_ok(&mut cmd);
    let m = by_id_check(&read_findings(&out_m));
    assert!(!m[&("A".to_owned(), "decode".to_owned())].flagged);
    let b = &m[&("B".to_owned(), "decode".to_owned())];
    assert_eq!((b.flagged, b.reason.as_str()), (true, "missing"), "{}", b.detail);
}
