//! `redact` after `ocr` and `pii`: release copies hide what was found so that neither OCR nor the
//! face detector finds it again, carry no EXIF/GPS/XMP/IPTC, are upright, and leave the originals
//! untouched.

use std::path::Path;

use crate::util::*;

/// The receipt of ocr-dev stored turned a quarter with EXIF orientation 6 (so it displays upright),
/// GPS coordinates, an XMP packet and an IPTC block; scikit-image's astronaut (a face); a price tag.
const FIXTURE: &str = r#"
import io, struct, sys
from pathlib import Path
from PIL import Image
from skimage import data
src, out = Path(sys.argv[1]), Path(sys.argv[2])
receipt = Image.open(src / "receipt_cabbage.jpg").convert("RGB").rotate(90, expand=True)
exif = Image.Exif()
exif[0x0112] = 6
exif[0x010F] = "PhoneMaker"
gps = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 36.0)}
exif[0x8825] = gps
xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Anna Schmidt</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>'
buf = io.BytesIO()
receipt.save(buf, "JPEG", quality=92, exif=exif.tobytes(), xmp=xmp)
jpeg = buf.getvalue()
# IPTC (APP13, Photoshop image resource 0x0404): record 2, dataset 80 (by-line).
iim = b"\x1c\x02\x50" + struct.pack(">H", 12) + b"Anna Schmidt"
res = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
body = b"Photoshop 3.0\x00" + res
jpeg = jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]
(out / "receipt_gps.jpg").write_bytes(jpeg)
Image.fromarray(data.astronaut()).save(out / "astronaut.png")
(out / "tag_tomato.jpg").write_bytes((src / "tag_tomato.jpg").read_bytes())
"#;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn record<'a>(records: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    records.iter().find(|r| r["uri"].as_str().unwrap().ends_with(name)).unwrap()
}

