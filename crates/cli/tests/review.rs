//! `crowdsift review` and `crowdsift release` after `crowdsift run` on the samples: a person
//! reviews three photos by keyboard in headless Chromium (WebDriver: Debian `chromium-driver`),
//! the decisions survive a reload, the server refuses requests without the token and paths
//! that climb out, and the release holds what was approved — redacted, without metadata, with a
//! manifest whose checksums match — while the originals stay byte-identical.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::{Client, ClientBuilder, Locator};

use crate::util::*;

/// Kills a child process when dropped (also when an assertion fails).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends a request with exactly this path (no client normalises it) and returns the status code.
fn status(addr: &str, path: &str, token: Option<&str>) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    let res = String::from_utf8_lossy(&bytes);
    res.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status in {res:?}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn sha256_files(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().display().to_string(), crowdsift_ingest::sha256_hex(&std::fs::read(e.path()).unwrap())))
        .collect();
    v.sort();
    v
}

async fn press(c: &Client, key: char) {
    let keys =
        KeyActions::new("keyboard".into()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.unwrap();
}

/// The photo the page shows once it differs from `before` (the page moves on after a decision).
async fn shown_after(c: &Client, before: &str) -> String {
    let sel = format!("body[data-ready='1']:not([data-item='{before}'])");
    c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(&sel)).await.unwrap();
    c.find(Locator::Css("body")).await.unwrap().attr("data-item").await.unwrap().unwrap_or_default()
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// A headless Chromium session of the chromedriver on port `driver`.
async fn session(driver: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver}"))
        .await
        .expect("chromedriver session")
}

/// Starts chromedriver on a free port: (the process, its port).
fn chromedriver() -> (Killed, u16) {
    let port = free_port();
    let driver = Killed(
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/setup.sh --test installs Debian chromium-driver)"),
    );
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (driver, port)
}

