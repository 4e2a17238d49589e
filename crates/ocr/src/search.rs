//! Where the detector looks on a photo larger than its input.
//!
//! A 12 MP phone photo is too large to detect at full size (a 4000 × 3000 input costs seconds)
//! and too detailed to detect only shrunk: a price tag's small print, 20 px high in the photo, is
//! 5 px at the detector's 960 px. So the detector first sees the whole photo shrunk, with
//! antialiasing (a box filter, as a DCT-scaled decode would shrink it, so small print stays a grey
//! trace instead of aliasing into noise). Lines found there high enough to be boxed well are
//! kept. Where it found only low lines, or traces of text below its threshold, it looks again in
//! windows of the full-resolution photo around them. A photo with no trace of text costs one pass
//! at 960 px, not a sweep of a dozen windows; the sweep is what remains when the traces cover
//! most of the photo anyway.

use crate::db::{Quad, area, bounds, merge_overlapping, overlap};

/// A rectangle in photo pixels: left, top, right, bottom (exclusive).
pub type Rect = [u32; 4];

/// Lines less high than this in the overview map (map pixels) are looked at again up close: at
/// this height DB's boxes fit loosely and lines close together run into one.
pub const LOW_LINE: f32 = 12.0;
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
    pub looks: Vec<Rect>,
}

/// Splits the overview's boxes (photo pixels, from a map `scale` photo pixels per map pixel) into
/// lines kept and low lines, and adds the map's traces of text not inside a kept line as places
/// to look. `prob` is the `mw` × `mh` probability map.
pub fn overview(boxes: Vec<Quad>, prob: &[f32], mw: usize, mh: usize, scale: f32, photo: (u32, u32)) -> Overview {
    let mut out = Overview::default();
    let mut blocks = Vec::new();
    for q in boxes {
        let (long, short) = sides(&q);
        if short < LOW_LINE * scale {
            out.low.push(q);
        } else if long < BLOCK_ASPECT * short {
            blocks.push(q);
        } else {
            out.keep.push(q);
        }
    }
    let kept: Vec<[f32; 4]> = out.keep.iter().map(bounds).collect();
    for t in traces(prob, mw, mh) {
        let r = t.map(|v| v as f32 * scale);
        let r = [r[0], r[1], r[2] + scale, r[3] + scale];
        // A trace inside a kept line is that line.
        let inside = kept.iter().any(|k| overlap(&r, k) > 0.6 * area(&r));
        if !inside {
            // The trace spans its faint print already: a margin for context only.
            out.looks.push(around(r, 0.0, photo));
        }
    }
    for q in &out.low {
        out.looks.push(around(bounds(q), MARGIN_LINES * sides(q).1, photo));
    }
    for q in &blocks {
        out.looks.push(around(bounds(q), 0.0, photo));
    }
    out.low.extend(blocks);
    out.looks = merge_rects(std::mem::take(&mut out.looks));
    out
}

/// The windows (each at most `tile` pixels a side, overlapping by a quarter tile) that cover
/// `looks`; or, when those would cover more than [`SWEEP_SHARE`] of the `w` × `h` photo, the
/// windows of the whole photo (a sweep: then `true`).
pub fn windows(looks: &[Rect], tile: u32, w: u32, h: u32) -> (Vec<Rect>, bool) {
    let cover = |r: &Rect| -> Vec<Rect> {
        let (x0, y0, w, h) = (r[0], r[1], r[2] - r[0], r[3] - r[1]);
        let (xs, ys) = (starts(w, tile), starts(h, tile));
        // Every window as long as the last (which ends flush with the rectangle).
        let (ew, eh) = (w - xs.last().copied().unwrap_or(0), h - ys.last().copied().unwrap_or(0));
        ys.iter().flat_map(|&dy| xs.iter().map(move |&dx| [x0 + dx, y0 + dy, x0 + dx + ew, y0 + dy + eh])).collect()
    };
    let out: Vec<Rect> = looks.iter().flat_map(cover).collect();
    let covered: f64 = out.iter().map(|r| f64::from(r[2] - r[0]) * f64::from(r[3] - r[1])).sum();
    if covered > SWEEP_SHARE * f64::from(w) * f64::from(h) {
        return (cover(&[0, 0, w, h]), true);
    }
    (out, false)
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

/// Rectangles that touch merged into their bounding rectangle, until none touch.
fn merge_rects(mut rects: Vec<Rect>) -> Vec<Rect> {
    rects.retain(|r| r[2] > r[0] && r[3] > r[1]);
    loop {
        let mut merged = false;
        let mut out: Vec<Rect> = Vec::new();
        for r in rects {
            match out.iter_mut().find(|o| r[0] <= o[2] && o[0] <= r[2] && r[1] <= o[3] && o[1] <= r[3]) {
                Some(o) => {
                    *o = [o[0].min(r[0]), o[1].min(r[1]), o[2].max(r[2]), o[3].max(r[3])];
                    merged = true;
                }
                None => out.push(r),
            }
        }
        rects = out;
        if !merged {
            return rects;
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
        assert_eq!(view.looks.len(), 3, "{:?}", view.looks);
        assert!(view.looks.contains(&[2952, 52, 3748, 648]), "{:?}", view.looks);
        assert!(view.looks.contains(&[2752, 1952, 3248, 2088]), "{:?}", view.looks);
        assert!(view.looks.contains(&[0, 2000, 1600, 3000]), "{:?}", view.looks);
    }

    #[test]
    fn windows_cover_the_looks_or_sweep_the_photo() {
        let (w, sweep) = windows(&[[100, 100, 600, 300]], 1280, 4000, 3000);
        assert_eq!((w, sweep), (vec![[100, 100, 600, 300]], false));
        // 2000 wide: two windows of 1160 overlapping by 320.
        let (w, _) = windows(&[[0, 0, 2000, 500]], 1280, 4000, 3000);
        assert_eq!(w, vec![[0, 0, 1160, 500], [840, 0, 2000, 500]]);
        // Just over a tile: two windows little larger than half.
        assert_eq!(starts(1547, 1280), vec![0, 613]);
        assert_eq!(starts(1280, 1280), vec![0]);
        // Looks over most of the photo: the photo's own windows.
        let (w, sweep) = windows(&[[0, 0, 4000, 2500]], 1280, 4000, 3000);
        assert!(sweep);
        assert_eq!(w.len(), 4 * 3);
        assert!(w.contains(&[2760, 1786, 4000, 3000]), "{w:?}");
        assert!(w.iter().all(|r| r[2] - r[0] == 1240 && r[3] - r[1] == 1214), "{w:?}");
    }

    #[test]
    fn touching_rectangles_merge_and_windows_replace_the_low_lines_they_saw() {
        assert_eq!(
            merge_rects(vec![[0, 0, 10, 10], [50, 50, 60, 60], [10, 5, 20, 8]]),
            vec![[0, 0, 20, 10], [50, 50, 60, 60]]
        );
        let low_seen = quad(100.0, 100.0, 300.0, 110.0);
        let low_alone = quad(1000.0, 1000.0, 1200.0, 1010.0);
        let view = Overview { keep: vec![], low: vec![low_seen, low_alone], looks: vec![] };
        let sharp = quad(98.0, 99.0, 302.0, 112.0);
        let out = combine(view, vec![sharp]);
        assert!(out.contains(&sharp) && out.contains(&low_alone) && !out.contains(&low_seen));
    }
}