#[test]
fn redacted_copies_hide_what_pii_found_and_carry_no_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("photos"), tmp.path().join("out"));
    std::fs::create_dir_all(&src).unwrap();
    let made = std::process::Command::new("python3")
        .args(["-c", FIXTURE])
        .arg(shared().join("data/ocr-dev"))
        .arg(&src)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let originals = tree_digests(&src);
    let before = crowdsift_redact::inspect(&std::fs::read(src.join("receipt_gps.jpg")).unwrap());
    assert!(before.exif && before.gps && before.xmp && before.iptc, "the fixture carries every block: {before:?}");

    run_ok(crowdsift().args(["ocr", src.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]));
    run_ok(crowdsift().args(["pii", out.to_str().unwrap(), "-q"]));
    let res = run_ok(crowdsift().args(["redact", out.to_str().unwrap(), "-q"]));
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    assert!(stdout.contains("wrote 3 copies"), "{stdout}");
    assert_eq!(tree_digests(&src), originals, "originals are only read");

    let records = read_table(&out.join("redactions.parquet"));
    assert_eq!(records.len(), 3);
    let receipt = record(&records, "receipt_gps.jpg");
    assert_eq!(receipt["metadata_removed"], serde_json::json!(["exif", "gps", "xmp", "iptc"]), "{receipt}");
    assert_eq!(receipt["orientation"], 6);
    let kinds: Vec<&str> = receipt["kinds"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert!(kinds.contains(&"phone") && kinds.contains(&"email"), "{receipt}");
    assert!(kinds.contains(&"person_name"), "the stall holder's name after the stall's: {receipt}");
    assert!(receipt["hidden"].as_u64().unwrap() >= 3, "{receipt}");
    assert_eq!(receipt["verified"], true);
    assert_eq!(receipt["residual"], serde_json::json!([]), "{receipt}");
    let astronaut = record(&records, "astronaut.png");
    assert_eq!(astronaut["kinds"], serde_json::json!(["face"]), "{astronaut}");
    assert_eq!(
        (astronaut["format"].as_str(), astronaut["copy"].as_str().unwrap().rsplit('.').next()),
        (Some("png"), Some("png"))
    );
    assert_eq!(record(&records, "tag_tomato.jpg")["hidden"], 0);
    assert!(!out.join("redact").exists(), "per-photo records only when asked for");

    // The copies: checksums as recorded, no metadata, upright (the receipt is taller than wide).
    for r in &records {
        let bytes = std::fs::read(out.join(r["copy"].as_str().unwrap())).unwrap();
        assert_eq!(crowdsift_ingest::sha256_hex(&bytes), r["copy_sha256"].as_str().unwrap());
        let meta = crowdsift_redact::inspect(&bytes);
        assert!(!meta.exif && !meta.gps && !meta.xmp && !meta.iptc, "{}: {meta:?}", r["copy"]);
        assert!(!bytes.windows(12).any(|w| w == b"Anna Schmidt"), "no metadata text survives");
    }
    let copy = image::open(out.join(receipt["copy"].as_str().unwrap())).unwrap();
    let upright = image::open(shared().join("data/ocr-dev/receipt_cabbage.jpg")).unwrap();
    assert_eq!((copy.width(), copy.height()), (upright.width(), upright.height()));

    // Read the copies again as a new collection: none of the receipt's name, phone number and
    // e-mail address and no face is found; the text nobody hid still reads.
    let again = tmp.path().join("again");
    run_ok(crowdsift().args(["ocr", out.join("redacted").to_str().unwrap(), "--out", again.to_str().unwrap(), "-q"]));
    let mut text = String::new();
    for l in read_table(&again.join("ocr_lines.parquet")) {
        text.push_str(l["text"].as_str().unwrap());
        text.push('\n');
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    assert!(!digits.contains("1701234567") && !digits.contains("1234567"), "{text}");
    assert!(!text.to_lowercase().contains("schmidt") && !text.contains("example.com"), "{text}");
    assert!(text.contains("Tomatoes") && text.contains("Cabbage"), "the rest stays readable: {text}");
    let res = run_ok(crowdsift().args(["pii", again.to_str().unwrap(), "-q"]));
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    assert!(stdout.contains("3 photos, 0 with personal data"), "{stdout}");

    // Again: nothing to do; another style: every copy again.
    let res = run_ok(crowdsift().args(["redact", out.to_str().unwrap(), "-q"]));
    assert!(
        String::from_utf8_lossy(&res.stdout)
            .contains("wrote 0 copies (0 regions hidden, style blur), 3 already up to date")
    );
    let res = run_ok(crowdsift().args([
        "redact",
        out.to_str().unwrap(),
        "--style",
        "pixelate",
        "--no-verify",
        "--debug-json",
        "-q",
    ]));
    assert!(String::from_utf8_lossy(&res.stdout).contains("wrote 3 copies"));
    let table = read_table(&out.join("redactions.parquet"));
    assert!(table.iter().all(|r| r["style"] == "pixelate" && r["verified"] == false), "{table:?}");
    // The records asked for are those of the table.
    let json_records: Vec<serde_json::Value> =
        std::fs::read_dir(out.join("redact")).unwrap().map(|e| json(&e.unwrap().path())).collect();
    assert_eq!(json_records.len(), 3);
    for r in &json_records {
        let row = record(&table, r["uri"].as_str().unwrap());
        assert_eq!((&r["output"], &r["output_sha256"]), (&row["copy"], &row["copy_sha256"]));
        assert_eq!(r["hidden"].as_array().unwrap().len() as u64, row["hidden"].as_u64().unwrap());
    }
}

#[test]
fn redact_without_pii_results_says_what_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let res = crowdsift().args(["redact", tmp.path().to_str().unwrap(), "-q"]).output().unwrap();
    assert_eq!(res.status.code(), Some(2), "{res:?}");
    assert!(String::from_utf8_lossy(&res.stderr).contains("run `crowdsift pii"), "{res:?}");
}