/// Starts `crowdsift review OUT` for reviewer "tester" on a free port: (the server, its URL).
fn review_server(out: &Path) -> (Killed, String) {
    let mut server = Killed(
        crowdsift()
            .args(["review", out.to_str().unwrap(), "--port", "0", "--reviewer", "tester"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("{line}")).to_owned();
    (server, url)
}

/// Returns the ids of the three photos decided: (taken the suggested label, rejected, approved).
async fn review_three(url: &str, driver: u16) -> (Vec<String>, String) {
    let c = session(driver).await;
    c.goto(&format!("{url}#labels")).await.unwrap();
    let first = shown_after(&c, "").await;
    assert!(text(&c, "#psugg").await.starts_with("suggested: "), "the audit's suggestion is shown");
    let suggested = text(&c, "#psugg").await["suggested: ".len()..].to_owned();
    press(&c, 's').await; // take the suggested label
    let second = shown_after(&c, &first).await;
    press(&c, 'r').await; // reject
    let third = shown_after(&c, &second).await;
    press(&c, 'a').await; // approve
    let fourth = shown_after(&c, &third).await;
    assert_eq!(text(&c, "#progress").await, "3 of 4 decided");

    // Reload: the page opens at the first photo without a decision, and going back shows the
    // decisions made before.
    c.refresh().await.unwrap();
    assert_eq!(shown_after(&c, "").await, fourth, "resumes at the first open photo");
    assert_eq!(text(&c, "#progress").await, "3 of 4 decided");
    press(&c, 'k').await;
    assert_eq!(shown_after(&c, &fourth).await, third);
    assert!(text(&c, "#decision").await.starts_with("approved by tester at "), "{}", text(&c, "#decision").await);
    press(&c, 'k').await;
    assert_eq!(shown_after(&c, &third).await, second);
    assert!(text(&c, "#decision").await.starts_with("rejected by tester"));
    press(&c, 'k').await;
    assert_eq!(shown_after(&c, &second).await, first);
    assert!(text(&c, "#plabel").await.ends_with(&format!("→ {suggested}")), "{}", text(&c, "#plabel").await);
    // The picture is served (the image element loaded it). Loading finishes after the page has
    // moved on, so wait for it rather than read naturalWidth at once (0 on a busy machine).
    let mut loaded = serde_json::Value::Null;
    for _ in 0..100 {
        loaded = c
            .execute("const i = document.getElementById('img'); return i.complete ? i.naturalWidth : -1", vec![])
            .await
            .unwrap();
        if loaded.as_i64() != Some(-1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(loaded.as_u64().unwrap_or(0) > 100, "{loaded:?}");

    // In the personal-data queue, mark a region the redaction should also hide, then approve.
    press(&c, '4').await;
    let marked = shown_after(&c, &first).await;
    assert!(c.current_url().await.unwrap().as_str().ends_with(&format!("#pii/{marked}")));
    press(&c, 'm').await;
    let img = c.find(Locator::Css("#img")).await.unwrap();
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: img, duration: None, x: -60.0, y: -40.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(100)), x: 120.0, y: 80.0 })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(drag).await.unwrap();
    press(&c, '\u{E007}').await; // Enter: save the regions
    c.wait().for_element(Locator::XPath("//p[@id='status'][starts-with(., 'regions ')]")).await.unwrap();
    press(&c, 'a').await;
    shown_after(&c, &marked).await;
    // Undo goes back to the photo and to its state before the approval (regions kept).
    press(&c, 'u').await;
    c.wait().for_element(Locator::XPath("//p[@id='status'][starts-with(., 'undone: ')]")).await.unwrap();
    assert_eq!(
        c.find(Locator::Css("body")).await.unwrap().attr("data-item").await.unwrap().as_deref(),
        Some(marked.as_str())
    );
    assert_eq!(text(&c, "#decision").await, "not decided");
    assert_eq!(c.find_all(Locator::Css("#pic .box")).await.unwrap().len(), 1, "the marked region");
    press(&c, 'a').await;
    shown_after(&c, &marked).await;
    c.close().await.unwrap();
    (vec![first, second, third, marked], suggested)
}

#[test]
fn review_by_keyboard_then_release_what_was_approved() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let samples = root().join("tests/data/wheel_photos");
    let originals = sha256_files(&samples.join("photos"));
    let manifest = samples.join("manifest.csv");
    let res =
        crowdsift().args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).output().unwrap();
    assert_eq!(res.status.code(), Some(1), "{}", String::from_utf8_lossy(&res.stdout));
    // These photos' labels are right, so the audit's floor leaves no label issue; confident
    // learning alone (no floor) flags a few of the honest confusions, enough labels to review.
    let res = crowdsift().args(["audit", out.to_str().unwrap(), "--issue-floor", "1000", "-q"]).output().unwrap();
    assert_eq!(res.status.code(), Some(1), "{}", String::from_utf8_lossy(&res.stdout));

    // Other machines are refused unless asked for.
    let refused =
        crowdsift().args(["review", out.to_str().unwrap(), "--bind", "0.0.0.0", "--port", "0"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a loopback address"), "{refused:?}");

    let (server, url) = review_server(&out);
    let (base, token) = url.split_once("/?token=").unwrap();
    let addr = base.trim_start_matches("http://").to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    // Without the token, or with another: 401 everywhere.
    for path in ["/", "/api/state", "/api/queue/labels", "/img/S001", "/img/S001?size=thumb"] {
        assert_eq!(status(&addr, path, None), 401, "{path}");
        assert_eq!(status(&addr, path, Some("0123456789abcdef0123456789abcdef")), 401, "{path}");
    }
    assert_eq!(status(&addr, &format!("/?token={}x", token), None), 401);
    // With it: the page, and photos by id only; paths that climb out find nothing.
    assert_eq!(status(&addr, &format!("/?token={token}"), None), 200);
    assert_eq!(status(&addr, "/img/S001", Some(token)), 200);
    for path in [
        "/img/../../etc/passwd",
        "/img/..%2F..%2Fetc%2Fpasswd",
        "/img/%2Fetc%2Fpasswd",
        "/img/..",
        "/../crowdsift.db",
        "/img/tests%2Fdata%2Fwheel_photos%2Fphotos%2Fcoffee.jpg",
    ] {
        let code = status(&addr, path, Some(token));
        assert!(code == 404 || code == 400, "{path}: {code}");
    }

    // A person reviews three label issues by keyboard in Chromium.
    let (_driver, driver_port) = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (decided, suggested) = rt.block_on(review_three(&url, driver_port));
    drop(server);

    // Every decision is in the store's log with the reviewer and a time.
    let db = rusqlite::Connection::open(out.join("crowdsift.db")).unwrap();
    let log: Vec<(String, String, String, Option<String>)> = db
        .prepare("SELECT image_id, action, reviewer, label FROM decisions ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<(String, String, String, Option<String>)> = vec![
        (decided[0].clone(), "relabel".into(), "tester".into(), Some(suggested.clone())),
        (decided[1].clone(), "reject".into(), "tester".into(), None),
        (decided[2].clone(), "keep".into(), "tester".into(), None),
        (decided[3].clone(), "regions".into(), "tester".into(), None),
        (decided[3].clone(), "keep".into(), "tester".into(), None),
        (decided[3].clone(), "undo".into(), "tester".into(), None),
        (decided[3].clone(), "keep".into(), "tester".into(), None),
    ];
    assert_eq!(log, expected);
    let regions: String =
        db.query_row("SELECT regions FROM decisions ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    let regions: Vec<[f32; 4]> = serde_json::from_str(&regions).unwrap();
    assert_eq!(regions.len(), 1, "{regions:?}");
    let [x0, y0, x1, y1] = regions[0];
    // The drag went from 60 px left and 40 px above the picture's centre to as far right and below.
    assert!(x0 < 0.5 && x1 > 0.5 && y0 < 0.5 && y1 > 0.5 && x1 - x0 > 0.05 && y1 - y0 > 0.05, "{regions:?}");

    // The report counts the decisions.
    run_ok(crowdsift().args(["report", out.to_str().unwrap()]));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data-count=\"decided\">4<"), "four photos decided");

    // The release: what was approved or never needed a person; the rejected photo is left out.
    let rel = tmp.path().join("release");
    let res = crowdsift().args(["release", out.to_str().unwrap(), "--to", rel.to_str().unwrap()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    assert_eq!(res.status.code(), Some(1), "photos still wait for review: {stdout}");
    assert!(stdout.contains("1 rejected") && stdout.contains("1 unreadable"), "{stdout}");
    let mut rdr = csv::Reader::from_path(rel.join("manifest.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (uid, label, file, sha, decision, reviewer, reasons) =
        (col("obs_uid"), col("label"), col("file"), col("sha256"), col("decision"), col("reviewer"), col("reasons"));
    let ids: Vec<&str> = rows.iter().map(|r| &r[uid]).collect();
    assert!(ids.contains(&decided[0].as_str()) && ids.contains(&decided[2].as_str()), "{ids:?}");
    assert!(!ids.contains(&decided[1].as_str()), "rejected");
    let marked = rows.iter().find(|r| r[uid] == decided[3]).expect("the photo approved with a marked region");
    assert!(marked[reasons].split(';').any(|x| x == "pii"), "{:?}", &marked[reasons]);
    let unreadable = read_findings(&out).into_iter().find(|r| r.check == "decode" && r.flagged).unwrap().id;
    assert!(!ids.contains(&unreadable.as_str()), "{unreadable} cannot be decoded");
    for r in &rows {
        let path = rel.join(&r[file]);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(crowdsift_ingest::sha256_hex(&bytes), r[sha], "{}", r[uid].to_owned());
        // Written from pixels: no EXIF, GPS, XMP or IPTC.
        assert!(crowdsift_redact::inspect(&bytes).removed().is_empty(), "{}", &r[uid]);
        if r[uid] == decided[0] {
            assert_eq!((&r[label], &r[decision], &r[reviewer]), (suggested.as_str(), "approved", "tester"));
            assert!(r[reasons].contains("relabelled"), "{:?}", &r[reasons]);
        }
        if r[reasons].split(';').any(|x| x == "pii") {
            // Personal data: released from the redacted copy (with the marked region hidden too).
            let copy = std::fs::read_dir(out.join("redacted"))
                .unwrap()
                .filter_map(Result::ok)
                .find(|e| e.file_name().to_string_lossy().starts_with(&format!("{}-", &r[uid])))
                .unwrap();
            let copy = std::fs::read(copy.path()).unwrap();
            if r[uid] != decided[3] {
                assert_eq!(bytes, copy, "{}", &r[uid]);
                continue;
            }
            assert!(r[reasons].contains("1 regions hidden by reviewer"), "{:?}", &r[reasons]);
            let (a, b) =
                (image::load_from_memory(&bytes).unwrap().to_rgb8(), image::load_from_memory(&copy).unwrap().to_rgb8());
            assert_eq!(a.dimensions(), b.dimensions());
            let (w, h) = (a.width() as f32, a.height() as f32);
            let (mut inside, mut n_in, mut outside, mut n_out) = (0f64, 0f64, 0f64, 0f64);
            for (x, y, p) in a.enumerate_pixels() {
                let d: f64 =
                    p.0.iter().zip(b.get_pixel(x, y).0).map(|(u, v)| (f64::from(*u) - f64::from(v)).abs()).sum();
                let (fx, fy) = (x as f32 / w, y as f32 / h);
                if fx > x0 + 0.02 && fx < x1 - 0.02 && fy > y0 + 0.02 && fy < y1 - 0.02 {
                    (inside, n_in) = (inside + d, n_in + 1.0);
                } else if fx < x0 - 0.1 || fx > x1 + 0.1 || fy < y0 - 0.1 || fy > y1 + 0.1 {
                    (outside, n_out) = (outside + d, n_out + 1.0);
                }
            }
            let (inside, outside) = (inside / n_in, outside / n_out);
            eprintln!("{}: mean change inside the marked region {inside:.1}, outside {outside:.1}", &r[uid]);
            assert!(inside > 10.0 && outside < 3.0, "mean change inside {inside:.1}, outside {outside:.1}");
        }
    }
    assert_eq!(std::fs::read_dir(rel.join("images")).unwrap().count(), rows.len());
    // The parquet manifest holds the same rows.
    let pq = std::fs::File::open(rel.join("manifest.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(pq).unwrap().build().unwrap();
    let n: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(n, rows.len());

    // Releasing again into the same folder gives the same files.
    let before = sha256_files(&rel);
    let again = crowdsift().args(["release", out.to_str().unwrap(), "--to", rel.to_str().unwrap()]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        sha256_files(&rel).into_iter().filter(|(p, _)| !p.ends_with(".parquet")).collect::<Vec<_>>(),
        before.into_iter().filter(|(p, _)| !p.ends_with(".parquet")).collect::<Vec<_>>()
    );
    // A folder holding other files is not a release folder.
    let busy = tmp.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let res = crowdsift().args(["release", out.to_str().unwrap(), "--to", busy.to_str().unwrap()]).output().unwrap();
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("not an earlier release"), "{res:?}");

    // The originals were only read.
    assert_eq!(sha256_files(&samples.join("photos")), originals);
}

/// Clears the first grid page of the unusable queue: two exceptions marked, the rest rejected.
/// Returns the exceptions' ids.
async fn clear_a_page(url: &str, driver: u16) -> Vec<String> {
    let c = session(driver).await;
    c.goto(&format!("{url}#unusable")).await.unwrap();
    shown_after(&c, "").await;
    let status = |text: &'static str| format!("//p[@id='status'][. = '{text}']");
    press(&c, 'g').await;
    c.wait().for_element(Locator::Css("body.grid #grid .tile.cursor")).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("#grid .tile")).await.unwrap().len(), 24, "a page of 24");
    // The first photo and the fourth are the exceptions.
    press(&c, 'x').await;
    for _ in 0..3 {
        press(&c, '\u{E014}').await; // →
    }
    press(&c, 'x').await;
    let marked = c.find_all(Locator::Css("#grid .tile.sel")).await.unwrap();
    let mut exceptions = Vec::new();
    for t in marked {
        exceptions.push(t.attr("data-id").await.unwrap().unwrap());
    }
    assert_eq!(exceptions.len(), 2, "{exceptions:?}");
    if let Some(dir) = screenshots() {
        let all_shown =
            "return [...document.querySelectorAll('#grid img')].every((i) => i.complete && i.naturalWidth > 0)";
        for _ in 0..100 {
            if c.execute(all_shown, vec![]).await.unwrap().as_bool() == Some(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        std::fs::write(dir.join("review-grid.png"), c.screenshot().await.unwrap()).unwrap();
    }
    press(&c, 'r').await; // the other 22 rejected
    c.wait().at_most(Duration::from_secs(30)).for_element(Locator::XPath(&status("rejected 22 photos"))).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("#grid .tile[data-verdict='reject']")).await.unwrap().len(), 22);
    press(&c, 'A').await; // the exceptions approved
    c.wait().for_element(Locator::XPath(&status("approved 2 photos"))).await.unwrap();
    // Undo takes back the whole step, and it is done again.
    press(&c, 'u').await;
    c.wait().for_element(Locator::XPath(&status("undone: 2 photos"))).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("#grid .tile[data-verdict='keep']")).await.unwrap().len(), 0);
    press(&c, 'A').await;
    c.wait().for_element(Locator::XPath(&status("approved 2 photos"))).await.unwrap();
    assert_eq!(text(&c, "#progress").await, "24 of 26 decided");
    // The next page holds the last two photos, still open.
    press(&c, 'n').await;
    c.wait().for_element(Locator::Css("body[data-page='2']")).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("#grid .tile[data-verdict='']")).await.unwrap().len(), 2);
    c.close().await.unwrap();
    exceptions
}

