//! Where the detector looks on a photo larger than its input.
//!
//! A 12 MP phone photo is too large to detect at full size (a 4000 × 3000 input costs seconds)
//! and too detailed to detect only shrunk: a price tag's small print, 20 px high in the photo, is
//! 5 px at the detector's 960 px. So the detector first sees the whole photo shrunk, with
//! antialiasing (a box filter, as a DCT-scaled decode would shrink it, so small print stays a grey
//! trace instead of aliasing into noise). Lines found there high enough to be boxed well are
//! kept. Where it found only low lines, or traces of text below its threshold, it looks again in
//! windows around them: at full resolution where the print is smallest, at half resolution around
//! low lines that are nearly high enough and over areas larger than a tile (as large as those
//! are, they were textures each time we measured). A photo with no trace of text costs one pass
//! at 960 px; the sweep of the whole photo at half resolution is what remains when the looks
//! cover most of it anyway.

use crate::db::{Quad, area, bounds, merge_overlapping, overlap};

/// A rectangle in photo pixels: left, top, right, bottom (exclusive).
pub type Rect = [u32; 4];

/// Lines less high than this in the overview map (map pixels) are looked at again up close: at
/// this height DB's boxes fit loosely and lines close together run into one.
pub const LOW_LINE: f32 = 12.0;
/// A low line at least this high in the overview map is looked at again at half resolution,
/// where it is as high as [`LOW_LINE`] and more: boxed well at a quarter of the full cost.
pub const HALF_LINE: f32 = 9.0;
/// An overview box less than this many times as long as high is a block, not a line: small print
/// too close for the shrunk photo to part (a shelf label's four lines as one blob), or one short
/// word. Looked at again up close, with a narrow margin.
pub const BLOCK_ASPECT: f32 = 3.0;
/// Map pixels above this probability are traces of text worth a closer look (the box threshold
/// is 0.3: fainter traces are small print the shrunk photo blurred).
pub const TRACE: f32 = 0.15;
/// Around a low line, the window takes in this many times its height on each side, and around
/// anything at least [`MIN_MARGIN`] photo pixels, so the whole line and its neighbours are in view.
const MARGIN_LINES: f32 = 2.0;
const MIN_MARGIN: f32 = 48.0;
/// When the windows would cover more than this share of the photo, the whole photo is swept
/// instead (fewer, larger windows cost less than many overlapping ones).
const SWEEP_SHARE: f64 = 0.6;

/// What the overview found: lines to keep, and the places to look at again.
#[derive(Debug, Default)]
pub struct Overview {
    pub keep: Vec<Quad>,
    /// Low lines and blocks found in the overview: replaced by what the windows find around them.
    pub low: Vec<Quad>,
    pub looks: Vec<Look>,
}

/// A part of the photo to look at again, and by how much it may be shrunk for it (1: full
/// resolution, 2: half).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub rect: Rect,
    pub shrink: u32,
}

