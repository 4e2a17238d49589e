//! CenterFace on real photographs shipped in scikit-image and matplotlib: the astronaut portrait
//! (Eileen Collins, NASA, public domain) and Grace Hopper's portrait (US Navy, public domain) have
//! one face each, at the face; the cameraman (a face in profile behind a camera) has at most one,
//! at his face; the coffee cup, the cat, the rocket and the coins have none.

use std::path::Path;
use std::process::Command;

use crowdsift_models::Registry;
use crowdsift_pii::face::FaceDetector;

fn skimage_photos(dir: &Path) {
    let script = "import os, sys\nimport matplotlib\nfrom skimage import data\nfrom PIL import Image\n\
        for name in ['astronaut', 'camera', 'coffee', 'chelsea', 'rocket', 'coins']:\n    \
        Image.fromarray(getattr(data, name)()).convert('RGB').save(f'{sys.argv[1]}/{name}.png')\n\
        sample = os.path.join(os.path.dirname(matplotlib.__file__), 'mpl-data', 'sample_data')\n\
        Image.open(os.path.join(sample, 'grace_hopper.jpg')).convert('RGB').save(f'{sys.argv[1]}/hopper.png')\n";
    let out = Command::new("python3").args(["-c", script]).arg(dir).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "scikit-image and matplotlib (scripts/setup.sh --test installs them): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_face_in_the_portrait_and_none_in_photos_without_people() {
    let tmp = tempfile::tempdir().expect("tmp");
    skimage_photos(tmp.path());
    let reg = Registry::discover().expect("models.toml");
    let mut det = FaceDetector::load(reg.verified_face("centerface").expect("face model"), 2).expect("load");
    let astronaut = image::open(tmp.path().join("astronaut.png")).expect("png").to_rgb8();
    let faces = det.detect(&astronaut).expect("detect");
    assert_eq!(faces.len(), 1, "{faces:?}");
    let [x0, y0, x1, y1] = faces[0].bbox;
    // Her face lies around x 170–260, y 60–190 of the 512 × 512 photo.
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    assert!((180.0..250.0).contains(&cx) && (80.0..170.0).contains(&cy), "{faces:?}");
    assert!((60.0..160.0).contains(&(x1 - x0)), "{faces:?}");
    // Grace Hopper's face lies around x 160–370, y 130–330 of the 512 × 600 photo.
    let hopper = image::open(tmp.path().join("hopper.png")).expect("png").to_rgb8();
    let faces = det.detect(&hopper).expect("detect");
    assert_eq!(faces.len(), 1, "{faces:?}");
    let [x0, y0, x1, y1] = faces[0].bbox;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    assert!((200.0..330.0).contains(&cx) && (170.0..300.0).contains(&cy), "{faces:?}");
    // The cameraman's face, in profile, lies around x 160–270, y 70–200.
    let camera = image::open(tmp.path().join("camera.png")).expect("png").to_rgb8();
    let faces = det.detect(&camera).expect("detect");
    assert!(faces.len() <= 1, "{faces:?}");
    for f in &faces {
        let (cx, cy) = ((f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0);
        assert!((160.0..270.0).contains(&cx) && (70.0..200.0).contains(&cy), "{faces:?}");
    }
    for name in ["coffee", "chelsea", "rocket", "coins"] {
        let img = image::open(tmp.path().join(format!("{name}.png"))).expect("png").to_rgb8();
        let faces = det.detect(&img).expect("detect");
        assert!(faces.is_empty(), "{name}: {faces:?}");
    }
    // Too small to hold a face, and no panic.
    assert!(det.detect(&image::RgbImage::new(1, 1)).expect("detect").is_empty());
}