/// The grid review mode: a page of 24 photos in a queue cleared in a handful of keystrokes, with
/// two exceptions; one decision per photo in the store's log, undo included.
#[test]
fn a_grid_page_is_cleared_with_two_exceptions() {
    let tmp = tempfile::tempdir().unwrap();
    // 26 real food photos of ifct-dev, all 307×172: too small to use.
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for p in &ifct_photos()[..26] {
        std::fs::copy(p, photos.join(p.file_name().unwrap())).unwrap();
    }
    let out = tmp.path().join("out");
    let res =
        crowdsift().args(["scan", photos.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).output().unwrap();
    assert_eq!(res.status.code(), Some(1), "{}", String::from_utf8_lossy(&res.stderr));

    let (server, url) = review_server(&out);
    let (_driver, driver_port) = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let exceptions = rt.block_on(clear_a_page(&url, driver_port));
    drop(server);

    let db = rusqlite::Connection::open(out.join("crowdsift.db")).unwrap();
    let log: Vec<(String, String, String)> = db
        .prepare("SELECT image_id, action, reviewer FROM decisions ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(log.iter().all(|(_, _, who)| who == "tester"));
    let actions: Vec<&str> = log.iter().map(|(_, a, _)| a.as_str()).collect();
    let expected: Vec<&str> = [vec!["reject"; 22], vec!["keep"; 2], vec!["undo"; 2], vec!["keep"; 2]].concat();
    assert_eq!(actions, expected, "one decision per photo");
    let rejected: std::collections::HashSet<&str> =
        log.iter().filter(|(_, a, _)| a == "reject").map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(rejected.len(), 22);
    assert!(exceptions.iter().all(|e| !rejected.contains(e.as_str())), "the exceptions were not rejected");
    let kept: Vec<&str> = log[26..].iter().map(|(id, _, _)| id.as_str()).collect();
    let mut want: Vec<&str> = exceptions.iter().map(String::as_str).collect();
    let mut got = kept.clone();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want, "the exceptions approved");

    // The release agrees: the two approved photos go out, the rejected ones and the open ones not.
    let rel = tmp.path().join("release");
    let res = crowdsift().args(["release", out.to_str().unwrap(), "--to", rel.to_str().unwrap()]).output().unwrap();
    let said = String::from_utf8_lossy(&res.stdout);
    assert!(said.starts_with("released 2 photos") && said.contains("22 rejected, 2 waiting for review"), "{said}");
}
