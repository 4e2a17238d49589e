//! The hostile corpus (tests/fixtures/make_hostile.py): every file gets its expected reason code,
//! nothing panics, and peak memory stays under 1 GiB although the corpus holds decompression bombs.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use crate::util::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Peak RSS in bytes of the largest child process waited for so far.
#[allow(unsafe_code)]
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0);
    ru.ru_maxrss as u64 * 1024
}

#[allow(unsafe_code)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn hostile_corpus_gets_reason_codes_without_panic_or_memory_blowup() {
    let tmp = tempfile::tempdir().unwrap();
    chmod(tmp.path(), 0o755);
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    python("make_hostile.py", &[corpus.to_str().unwrap()]);
    std::fs::create_dir(&out).unwrap();
    chmod(&out, 0o777);

    let args = ["scan", corpus.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--jobs", "2"];
    // Root reads any file, so the unreadable file is only unreadable to an ordinary user: run the
    // scan as `nobody` when the tests run as root.
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_crowdsift")]);
        c
    } else {
        crowdsift()
    };
    let before = children_peak_rss();
    let res = run_ok(cmd.args(args));
    let peak = children_peak_rss().max(before);
    assert_eq!(res.status.code(), Some(1), "hostile files must be flagged");
    assert!(peak < 1 << 30, "peak RSS {} MiB", peak >> 20);

    let rows = read_findings(&out);
    let decode = by_id_check(&rows);
    let mut rdr = csv::Reader::from_path(corpus.join("expected.csv")).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        let (reason, note, name_hex) = (&r[1], &r[2], &r[3]);
        let id = crowdsift_ingest::path_id(Path::new(OsStr::from_bytes(&unhex(name_hex))));
        let Some(row) = decode.get(&(id.clone(), "decode".to_owned())) else {
            wrong.push(format!("{id}: no decode finding"));
            continue;
        };
        let got = if row.flagged { row.reason.as_str() } else { "ok" };
        let fine = match reason {
            "ok_or_decode_error" => got == "ok" || got == "decode_error",
            expected => got == expected,
        };
        if !fine {
            wrong.push(format!("{id}: expected {reason}, got {got} ({}) [{note}]", row.detail));
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} hostile cases");
    assert!(wrong.is_empty(), "{} of {checked} wrong:\n{}", wrong.len(), wrong.join("\n"));

    // Orientation is applied: the 200×100 photo with EXIF orientation 6 is 100×200 upright.
    let o6 =
        decode.get(&("exif_orientation_6.jpg".to_owned(), "too_small".to_owned())).expect("oriented photo scanned");
    assert!(o6.detail.starts_with("100×200"), "{}", o6.detail);
    // Unsupported formats are named.
    let heic = decode.get(&("iphone.heic".to_owned(), "decode".to_owned())).unwrap();
    assert!(heic.detail.contains("heif"), "{}", heic.detail);
}

/// The OCR path decodes full-resolution photos: on the same corpus it reads what can be read,
/// names every file it cannot with its reason, and neither panics nor blows up memory.
#[test]
fn hostile_corpus_through_ocr_is_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    python("make_hostile.py", &[corpus.to_str().unwrap()]);
    let before = children_peak_rss();
    let res = run_ok(crowdsift().args(["ocr", corpus.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]));
    let peak = children_peak_rss().max(before);
    assert_eq!(res.status.code(), Some(1), "hostile files must be reported");
    assert!(peak < 2 << 30, "peak RSS {} MiB", peak >> 20);
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    let mut rdr = csv::Reader::from_path(corpus.join("expected.csv")).unwrap();
    let (mut missing, mut failing) = (Vec::new(), 0);
    for r in rdr.records() {
        let r = r.unwrap();
        let id = crowdsift_ingest::path_id(Path::new(OsStr::from_bytes(&unhex(&r[3]))));
        let reported = stdout.contains(&format!("not read: {id}: "));
        let must_fail = !matches!(&r[1], "ok" | "ok_or_decode_error" | "permission");
        failing += usize::from(must_fail);
        if must_fail && !reported {
            missing.push(format!("{id} ({})", &r[1]));
        }
    }
    assert!(failing >= 20, "only {failing} hostile cases");
    assert!(missing.is_empty(), "not reported: {missing:?}\n{stdout}");
}