/// Splits the overview's boxes (photo pixels, from a map `scale` photo pixels per map pixel) into
/// lines kept, low lines and blocks (looked at again, nearly high lines at half resolution) and
/// textures (dropped), and adds the map's traces of text not inside a kept line or a texture as
/// places to look. `prob` is the `mw` × `mh` probability map.
pub fn overview(boxes: Vec<Quad>, prob: &[f32], mw: usize, mh: usize, scale: f32, photo: (u32, u32)) -> Overview {
    let mut out = Overview::default();
    let mut blocks = Vec::new();
    let (pw, ph) = (photo.0 as f32, photo.1 as f32);
    // What the overview saw well: the lines it keeps and the textures it boxed.
    let mut seen: Vec<[f32; 4]> = Vec::new();
    for q in boxes {
        let (long, short) = sides(&q);
        if texture(&q, pw, ph) {
            seen.push(bounds(&q));
        } else if short < LOW_LINE * scale {
            out.low.push(q);
        } else if long < BLOCK_ASPECT * short {
            blocks.push(q);
        } else {
            seen.push(bounds(&q));
            out.keep.push(q);
        }
    }
    for t in traces(prob, mw, mh) {
        let r = t.map(|v| v as f32 * scale);
        let r = [r[0], r[1], r[2] + scale, r[3] + scale];
        // A trace inside a kept line is that line; one inside a texture, or over nearly all the
        // photo, that texture (PP-OCRv6 maps a photo of eggs as text from edge to edge).
        let inside = seen.iter().any(|k| overlap(&r, k) > 0.6 * area(&r));
        let whole = fills(r, pw, ph, TEXTURE_SHARE);
        if !inside && !whole {
            // The trace spans its faint print already: a margin for context only.
            out.looks.push(Look { rect: around(r, 0.0, photo), shrink: 1 });
        }
    }
    for q in &out.low {
        let high = sides(q).1;
        let shrink = if high >= HALF_LINE * scale { 2 } else { 1 };
        out.looks.push(Look { rect: around(bounds(q), MARGIN_LINES * high, photo), shrink });
    }
    for q in &blocks {
        out.looks.push(Look { rect: around(bounds(q), 0.0, photo), shrink: 1 });
    }
    out.low.extend(blocks);
    out.looks = merge_looks(std::mem::take(&mut out.looks));
    out
}

/// A part of the photo the detector looks at, and the longer side it is shrunk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub rect: Rect,
    pub side: u32,
}

impl Window {
    /// Whether a box found in this window (in its pixels) is a texture the detector took for
    /// text: one spanning nearly all of the window both ways ([`texture`]). In a window seen at
    /// half resolution (a large look or a sweep), four fifths both ways is enough: such a box
    /// would be a line over a thousand pixels high, which the overview keeps instead of looking
    /// again; a texture seen so filled 100 % × 83 % of its window and was read as "X". (A
    /// full-resolution window around a block has a narrow margin: a large word fills it.)
    pub fn texture(&self, q: &Quad) -> bool {
        let [x0, y0, x1, y1] = self.rect;
        let (w, h) = (x1 - x0, y1 - y0);
        let share = if self.side < w.max(h) { HALF_TEXTURE_SHARE } else { TEXTURE_SHARE };
        fills(bounds(q), w as f32, h as f32, share)
    }
}

/// The windows that cover `looks`, overlapping by a quarter of their size: a look at full
/// resolution in windows of at most `tile` pixels a side, one at half resolution (and any look
/// larger than a tile both ways) in windows of two tiles shrunk by half. When the windows would
/// cover more than [`SWEEP_SHARE`] of the `w` × `h` photo, the whole photo is swept at half
/// resolution instead.
///
/// Half resolution is for the large areas: the overview's traces and blobs over a textured photo
/// (food, fabric, eggs) can be half of it, and a blob it could not part that large is no shelf
/// label. Measured on bench/ocr_12mp.py's set, where such looks were a texture each time: the
/// three photos that had them took 3-6 s each, seen at full resolution in 9-12 windows.
pub fn windows(looks: &[Look], tile: u32, w: u32, h: u32) -> Vec<Window> {
    let cover = |r: &Rect, shrink: u32| -> Vec<Window> {
        let size = tile * shrink;
        let (x0, y0, w, h) = (r[0], r[1], r[2] - r[0], r[3] - r[1]);
        let (xs, ys) = (starts(w, size), starts(h, size));
        // Every window as long as the last (which ends flush with the rectangle).
        let (ew, eh) = (w - xs.last().copied().unwrap_or(0), h - ys.last().copied().unwrap_or(0));
        let side = ew.max(eh).div_ceil(shrink);
        ys.iter()
            .flat_map(|&dy| {
                xs.iter().map(move |&dx| Window { rect: [x0 + dx, y0 + dy, x0 + dx + ew, y0 + dy + eh], side })
            })
            .collect()
    };
    let large = |r: &Rect| r[2] - r[0] > tile && r[3] - r[1] > tile;
    let out: Vec<Window> =
        looks.iter().flat_map(|l| cover(&l.rect, if large(&l.rect) { 2 } else { l.shrink })).collect();
    let covered: f64 = out.iter().map(|w| f64::from(w.rect[2] - w.rect[0]) * f64::from(w.rect[3] - w.rect[1])).sum();
    if covered > SWEEP_SHARE * f64::from(w) * f64::from(h) {
        return cover(&[0, 0, w, h], 2);
    }
    out
}

