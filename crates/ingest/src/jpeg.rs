//! Just enough JPEG marker parsing to answer what libjpeg-turbo does not: where the EXIF block is,
//! and whether the entropy-coded data ever reaches an end-of-image marker. libjpeg-turbo (and other
//! decoders) return a complete-looking image for a file cut short, filling the rest with grey, so
//! a truncated upload must be detected from the bytes themselves. No crate exposes this marker walk
//! without a full decode, hence these few lines.

const SOI: [u8; 2] = [0xFF, 0xD8];
const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;
const APP1: u8 = 0xE1;

/// Segments found before the first scan.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Offset of the first byte of entropy-coded data (after the first SOS header), if reached.
    pub scan_start: Option<usize>,
    /// Byte range of the TIFF structure inside the `Exif\0\0` APP1 segment, if any.
    pub exif: Option<(usize, usize)>,
    /// The data ended inside the well-formed marker segments, before any scan: a cut-off file.
    pub ended_early: bool,
}

/// Walks the marker segments from SOI to the first SOS. Stops quietly at anything malformed: the
/// decoder reports header errors with better messages.
pub fn layout(data: &[u8]) -> Layout {
    let mut out = Layout::default();
    if !data.starts_with(&SOI) {
        return out;
    }
    let mut pos = 2;
    while pos + 4 <= data.len() {
        if data[pos] != 0xFF {
            return out;
        }
        let marker = data[pos + 1];
        // Fill bytes and stand-alone markers carry no length.
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            pos += 2;
            continue;
        }
        // Below 0xC0 no marker is defined: this is garbage, not a cut-off file.
        if marker < 0xC0 {
            return out;
        }
        let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
        if len < 2 {
            return out;
        }
        let body = pos + 4;
        let end = pos + 2 + len;
        if marker == APP1 && out.exif.is_none() && end <= data.len() {
            let seg = &data[body..end];
            if seg.starts_with(b"Exif\0\0") {
                out.exif = Some((body + 6, end));
            }
        }
        if marker == SOS {
            out.scan_start = Some(end.min(data.len()));
            return out;
        }
        pos = end;
    }
    out.ended_early = true;
    out
}

/// Whether an end-of-image marker follows the start of the scan data. Inside entropy-coded data a
/// 0xFF byte is always followed by 0x00 (stuffing) or a restart/other marker, so `FF D9` there is the
/// real EOI. Data appended after EOI (motion photos, vendor trailers) does not matter.
pub fn has_eoi(data: &[u8], scan_start: usize) -> bool {
    // Fast path: nearly every complete file ends with the marker.
    if data.ends_with(&[0xFF, EOI]) {
        return true;
    }
    let scan = data.get(scan_start..).unwrap_or_default();
    scan.windows(2).any(|w| w == [0xFF, EOI])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let len = u16::try_from(body.len() + 2).unwrap();
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn finds_exif_and_scan_start() {
        let mut f = SOI.to_vec();
        f.extend(segment(0xE0, b"JFIF\0\x01\x01"));
        f.extend(segment(APP1, b"Exif\0\0II*\0tiff"));
        f.extend(segment(SOS, &[1, 2, 3]));
        let scan = f.len();
        f.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, EOI]);
        let l = layout(&f);
        assert_eq!(l.scan_start, Some(scan));
        let (a, b) = l.exif.unwrap();
        assert_eq!(&f[a..b], b"II*\0tiff");
        assert!(has_eoi(&f, scan));
        assert!(!has_eoi(&f[..f.len() - 2], scan));
        // An EOI inside an EXIF thumbnail (before the scan) does not count.
        let mut g = SOI.to_vec();
        g.extend(segment(APP1, &[b'E', b'x', b'i', b'f', 0, 0, 0xFF, EOI]));
        g.extend(segment(SOS, &[1]));
        let s = g.len();
        g.extend_from_slice(&[0x55, 0x66]);
        assert!(!has_eoi(&g, layout(&g).scan_start.unwrap().min(s)));
    }

    #[test]
    fn malformed_input_does_not_panic() {
        for data in [&[][..], &[0xFF], &[0xFF, 0xD8, 0xFF], &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00]] {
            let l = layout(data);
            assert_eq!(l.scan_start, None);
        }
        let l = layout(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 1, 2]);
        assert_eq!(l.exif, None);
        // Garbage after SOI is not mistaken for a cut-off header.
        let l = layout(&[0xFF, 0xD8, 0xFF, 0x13, 0x99, 0x12, 0x55]);
        assert!(!l.ended_early);
        // A header cut inside a segment is.
        let l = layout(&[0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x01]);
        assert!(l.ended_early);
    }
}
