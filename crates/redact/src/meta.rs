//! What a source file carries besides its pixels, so that the redaction record can say what was
//! removed (release copies are written from pixels and carry none of it; see [`crate::encode`]).

use std::io::Cursor;

use image::{ImageDecoder, ImageReader};
use serde::Serialize;

/// Metadata found in a source file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// An EXIF block (camera, time, orientation, thumbnails, …).
    pub exif: bool,
    /// GPS tags within the EXIF block.
    pub gps: bool,
    pub xmp: bool,
    pub iptc: bool,
    /// The colour profile, kept in release copies (not serialised: it is bytes).
    #[serde(skip)]
    pub icc: Option<Vec<u8>>,
}

impl Metadata {
    /// The kinds found, as words for a record (`exif`, `gps`, `xmp`, `iptc`).
    pub fn removed(&self) -> Vec<&'static str> {
        [(self.exif, "exif"), (self.gps, "gps"), (self.xmp, "xmp"), (self.iptc, "iptc")]
            .into_iter()
            .filter_map(|(has, name)| has.then_some(name))
            .collect()
    }
}

/// Reads the metadata blocks of an image file (headers only; no pixels are decoded). A file whose
/// headers cannot be read has none that could be found.
pub fn inspect(bytes: &[u8]) -> Metadata {
    let Ok(mut d) = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(drop)
        .and_then(|r| r.into_decoder().map_err(drop))
    else {
        return Metadata::default();
    };
    let exif = d.exif_metadata().ok().flatten();
    let gps = exif.as_ref().is_some_and(|raw| has_gps(raw));
    Metadata {
        exif: exif.is_some(),
        gps,
        xmp: d.xmp_metadata().ok().flatten().is_some(),
        iptc: d.iptc_metadata().ok().flatten().is_some(),
        icc: d.icc_profile().ok().flatten(),
    }
}

/// Whether a raw EXIF block (TIFF header onwards) has any GPS tag.
pub fn has_gps(raw: &[u8]) -> bool {
    exif::Reader::new().read_raw(raw.to_vec()).is_ok_and(|e| e.fields().any(|f| f.tag.context() == exif::Context::Gps))
}