/// A box spanning nearly all of a `w` × `h` photo both ways is a texture the detector took for
/// text, not a line: PP-OCRv6 boxed a photo of eggs so, and cutting and reading such boxes cost
/// seconds.
pub fn texture(q: &Quad, w: f32, h: f32) -> bool {
    fills(bounds(q), w, h, TEXTURE_SHARE)
}

/// Share of both sides of a photo or window that a texture's box spans.
const TEXTURE_SHARE: f32 = 0.9;
/// The same in a window seen at half resolution ([`Window::texture`]).
const HALF_TEXTURE_SHARE: f32 = 0.8;

/// Whether bounds (left, top, right, bottom) span `share` of `w` and of `h`.
fn fills([l, t, r, b]: [f32; 4], w: f32, h: f32, share: f32) -> bool {
    r - l >= share * w && b - t >= share * h
}

/// Offsets of windows along a side of `len`: as few as cover it with at most `tile` pixels each,
/// all of one length, neighbours overlapping by a quarter tile (so that a line cut by one
/// window's edge is whole in the next).
fn starts(len: u32, tile: u32) -> Vec<u32> {
    let overlap = tile / 4;
    if len <= tile {
        return vec![0];
    }
    let n = (len - overlap).div_ceil(tile - overlap);
    let each = (len + (n - 1) * overlap).div_ceil(n);
    (0..n).map(|i| (i * (each - overlap)).min(len - each)).collect()
}

/// What the windows found replaces the overview's low lines it overlaps; a low line no window
/// confirmed stays (the overview saw something there). Boxes found twice are kept once.
pub fn combine(view: Overview, found: Vec<Quad>) -> Vec<Quad> {
    let near: Vec<[f32; 4]> = found.iter().map(bounds).collect();
    let mut all = view.keep;
    all.extend(view.low.into_iter().filter(|q| {
        let b = bounds(q);
        !near.iter().any(|n| overlap(&b, n) > 0.0)
    }));
    all.extend(found);
    merge_overlapping(all)
}

/// A box's longer and shorter side (a line's length and height).
fn sides(q: &Quad) -> (f32, f32) {
    let d = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let (a, b) = (d(q[0], q[1]), d(q[0], q[3]));
    (a.max(b), a.min(b))
}

/// `b` grown by `margin` (at least [`MIN_MARGIN`]) on each side, in whole pixels of the `photo`.
fn around(b: [f32; 4], margin: f32, photo: (u32, u32)) -> Rect {
    let m = margin.max(MIN_MARGIN);
    let clamp = |v: f32, hi: u32| (v.max(0.0) as u32).min(hi);
    [clamp(b[0] - m, photo.0), clamp(b[1] - m, photo.1), clamp(b[2] + m, photo.0), clamp(b[3] + m, photo.1)]
}

/// Looks that touch merged into their bounding rectangle, until none touch; a merged look is
/// seen as closely as the closest of its parts.
fn merge_looks(mut looks: Vec<Look>) -> Vec<Look> {
    looks.retain(|l| l.rect[2] > l.rect[0] && l.rect[3] > l.rect[1]);
    loop {
        let mut merged = false;
        let mut out: Vec<Look> = Vec::new();
        for l in looks {
            let r = l.rect;
            match out
                .iter_mut()
                .find(|o| r[0] <= o.rect[2] && o.rect[0] <= r[2] && r[1] <= o.rect[3] && o.rect[1] <= r[3])
            {
                Some(o) => {
                    let q = o.rect;
                    o.rect = [q[0].min(r[0]), q[1].min(r[1]), q[2].max(r[2]), q[3].max(r[3])];
                    o.shrink = o.shrink.min(l.shrink);
                    merged = true;
                }
                None => out.push(l),
            }
        }
        looks = out;
        if !merged {
            return looks;
        }
    }
}

