//! Embeddings through ONNX Runtime equal the Python reference (Pillow + onnxruntime, same
//! preprocessing) on the same photos, and are cached by photo and model checksum.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// id → embedding from the store.
fn stored(out: &Path, model: &str) -> HashMap<String, Vec<f32>> {
    let conn = rusqlite::Connection::open(out.join("crowdsift.db")).unwrap();
    let mut st = conn
        .prepare("SELECT i.uri, e.vector FROM images i JOIN embeddings e ON e.sha256 = i.sha256 WHERE e.model = ?1")
        .unwrap();
    st.query_map([model], |r| {
        let v: Vec<u8> = r.get(1)?;
        Ok((r.get::<_, String>(0)?, v.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn reference(model: &str, draft: bool, photos: &[String]) -> HashMap<String, Vec<f32>> {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("crates/embed/reference.py")).args(["--model", model]);
    if draft {
        cmd.arg("--draft");
    }
    let st = cmd.arg(tmp.path()).args(photos).status().unwrap();
    assert!(st.success(), "reference.py failed");
    serde_json_from(&std::fs::read_to_string(tmp.path()).unwrap())
}

/// Minimal parse of {"path": [floats], ...} without a JSON dependency in the tests.
fn serde_json_from(s: &str) -> HashMap<String, Vec<f32>> {
    let mut out = HashMap::new();
    for part in s.trim().trim_start_matches('{').trim_end_matches('}').split("], ") {
        let (k, v) = part.split_once(": [").unwrap();
        let v = v.trim_end_matches(']');
        out.insert(k.trim().trim_matches('"').to_owned(), v.split(", ").map(|x| x.parse().unwrap()).collect());
    }
    out
}

fn check(model: &str, src: &Path, draft: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let embed = || {
        let res = run_ok(crowdsift().args([
            "embed",
            src.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--model",
            model,
        ]));
        String::from_utf8_lossy(&res.stdout).into_owned()
    };
    let stdout = embed();
    let ours = stored(&out, model);
    assert!(ours.len() >= 10, "{stdout}");
    // Byte-identical photos are embedded once.
    let distinct: std::collections::HashSet<Vec<u32>> =
        ours.values().map(|v| v.iter().map(|x| x.to_bits()).collect()).collect();
    assert!(stdout.starts_with(&format!("embedded {} photos", distinct.len())), "{stdout}");
    assert!(stdout.contains(&format!("{} already embedded", ours.len() - distinct.len())), "{stdout}");
    let photos: Vec<String> = ours.keys().cloned().collect();
    let theirs = reference(model, draft, &photos);
    let mut worst = 1.0f64;
    for (p, v) in &ours {
        assert_eq!(v.len(), 1280);
        let c = crowdsift_embed::cosine(v, &theirs[p]);
        worst = worst.min(c);
        assert!(c >= 0.9999, "{model} {p}: cosine {c} with the Python reference");
    }
    eprintln!("{model} on {}: {} photos, lowest cosine {worst:.6}", src.display(), ours.len());

    // Cached: a second run computes nothing.
    let again = embed();
    assert!(again.starts_with("embedded 0 photos"), "{again}");
    assert!(again.contains(&format!("{} already embedded", ours.len())), "{again}");
}

#[test]
fn small_photos_match_python_onnxruntime() {
    // 20 ifct-dev photos (307×173: upscaled to 256 on the short side, no DCT scaling).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir(&dir).unwrap();
    for p in ifct_photos().iter().step_by(12) {
        std::os::unix::fs::symlink(p, dir.join(p.file_name().unwrap())).unwrap();
    }
    check("efficientnet-lite0", &dir, false);
    check("mobilenet-v2", &dir, false);
}

#[test]
fn large_photos_match_python_draft_mode() {
    // The samples include 512–1411 px JPEGs, decoded DCT-scaled like Pillow's draft mode; the
    // truncated sample is reported, not embedded.
    check("efficientnet-lite0", &root().join("tests/data/wheel_photos/photos"), true);
}

/// `crowdsift embed tests/data/wheel_photos/photos --out DIR/o`.
fn embed_samples_into(dir: &Path) -> Command {
    let mut cmd = crowdsift();
    cmd.args([
        "embed",
        root().join("tests/data/wheel_photos/photos").to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    cmd
}

#[test]
fn tampered_model_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models.toml");
    let text = std::fs::read_to_string(root().join("models.toml")).unwrap();
    std::fs::write(&models, text.replace("2a84ebb99dbc", "0000ebb99dbc")).unwrap();
    std::os::unix::fs::symlink(root().join("models"), tmp.path().join("models")).unwrap();
    let out = embed_samples_into(tmp.path()).env("CROWDSIFT_MODELS", &models).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to run a different model"), "{err}");
}

#[test]
fn missing_runtime_says_how_to_install_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = embed_samples_into(tmp.path())
        .env("ORT_DYLIB_PATH", tmp.path().join("nowhere.so"))
        .env("PATH", "/nonexistent") // no python3 to ask either
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if Path::new("/usr/lib/libonnxruntime.so").exists() || Path::new("/usr/local/lib/libonnxruntime.so").exists() {
        return; // a system-wide runtime would be found, rightly
    }
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("pip install onnxruntime"), "{err}");
}

#[test]
fn byte_identical_copies_share_their_original_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir(&dir).unwrap();
    let good = std::fs::read(root().join("tests/data/wheel_photos/photos/coffee.jpg")).unwrap();
    let cut = &good[..good.len() / 2];
    for (name, bytes) in [("a.jpg", cut), ("b.jpg", cut), ("c.jpg", &good[..]), ("d.jpg", &good[..])] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let out = tmp.path().join("out");
    let res =
        run_ok(crowdsift().args(["embed", dir.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--jobs", "2"]));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.starts_with("embedded 1 photos"), "{stdout}");
    assert!(stdout.contains("1 already embedded"), "{stdout}");
    for name in ["a.jpg", "b.jpg"] {
        let line = stdout.lines().find(|l| l.starts_with(&format!("not embedded: {name}:"))).expect(name);
        assert!(line.contains("truncated"), "{line}");
    }
    let conn = rusqlite::Connection::open(out.join("crowdsift.db")).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM images ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids, ["c.jpg", "d.jpg"], "failed photos are not registered as usable");
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM embeddings", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

/// A user's own ONNX backbone, declared in PATH.onnx.toml, embeds like the registry entry it
/// copies; without the declaration the error says what to write.
#[test]
fn own_onnx_backbone_with_a_declared_input_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let mine = tmp.path().join("mine.onnx");
    std::fs::copy(root().join("models/backbone/mobilenet_v2.onnx"), &mine).unwrap();
    let photos = root().join("tests/data/wheel_photos/manifest.csv");
    let out = tmp.path().join("o");
    let err = crowdsift()
        .args(["embed", photos.to_str().unwrap(), "--out", out.to_str().unwrap(), "--model", mine.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("mine.onnx.toml"),
        "{}",
        String::from_utf8_lossy(&err.stderr)
    );

    std::fs::write(
        tmp.path().join("mine.onnx.toml"),
        "source = \"test copy\"\n[input]\nname = \"input\"\nsize = 224\nresize_short_side = 256\n\
         mean = [123.675, 116.28, 103.53]\nstd = [58.395, 57.12, 57.375]\n[output]\nembedding = \"embedding\"\ndim = 1280\n",
    )
    .unwrap();
    for model in [mine.to_str().unwrap(), "mobilenet-v2"] {
        run_ok(crowdsift().args([
            "embed",
            photos.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--model",
            model,
        ]));
    }
    // Same file bytes, same checksum: the registry run found every photo already embedded, under the
    // name of the first run; a head trains on them. (13 of the 14 samples: one is a truncated JPEG.)
    assert_eq!(stored(&out, "mine").len(), 13);
    let res =
        run_ok(crowdsift().args(["train", out.to_str().unwrap(), "--model", mine.to_str().unwrap(), "--epochs", "2"]));
    assert!(String::from_utf8_lossy(&res.stdout).contains("checkpoints:"));
}