/// Bounding boxes (map pixels, inclusive) of the 8-connected groups of map pixels above [`TRACE`].
fn traces(prob: &[f32], w: usize, h: usize) -> Vec<[usize; 4]> {
    if w == 0 || h == 0 || prob.len() != w * h {
        return Vec::new();
    }
    let on = image::GrayImage::from_fn(w as u32, h as u32, |x, y| {
        image::Luma([if prob[y as usize * w + x as usize] > TRACE { 255 } else { 0 }])
    });
    let labels = imageproc::region_labelling::connected_components(
        &on,
        imageproc::region_labelling::Connectivity::Eight,
        image::Luma([0u8]),
    );
    let mut boxes: Vec<[usize; 4]> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if boxes.len() < l {
            boxes.resize(l, [usize::MAX, usize::MAX, 0, 0]);
        }
        let b = &mut boxes[l - 1];
        let (x, y) = (x as usize, y as usize);
        *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    boxes.retain(|b| b[0] != usize::MAX);
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad(x0: f32, y0: f32, x1: f32, y1: f32) -> Quad {
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    #[test]
    fn low_lines_and_stray_traces_are_looked_at_again_and_tall_lines_kept() {
        // A 100 × 75 map of a 4000 × 3000 photo: 40 photo pixels per map pixel.
        let (mw, mh) = (100, 75);
        let mut prob = vec![0f32; mw * mh];
        // A tall line (map rows 10–29) whose map pixels are inside its box, and a faint trace.
        for y in 10..30 {
            for x in 10..70 {
                prob[y * mw + x] = 0.9;
            }
        }
        for x in 70..80 {
            prob[50 * mw + x] = 0.2;
        }
        let tall = quad(400.0, 400.0, 2800.0, 1200.0);
        let low = quad(400.0, 2400.0, 1200.0, 2600.0); // 200 px = 5 map px high
        // A block: 700 × 500, small print the overview could not part.
        let block = quad(3000.0, 100.0, 3700.0, 600.0);
        let view = overview(vec![tall, low, block], &prob, mw, mh, 40.0, (4000, 3000));
        assert_eq!(view.keep, vec![tall]);
        assert_eq!(view.low, vec![low, block]);
        // The trace (map 70–79 × 50) and the block grown by the least margin, the low line by
        // twice its height.
        let rects: Vec<Rect> = view.looks.iter().map(|l| l.rect).collect();
        assert_eq!(rects.len(), 3, "{rects:?}");
        assert!(rects.contains(&[2952, 52, 3748, 648]), "{rects:?}");
        assert!(rects.contains(&[2752, 1952, 3248, 2088]), "{rects:?}");
        assert!(rects.contains(&[0, 2000, 1600, 3000]), "{rects:?}");
        // All at full resolution: small print, a blob and a line a third too low.
        assert!(view.looks.iter().all(|l| l.shrink == 1), "{:?}", view.looks);
    }

    #[test]
    fn nearly_high_lines_are_seen_at_half_resolution_and_textures_not_at_all() {
        // 10 photo pixels per map pixel: low lines are under 120 px, nearly high ones 90 px or more.
        let (mw, mh) = (400, 300);
        let nearly = quad(200.0, 200.0, 1800.0, 300.0);
        let small = quad(200.0, 2500.0, 1800.0, 2550.0);
        let view = overview(vec![nearly, small], &vec![0f32; mw * mh], mw, mh, 10.0, (4000, 3000));
        assert_eq!(view.low, vec![nearly, small]);
        assert_eq!(
            view.looks,
            vec![Look { rect: [0, 0, 2000, 500], shrink: 2 }, Look { rect: [100, 2400, 1900, 2650], shrink: 1 }]
        );
        // A blob over the whole photo, boxed edge to edge (PP-OCRv6 on a photo of eggs): neither
        // a line nor a place to look, and neither are the faint traces around it.
        let mut prob = vec![0.2f32; mw * mh];
        for y in 20..280 {
            for x in 20..380 {
                prob[y * mw + x] = 0.9;
            }
        }
        let view = overview(vec![quad(0.0, 0.0, 3999.0, 2999.0)], &prob, mw, mh, 10.0, (4000, 3000));
        assert!(view.keep.is_empty() && view.low.is_empty() && view.looks.is_empty(), "{view:?}");
    }

    #[test]
    fn windows_cover_the_looks_or_sweep_the_photo() {
        let full = |rect: Rect| Look { rect, shrink: 1 };
        let rects = |w: Vec<Window>| w.into_iter().map(|w| w.rect).collect::<Vec<_>>();
        let w = windows(&[full([100, 100, 600, 300])], 1280, 4000, 3000);
        assert_eq!(w, vec![Window { rect: [100, 100, 600, 300], side: 500 }]);
        // At full resolution a box filling 90 % of the window both ways is a texture.
        assert!(w[0].texture(&quad(110.0, 105.0, 560.0, 295.0)));
        assert!(!w[0].texture(&quad(110.0, 105.0, 530.0, 295.0)));
        // 2000 wide: two windows of 1160 overlapping by 320.
        let w = windows(&[full([0, 0, 2000, 500])], 1280, 4000, 3000);
        assert_eq!(rects(w), vec![[0, 0, 1160, 500], [840, 0, 2000, 500]]);
        // Larger than a tile both ways: seen whole at half resolution, where 80 % is a texture.
        let w = windows(&[full([0, 0, 1900, 2100])], 1280, 4000, 3000);
        assert_eq!(w, vec![Window { rect: [0, 0, 1900, 2100], side: 1050 }]);
        assert!(w[0].texture(&quad(0.0, 155.0, 1900.0, 1937.0)));
        // A look at half resolution: windows of up to two tiles.
        let w = windows(&[Look { rect: [0, 0, 2400, 600], shrink: 2 }], 1280, 4000, 3000);
        assert_eq!(w, vec![Window { rect: [0, 0, 2400, 600], side: 1200 }]);
        // Just over a tile: two windows little larger than half.
        assert_eq!(starts(1547, 1280), vec![0, 613]);
        assert_eq!(starts(1280, 1280), vec![0]);
        // Looks over most of the photo: the photo swept at half resolution.
        let w = windows(&[full([0, 0, 4000, 1200]), full([0, 1300, 4000, 2500])], 1280, 4000, 3000);
        assert_eq!(w.len(), 2 * 2);
        assert!(w.iter().all(|w| w.side == 1160), "{w:?}");
        let w = rects(w);
        assert!(w.contains(&[1680, 1180, 4000, 3000]), "{w:?}");
        assert!(w.iter().all(|r| r[2] - r[0] == 2320 && r[3] - r[1] == 1820), "{w:?}");
    }

    #[test]
    fn touching_looks_merge_and_windows_replace_the_low_lines_they_saw() {
        let look = |rect: Rect, shrink: u32| Look { rect, shrink };
        // A merged look is seen as closely as the closest of its parts.
        assert_eq!(
            merge_looks(vec![look([0, 0, 10, 10], 2), look([50, 50, 60, 60], 2), look([10, 5, 20, 8], 1)]),
            vec![look([0, 0, 20, 10], 1), look([50, 50, 60, 60], 2)]
        );
        let low_seen = quad(100.0, 100.0, 300.0, 110.0);
        let low_alone = quad(1000.0, 1000.0, 1200.0, 1010.0);
        let view = Overview { keep: vec![], low: vec![low_seen, low_alone], looks: vec![] };
        let sharp = quad(98.0, 99.0, 302.0, 112.0);
        let out = combine(view, vec![sharp]);
        assert!(out.contains(&sharp) && out.contains(&low_alone) && !out.contains(&low_seen));
    }
}
