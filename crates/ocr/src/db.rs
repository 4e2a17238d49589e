//! DB post-processing (Liao et al., "Real-time Scene Text Detection with Differentiable
//! Binarization", AAAI 2020) as PaddleOCR does it: binarise the probability map, take each
//! contour's minimum-area rectangle, score it by the mean probability inside, grow it by the
//! "unclip" offset, and map it back to photo pixels.
//!
//! imageproc finds the contours and hulls. The rectangle is our own float rotating calipers over
//! every hull edge: imageproc's `min_area_rect` rounds corners to whole pixels and skips the
//! hull's closing edge, which shifts the small boxes of small text.

use image::{GrayImage, Luma};
use imageproc::contours::find_contours;
use imageproc::distance_transform::Norm;
use imageproc::geometry::convex_hull;
use imageproc::morphology::{dilate, open};
use imageproc::point::Point;
use imageproc::region_labelling::{Connectivity, connected_components};

/// A corner in pixels.
pub type Pt = [f32; 2];
/// Four corners: top-left, top-right, bottom-right, bottom-left.
pub type Quad = [Pt; 4];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbParams {
    /// Probability above which a pixel is text.
    pub thresh: f32,
    /// Mean probability inside a box below which it is dropped.
    pub box_thresh: f32,
    /// Growth of each box: offset = area × ratio / perimeter.
    pub unclip: f32,
    pub max_candidates: usize,
    /// Dilate the binary map by 2 × 2 first.
    pub dilate: bool,
    /// Cut lines the map joins apart (see [`boxes`]). Off for the coarse whole-photo pass over
    /// a photo that is also searched in tiles: there, lines are a few pixels high and the tiles
    /// find them.
    pub split_joined: bool,
}

impl Default for DbParams {
    fn default() -> Self {
        DbParams { thresh: 0.3, box_thresh: 0.5, unclip: 1.6, max_candidates: 1000, dilate: false, split_joined: true }
    }
}

/// A rotated rectangle: centre, unit axis `u` (and `v` = `u` turned 90°), half extents.
#[derive(Debug, Clone, Copy)]
struct Rect {
    c: [f64; 2],
    u: [f64; 2],
    a: f64,
    b: f64,
}

impl Rect {
    fn corners(&self) -> [[f64; 2]; 4] {
        let v = [-self.u[1], self.u[0]];
        let at = |s: f64, t: f64| {
            [
                self.c[0] + s * self.a * self.u[0] + t * self.b * v[0],
                self.c[1] + s * self.a * self.u[1] + t * self.b * v[1],
            ]
        };
        [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
    }

    fn short_side(&self) -> f64 {
        2.0 * self.a.min(self.b)
    }
}

/// Minimum-area rectangle around a convex hull (rotating calipers over all its edges).
fn min_area_rect(hull: &[[f64; 2]]) -> Rect {
    let n = hull.len();
    let mut best: Option<(f64, Rect)> = None;
    for i in 0..n {
        let (p, q) = (hull[i], hull[(i + 1) % n]);
        let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
        let len = dx.hypot(dy);
        if len < 1e-9 {
            continue;
        }
        let u = [dx / len, dy / len];
        let v = [-u[1], u[0]];
        let (mut lo_u, mut hi_u, mut lo_v, mut hi_v) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for h in hull {
            let (su, sv) = (h[0] * u[0] + h[1] * u[1], h[0] * v[0] + h[1] * v[1]);
            (lo_u, hi_u, lo_v, hi_v) = (lo_u.min(su), hi_u.max(su), lo_v.min(sv), hi_v.max(sv));
        }
        let area = (hi_u - lo_u) * (hi_v - lo_v);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (mu, mv) = ((lo_u + hi_u) / 2.0, (lo_v + hi_v) / 2.0);
            let c = [mu * u[0] + mv * v[0], mu * u[1] + mv * v[1]];
            best = Some((area, Rect { c, u, a: (hi_u - lo_u) / 2.0, b: (hi_v - lo_v) / 2.0 }));
        }
    }
    best.map_or(Rect { c: hull.first().copied().unwrap_or_default(), u: [1.0, 0.0], a: 0.0, b: 0.0 }, |b| b.1)
}

/// PaddleOCR's `get_mini_boxes` order: sorted by x, the left pair split by y into top-left and
/// bottom-left, the right pair into top-right and bottom-right.
fn mini_box(corners: [[f64; 2]; 4]) -> [[f64; 2]; 4] {
    let mut p = corners;
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (tl, bl) = if p[1][1] > p[0][1] { (p[0], p[1]) } else { (p[1], p[0]) };
    let (tr, br) = if p[3][1] > p[2][1] { (p[2], p[3]) } else { (p[3], p[2]) };
    [tl, tr, br, bl]
}

/// Whether the centre of pixel (`x`, `y`) lies in the convex quad (boundary included, with half a
/// pixel of slack, as a filled polygon includes its edge pixels).
fn inside(q: &[[f64; 2]; 4], x: f64, y: f64) -> bool {
    let mut sign = 0.0;
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let len = ex.hypot(ey).max(1e-9);
        let cross = (ex * (y - a[1]) - ey * (x - a[0])) / len; // signed distance to the edge
        if cross.abs() <= 0.5 {
            continue;
        }
        if sign == 0.0 {
            sign = cross.signum();
        } else if cross.signum() != sign {
            return false;
        }
    }
    true
}

/// Whether the centre of `a` lies in `b` or the centre of `b` in `a`: two boxes of one line,
/// however tilted (the overlap of their axis-aligned bounds is not: those of tilted neighbouring
/// lines overlap).
pub(crate) fn same_place(a: &Quad, b: &Quad) -> bool {
    let wide = |q: &Quad| q.map(|[x, y]| [f64::from(x), f64::from(y)]);
    let centre = |q: &Quad| [0, 1].map(|k| q.iter().map(|p| f64::from(p[k])).sum::<f64>() / 4.0);
    let holds = |q: &Quad, p: &Quad| {
        let [x, y] = centre(p);
        inside(&wide(q), x, y)
    };
    holds(b, a) || holds(a, b)
}

/// Mean probability inside the quad ("fast" score: the rectangle, not the contour).
fn box_score(prob: &[f32], w: usize, h: usize, q: &[[f64; 2]; 4]) -> f32 {
    let clamp = |v: f64, hi: usize| (v.max(0.0) as usize).min(hi - 1);
    let xs = q.iter().map(|p| p[0]);
    let ys = q.iter().map(|p| p[1]);
    let x0 = clamp(xs.clone().fold(f64::MAX, f64::min).floor(), w);
    let x1 = clamp(xs.fold(f64::MIN, f64::max).ceil(), w);
    let y0 = clamp(ys.clone().fold(f64::MAX, f64::min).floor(), h);
    let y1 = clamp(ys.fold(f64::MIN, f64::max).ceil(), h);
    let (mut sum, mut n) = (0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if inside(q, x as f64, y as f64) {
                sum += f64::from(prob[y * w + x]);
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

/// Binary text map, optionally dilated by 2 × 2 (each pixel the max of itself and its left, upper
/// and upper-left neighbours, as OpenCV's 2 × 2 kernel with its default anchor).
fn bitmap(prob: &[f32], w: usize, h: usize, p: &DbParams) -> GrayImage {
    let on = |x: usize, y: usize| prob[y * w + x] > p.thresh;
    GrayImage::from_fn(w as u32, h as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let hit = if p.dilate {
            on(x, y) || (x > 0 && on(x - 1, y)) || (y > 0 && on(x, y - 1)) || (x > 0 && y > 0 && on(x - 1, y - 1))
        } else {
            on(x, y)
        };
        Luma([if hit { 255 } else { 0 }])
    })
}

/// Clockwise order by coordinate sums and differences (PaddleOCR's `order_points_clockwise`):
/// top-left has the least x + y, bottom-right the most; of the other two, top-right has the
/// least y − x.
fn clockwise(q: [[f64; 2]; 4]) -> [[f64; 2]; 4] {
    let by = |f: &dyn Fn(&[f64; 2]) -> f64, max: bool| {
        let mut idx: Vec<usize> = (0..4).collect();
        idx.sort_by(|&a, &b| f(&q[a]).total_cmp(&f(&q[b])));
        if max { idx[3] } else { idx[0] }
    };
    let tl = by(&|p| p[0] + p[1], false);
    let br = by(&|p| p[0] + p[1], true);
    let rest: Vec<usize> = (0..4).filter(|&i| i != tl && i != br).collect();
    if rest.len() != 2 {
        return q;
    }
    let diff = |i: usize| q[i][1] - q[i][0];
    let (tr, bl) = if diff(rest[0]) <= diff(rest[1]) { (rest[0], rest[1]) } else { (rest[1], rest[0]) };
    [q[tl], q[tr], q[br], q[bl]]
}

/// `q` with its corners in an order that walks around it (PaddleOCR's sums-and-differences order
/// crosses over itself for some rectangles near 45°, and clamping to the photo can do the same):
/// unchanged when it already does, else sorted by angle around the centre, starting from the
/// corner with the least x + y. A crossed quad has no perspective warp onto a rectangle (its
/// projection sends crop pixels to infinity).
pub fn walk_order(q: Quad) -> Quad {
    let cross = |i: usize| {
        let (a, b, c) = (q[i], q[(i + 1) % 4], q[(i + 2) % 4]);
        (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
    };
    let signs: Vec<f32> = (0..4).map(cross).filter(|c| c.abs() > 1e-6).map(f32::signum).collect();
    if signs.windows(2).all(|w| w[0] == w[1]) {
        return q;
    }
    let (cx, cy) = (q.iter().map(|p| p[0]).sum::<f32>() / 4.0, q.iter().map(|p| p[1]).sum::<f32>() / 4.0);
    let mut pts = q;
    pts.sort_by(|a, b| (a[1] - cy).atan2(a[0] - cx).total_cmp(&(b[1] - cy).atan2(b[0] - cx)));
    let start = (0..4).min_by(|&i, &j| (pts[i][0] + pts[i][1]).total_cmp(&(pts[j][0] + pts[j][1]))).unwrap_or(0);
    pts.rotate_left(start);
    pts
}

/// Text boxes in a `w` × `h` probability map, in the pixels of the `src_w` × `src_h` photo it
/// was computed from.
///
/// Beyond PaddleOCR: lines written close together touch in the binarised map where a few
/// letters reach into the line below; their one contour's rectangle spans both lines, scores low
/// (the gap between them is inside it) and would be dropped with the text of both. Such a contour
/// is cut across its rectangle where few of its pixels are (the gaps between the lines, see
/// [`bands`]) and each band found again.
pub fn boxes(prob: &[f32], w: usize, h: usize, src_w: u32, src_h: u32, p: &DbParams) -> Vec<Quad> {
    if w == 0 || h == 0 || prob.len() != w * h {
        return Vec::new();
    }
    let bin = bitmap(prob, w, h, p);
    // Which blob each text pixel belongs to: a blob's bands hold its pixels, not a neighbour's.
    let labels = connected_components(&bin, Connectivity::Eight, Luma([0u8]));
    let fits: Vec<(u32, Fit, Rect, [usize; 4])> = find_contours::<i32>(&bin)
        .into_iter()
        .take(p.max_candidates)
        .map(|contour| {
            let blob = contour.points.first().map_or(0, |q| labels.get_pixel(q.x as u32, q.y as u32).0[0]);
            let (fit, rect, bounds) = contour_box(prob, w, h, src_w, src_h, p, contour.points);
            (blob, fit, rect, bounds)
        })
        .collect();
    // The usual height of a line in this map, to tell a box holding two lines.
    let mut heights: Vec<f64> = fits.iter().filter(|f| matches!(f.1, Fit::Box(_))).map(|f| f.2.short_side()).collect();
    heights.sort_by(f64::total_cmp);
    let line = heights.get(heights.len() / 2).copied().unwrap_or(f64::MAX);
    let mut out = Vec::new();
    for (blob, fit, rect, bounds) in fits {
        // Lines joined in the map: a box that scores low, or one as high as two lines.
        let tall = rect.short_side() >= 1.7 * line && rect.short_side() >= 12.0;
        let split = match fit {
            _ if !p.split_joined => Vec::new(),
            Fit::LowScore => bands(&labels, blob, &rect, bounds),
            Fit::Box(_) if tall => bands(&labels, blob, &rect, bounds),
            _ => Vec::new(),
        };
        // How thick this contour's line is where no blob widens it (see [`peel`]).
        let thickness = || thickness(&labels, blob, &rect, bounds);
        let peeled = || peel(&labels, prob, (w, h), (src_w, src_h), p, blob, bounds, thickness());
        // The bands are taken when at least two of them give boxes shaped like lines (twice as long
        // as high); else the contour is what it was (a box, or nothing).
        let lines_in = |bands: Vec<Band>| -> Vec<(Quad, f64)> {
            let mut pieces = Vec::new();
            for band in bands {
                for c in find_contours::<i32>(&band.image).into_iter().take(p.max_candidates) {
                    let pts = c.points.into_iter().map(|q| Point::new(q.x + band.dx, q.y + band.dy)).collect();
                    if let (Fit::Box(q), r, _) = contour_box(prob, w, h, src_w, src_h, p, pts)
                        && r.a.max(r.b) >= 2.0 * r.a.min(r.b)
                    {
                        pieces.push((q, r.short_side()));
                    }
                }
            }
            pieces
        };
        let pieces = lines_in(split);
        // A band no thicker than a line, when the contour had only one.
        let one = || pieces.len() == 1 && pieces[0].1 <= PEEL_THICK * thickness();
        match fit {
            _ if pieces.len() >= 2 => out.extend(pieces.into_iter().map(|(q, _)| q)),
            // A line and the blob it runs into, both boxed: each on its own.
            Fit::Box(q) if tall && p.split_joined => match peeled() {
                (lines, blobs) if !lines.is_empty() => out.extend(lines.into_iter().chain(blobs)),
                _ => out.push(q),
            },
            Fit::Box(q) => out.push(q),
            Fit::LowScore => {
                // Lines without the thick blob they run into.
                let lines = if p.split_joined { peeled().0 } else { Vec::new() };
                if !lines.is_empty() {
                    out.extend(lines);
                } else if line_blob(&labels, prob, w, blob, &rect, bounds) {
                    // A line whose rectangle scores low only for what lies around its ink — a
                    // tilted line whose contour reaches into its neighbour — is a line by its own
                    // pixels (PaddleOCR's "slow" score over the contour, for curved and rotated
                    // text).
                    let scale = (f64::from(src_w) / w as f64, f64::from(src_h) / h as f64);
                    if let Fit::Box(q) = box_of(prob, w, h, scale, src_w, src_h, p, &rect, 0.0) {
                        out.push(q);
                    }
                } else if p.split_joined && one() {
                    // One line without the thin tail that bridged it to the next: its band, cut
                    // where the profile across it thins out.
                    out.extend(pieces.into_iter().map(|(q, _)| q));
                }
            }
            _ => {}
        }
    }
    out
}

/// How thick the line of blob `blob` (in `labels`, within `bounds`) is: the median, over its
/// length along the rectangle `r`'s longer side, of how many of its pixels lie across it there.
/// A line that runs into a thick blob is longer than the blob is wide, so the median is the
/// line's.
fn thickness(labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>, blob: u32, r: &Rect, bounds: [usize; 4]) -> f64 {
    let (u, half) = if r.a >= r.b { (r.u, r.a) } else { ([-r.u[1], r.u[0]], r.b) };
    let counts = Profile { c: r.c, dir: u, half }.counts(labels, blob, bounds);
    let mut filled: Vec<usize> = counts.into_iter().filter(|&c| c > 0).collect();
    filled.sort_unstable();
    filled.get(filled.len() / 2).map_or(0.0, |&c| c as f64)
}

/// A blob's pixels binned by their distance from `c` along `dir`: one bin per map pixel over
/// `half` each way, and a spare at each end.
struct Profile {
    c: [f64; 2],
    dir: [f64; 2],
    half: f64,
}

impl Profile {
    fn len(&self) -> usize {
        (2.0 * self.half).ceil() as usize + 3
    }

    fn bin(&self, x: usize, y: usize) -> usize {
        let along = (x as f64 - self.c[0]) * self.dir[0] + (y as f64 - self.c[1]) * self.dir[1];
        ((along + self.half + 1.0).max(0.0) as usize).min(self.len() - 1)
    }

    /// How many pixels of blob `blob` (in `labels`, within `bounds`) each bin holds.
    fn counts(&self, labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>, blob: u32, bounds: [usize; 4]) -> Vec<usize> {
        let [x0, y0, x1, y1] = bounds;
        let mut counts = vec![0usize; self.len()];
        for y in y0..=y1 {
            for x in x0..=x1 {
                if blob > 0 && labels.get_pixel(x as u32, y as u32).0[0] == blob {
                    counts[self.bin(x, y)] += 1;
                }
            }
        }
        counts
    }
}

/// The pixels of blob `blob` (in `labels`, within `bounds`) that `keep` takes (map pixels), as an
/// image with a border of one empty pixel (contours are traced inside an image).
fn blob_band(
    labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>,
    blob: u32,
    bounds: [usize; 4],
    keep: impl Fn(usize, usize) -> bool,
) -> Band {
    let [x0, y0, x1, y1] = bounds;
    let image = GrayImage::from_fn((x1 - x0 + 3) as u32, (y1 - y0 + 3) as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let inside = (1..=x1 - x0 + 1).contains(&x) && (1..=y1 - y0 + 1).contains(&y);
        let on = inside && {
            let (mx, my) = (x - 1 + x0, y - 1 + y0);
            labels.get_pixel(mx as u32, my as u32).0[0] == blob && keep(mx, my)
        };
        Luma([if on { 255 } else { 0 }])
    });
    Band { image, dx: x0 as i32 - 1, dy: y0 as i32 - 1 }
}

/// Lines of text that run into a thick blob in the map (a patch of blank card or a texture the
/// detector took for text; measured on handwritten notes, where "Anwani: 8606 Makini Unions Apt.
/// 852" ran into a blob twice its height). Their one contour's rectangle is the blob's, scores
/// low, and would be dropped with the line. The blob is what an opening by a square wider than a
/// line (`line`: how thick a line is, map pixels) keeps; the pixels of blob `blob` (in `labels`,
/// within `bounds`) away from it are the lines. Each line found so is then drawn on through the
/// blob as far as the blob's pixels reach within its height: the end of the line is under it.
/// Returns those lines, and the boxes of the thick parts that score as text (nothing when no
/// part is that thick).
#[allow(clippy::too_many_arguments)]
fn peel(
    labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>,
    prob: &[f32],
    (w, h): (usize, usize),
    (src_w, src_h): (u32, u32),
    p: &DbParams,
    blob: u32,
    bounds: [usize; 4],
    line: f64,
) -> (Vec<Quad>, Vec<Quad>) {
    let [x0, y0, x1, y1] = bounds;
    if blob == 0 || !(4.0..200.0).contains(&line) {
        return (Vec::new(), Vec::new());
    }
    let mine = |x: usize, y: usize| labels.get_pixel(x as u32, y as u32).0[0] == blob;
    let Band { image: own, dx, dy } = blob_band(labels, blob, bounds, |_, _| true);
    // A square of side 2k + 1 fits inside no line up to `PEEL_THICK` lines high.
    let k = (PEEL_THICK * line / 2.0).ceil().min(f64::from(u8::MAX)) as u8;
    let thick = open(&own, Norm::LInf, k);
    if thick.pixels().all(|p| p.0[0] == 0) {
        return (Vec::new(), Vec::new());
    }
    // The blob's fringe, where the map fades out around it, goes with it.
    let near = dilate(&thick, Norm::LInf, k / 2);
    let rest = GrayImage::from_fn(own.width(), own.height(), |x, y| {
        Luma([if own.get_pixel(x, y).0[0] > 0 && near.get_pixel(x, y).0[0] == 0 { 255 } else { 0 }])
    });
    let scale = (f64::from(src_w) / w as f64, f64::from(src_h) / h as f64);
    let contours = |img: &GrayImage| -> Vec<(Fit, Rect)> {
        find_contours::<i32>(img)
            .into_iter()
            .take(p.max_candidates)
            .map(|c| {
                let pts = c.points.into_iter().map(|q| Point::new(q.x + dx, q.y + dy)).collect();
                let (fit, r, _) = contour_box(prob, w, h, src_w, src_h, p, pts);
                (fit, r)
            })
            .collect()
    };
    let mut out = Vec::new();
    for (fit, r) in contours(&rest) {
        // A line, not a strip of the blob's fringe: several lines' heights long.
        if !matches!(fit, Fit::Box(_)) || r.a.max(r.b) < 2.0 * r.a.min(r.b) || 2.0 * r.a.max(r.b) < PEEL_LONG * line {
            continue;
        }
        // The line's middle and height from its own pixels (what is left of the blob's fringe
        // beside it widens its rectangle), at most a line's height.
        let (u, long, half) = if r.a >= r.b { (r.u, r.a, r.b) } else { ([-r.u[1], r.u[0]], r.b, r.a) };
        let v = [-u[1], u[0]];
        let mut across: Vec<f64> = Vec::new();
        for (x, y, px) in rest.enumerate_pixels() {
            let (dx, dy) = ((x as usize + x0) as f64 - 1.0 - r.c[0], (y as usize + y0) as f64 - 1.0 - r.c[1]);
            let t = dx * v[0] + dy * v[1];
            if px.0[0] > 0 && (dx * u[0] + dy * u[1]).abs() <= long && t.abs() <= half {
                across.push(t);
            }
        }
        across.sort_by(f64::total_cmp);
        let mid = across.get(across.len() / 2).copied().unwrap_or(0.0);
        let c = [r.c[0] + mid * v[0], r.c[1] + mid * v[1]];
        let half = half.min(PEEL_HALF * line);
        // Along the line, over the blob's pixels within its height.
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f64 - c[0], y as f64 - c[1]);
                if mine(x, y) && (dx * v[0] + dy * v[1]).abs() <= half {
                    let along = dx * u[0] + dy * u[1];
                    lo = lo.min(along);
                    hi = hi.max(along);
                }
            }
        }
        let drawn = if lo <= hi {
            let mid = (lo + hi) / 2.0;
            Rect { c: [c[0] + mid * u[0], c[1] + mid * u[1]], u, a: (hi - lo) / 2.0 + 0.5, b: half }
        } else {
            r
        };
        if let Fit::Box(q) = box_of(prob, w, h, scale, src_w, src_h, p, &drawn, 0.0) {
            out.push(q);
        }
    }
    let blobs = contours(&thick).into_iter().filter_map(|(fit, _)| if let Fit::Box(q) = fit { Some(q) } else { None });
    (out, blobs.collect())
}

/// See [`peel`]: parts of a blob more than this many lines thick are not text lines; what is
/// left of a line without the blob is at least this many lines long.
const PEEL_THICK: f64 = 1.8;
const PEEL_LONG: f64 = 4.0;
/// A peeled line's rectangle reaches at most this many lines' heights either side of its middle.
const PEEL_HALF: f64 = 0.6;

/// Whether blob `blob` (in `labels`, within `bounds`) is a line of text by its own pixels: long
/// (its rectangle at least [`LINE_ASPECT`] times as long as high), filling at least
/// [`LINE_FILL`] of that rectangle, with a mean probability of at least [`LINE_SCORE`].
fn line_blob(
    labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>,
    prob: &[f32],
    w: usize,
    blob: u32,
    r: &Rect,
    bounds: [usize; 4],
) -> bool {
    if blob == 0 || r.a.max(r.b) < LINE_ASPECT * r.a.min(r.b) {
        return false;
    }
    let [x0, y0, x1, y1] = bounds;
    let (mut sum, mut n) = (0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if labels.get_pixel(x as u32, y as u32).0[0] == blob {
                sum += f64::from(prob[y * w + x]);
                n += 1;
            }
        }
    }
    n > 0 && n as f64 >= LINE_FILL * 4.0 * r.a * r.b && sum / n as f64 >= LINE_SCORE
}

/// See [`line_blob`].
const LINE_ASPECT: f64 = 4.0;
const LINE_FILL: f64 = 0.5;
const LINE_SCORE: f64 = 0.8;

/// Splits bins `lo..hi` of a profile across a blob at its deepest valley — a bin holding less than
/// half of the lower of the peaks on either side, each peak at least a quarter of the fullest bin
/// (`full`) — and then each side again; pushes the runs that remain.
fn valleys(counts: &[usize], lo: usize, hi: usize, full: usize, runs: &mut Vec<(usize, usize)>) {
    // The deepest bins; of several as deep, the middle one.
    let mut best: Option<(f64, Vec<usize>)> = None;
    for v in lo + 2..hi.saturating_sub(2) {
        let left = counts[lo..v].iter().copied().max().unwrap_or(0);
        let right = counts[v + 1..hi].iter().copied().max().unwrap_or(0);
        let peak = left.min(right);
        if peak * 4 < full || peak == 0 {
            continue;
        }
        let ratio = counts[v] as f64 / peak as f64;
        match &mut best {
            Some((r, at)) if (ratio - *r).abs() < 1e-9 => at.push(v),
            Some((r, _)) if ratio >= *r => {}
            _ if ratio < 0.5 => best = Some((ratio, vec![v])),
            _ => {}
        }
    }
    match best {
        Some((_, at)) => {
            let v = at[at.len() / 2];
            valleys(counts, lo, v, full, runs);
            valleys(counts, v + 1, hi, full, runs);
        }
        None => {
            // Without the thin tails where the bridge to the next line was.
            let top = counts[lo..hi].iter().copied().max().unwrap_or(0);
            let thick = |&i: &usize| counts[i] * 4 >= top && counts[i] > 0;
            if let (Some(a), Some(b)) = ((lo..hi).find(thick), (lo..hi).rev().find(thick)) {
                runs.push((a, b + 1));
            }
        }
    }
}

/// Part of the binary map, with a border of one empty pixel (contours are traced inside an
/// image), and where its (0, 0) is in the map.
struct Band {
    image: GrayImage,
    dx: i32,
    dy: i32,
}

/// The lines of a contour that spans several: the pixels of its blob (`blob` in `labels`) within
/// `bounds` (x0, y0, x1, y1), binned by their distance across the rectangle `r`; bins holding less than a fifth of the fullest
/// bin's pixels are gaps between lines, and each run of fuller bins a band of its own. With no
/// gap, the one band is the contour without its thin tails.
fn bands(labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>, blob: u32, r: &Rect, bounds: [usize; 4]) -> Vec<Band> {
    let across = Profile { c: r.c, dir: [-r.u[1], r.u[0]], half: r.b };
    let counts = across.counts(labels, blob, bounds);
    let full = counts.iter().copied().max().unwrap_or(0);
    let mut runs = Vec::new();
    valleys(&counts, 0, counts.len(), full, &mut runs);
    runs.into_iter()
        .map(|(lo, hi)| blob_band(labels, blob, bounds, |x, y| (lo..hi).contains(&across.bin(x, y))))
        .collect()
}

/// What one contour gives.
enum Fit {
    Box(Quad),
    /// Too thin to be text.
    Small,
    /// Its rectangle's mean probability is below the box threshold.
    LowScore,
}

fn contour_box(
    prob: &[f32],
    w: usize,
    h: usize,
    src_w: u32,
    src_h: u32,
    p: &DbParams,
    points: Vec<Point<i32>>,
) -> (Fit, Rect, [usize; 4]) {
    let (sx, sy) = (f64::from(src_w) / w as f64, f64::from(src_h) / h as f64);
    let hull: Vec<[f64; 2]> =
        convex_hull(points).into_iter().map(|Point { x, y }| [f64::from(x), f64::from(y)]).collect();
    let rect = min_area_rect(&hull);
    let lim = |v: f64, n: usize| (v.max(0.0) as usize).min(n - 1);
    let (xs, ys) = (hull.iter().map(|q| q[0]), hull.iter().map(|q| q[1]));
    let bounds = [
        lim(xs.clone().fold(f64::MAX, f64::min), w),
        lim(ys.clone().fold(f64::MAX, f64::min), h),
        lim(xs.fold(f64::MIN, f64::max), w),
        lim(ys.fold(f64::MIN, f64::max), h),
    ];
    (box_of(prob, w, h, (sx, sy), src_w, src_h, p, &rect, p.box_thresh), rect, bounds)
}

/// The box a contour's rectangle gives: scored, grown, in photo pixels.
#[allow(clippy::too_many_arguments)]
fn box_of(
    prob: &[f32],
    w: usize,
    h: usize,
    (sx, sy): (f64, f64),
    src_w: u32,
    src_h: u32,
    p: &DbParams,
    rect: &Rect,
    min_score: f32,
) -> Fit {
    if rect.short_side() < 3.0 {
        return Fit::Small;
    }
    let corners = mini_box(rect.corners());
    if box_score(prob, w, h, &corners) < min_score {
        return Fit::LowScore;
    }
    let (area, perimeter) = (4.0 * rect.a * rect.b, 4.0 * (rect.a + rect.b));
    let grow = area * f64::from(p.unclip) / perimeter.max(1e-9);
    let big = Rect { a: rect.a + grow, b: rect.b + grow, ..*rect };
    if big.short_side() < 5.0 {
        return Fit::Small;
    }
    let scaled = mini_box(big.corners()).map(|[x, y]| {
        [
            (x * sx).round_ties_even().clamp(0.0, f64::from(src_w)),
            (y * sy).round_ties_even().clamp(0.0, f64::from(src_h)),
        ]
    });
    let q = clockwise(scaled).map(|[x, y]| {
        [x.min(f64::from(src_w.saturating_sub(1))).trunc(), y.min(f64::from(src_h.saturating_sub(1))).trunc()]
    });
    let side = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    if side(q[0], q[1]) as i64 <= 3 || side(q[0], q[3]) as i64 <= 3 {
        return Fit::Small;
    }
    Fit::Box(walk_order(q.map(|[x, y]| [x as f32, y as f32])))
}

/// Axis-aligned bounds of a quad: (x0, y0, x1, y1).
pub fn bounds(q: &Quad) -> [f32; 4] {
    let (xs, ys) = (q.map(|p| p[0]), q.map(|p| p[1]));
    let min = |v: [f32; 4]| v.iter().copied().fold(f32::MAX, f32::min);
    let max = |v: [f32; 4]| v.iter().copied().fold(f32::MIN, f32::max);
    [min(xs), min(ys), max(xs), max(ys)]
}

/// The area of bounds (left, top, right, bottom); 0 when empty.
pub(crate) fn area(b: &[f32; 4]) -> f32 {
    (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0)
}

/// The area two bounds share.
pub(crate) fn overlap(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    area(&[a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])])
}

/// Boxes found more than once (by the whole-photo pass and by tiles, or by two overlapping
/// tiles) kept once: largest first, a box dropped when more than 60 % of its bounds lie inside a
/// box already kept.
pub fn merge_overlapping(mut quads: Vec<Quad>) -> Vec<Quad> {
    quads.sort_by(|a, b| area(&bounds(b)).total_cmp(&area(&bounds(a))));
    let mut kept: Vec<(Quad, [f32; 4])> = Vec::new();
    for q in quads {
        let b = bounds(&q);
        let covered = kept.iter().any(|(_, k)| overlap(&b, k) > 0.6 * area(&b).max(1e-6));
        if !covered {
            kept.push((q, b));
        }
    }
    kept.into_iter().map(|(q, _)| q).collect()
}

/// PaddleOCR's reading order: by the top-left corner's y then x, then neighbours less than 10 px
/// apart vertically swapped into left-to-right order.
pub fn reading_order(boxes: &mut [Quad]) {
    reading_order_of(boxes, |q| q);
}

/// [`reading_order`] of things that have a box.
pub fn reading_order_of<T>(items: &mut [T], quad: impl Fn(&T) -> &Quad) {
    items.sort_by(|a, b| {
        let (a, b) = (quad(a), quad(b));
        a[0][1].total_cmp(&b[0][1]).then(a[0][0].total_cmp(&b[0][0]))
    });
    for i in 0..items.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            let (a, b) = (quad(&items[j]), quad(&items[j + 1]));
            if (b[0][1] - a[0][1]).abs() < 10.0 && b[0][0] < a[0][0] {
                items.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map with two solid text-like bars: one axis-aligned, one tilted by 30°.
    fn map(w: usize, h: usize) -> Vec<f32> {
        let mut m = vec![0f32; w * h];
        for y in 20..30 {
            for x in 10..110 {
                m[y * w + x] = 0.9;
            }
        }
        paint(&mut m, w, [100.0, 100.0], 30.0, |along, across| {
            (along.abs() <= 40.0 && across.abs() <= 6.0).then_some(0.8)
        });
        m
    }

    /// Sets each pixel of a `w`-wide map to what `value` gives for its distance along and across
    /// a line through `centre` turned by `degrees` (`None`: left as it is).
    fn paint(m: &mut [f32], w: usize, centre: [f64; 2], degrees: f64, value: impl Fn(f64, f64) -> Option<f32>) {
        let (c, s) = (degrees.to_radians().cos(), degrees.to_radians().sin());
        for (i, px) in m.iter_mut().enumerate() {
            let (dx, dy) = ((i % w) as f64 - centre[0], (i / w) as f64 - centre[1]);
            if let Some(v) = value(dx * c + dy * s, -dx * s + dy * c) {
                *px = v;
            }
        }
    }

    /// Two lines joined where letters of one reach into the other: one contour, whose rectangle
    /// holds the gap between them and scores low. Cut at the gap, they are two lines again.
    #[test]
    fn lines_touching_in_the_map_are_split_not_dropped() {
        let (w, h) = (200, 80);
        let mut m = vec![0f32; w * h];
        for y in (10..20).chain(40..50) {
            for x in 10..190 {
                m[y * w + x] = 0.95;
            }
        }
        // The bridge: a few letters reaching across the gap.
        for y in 20..40 {
            for x in 90..96 {
                m[y * w + x] = 0.45;
            }
        }
        let found = boxes(&m, w, h, w as u32, h as u32, &DbParams::default());
        assert_eq!(found.len(), 2, "{found:?}");
        let mut tops: Vec<f32> = found.iter().map(|q| q[0][1]).collect();
        tops.sort_by(f32::total_cmp);
        assert!(tops[0] < 15.0 && tops[1] > 25.0, "{tops:?}");
    }

    /// A line tilted by 8° whose contour has a stub at each end reaching into the next line (a
    /// letter's tail): its rectangle is twice as high as the line and scores below the box
    /// threshold, and no valley splits it. By its own pixels it is a line, and is kept.
    #[test]
    fn a_tilted_line_with_tails_is_kept_by_its_own_pixels() {
        let (w, h) = (320, 160);
        let mut m = vec![0f32; w * h];
        paint(&mut m, w, [160.0, 80.0], 8.0, |along, across| {
            if along.abs() <= 120.0 && across.abs() <= 6.0 {
                Some(0.95)
            } else if (along.abs() - 116.0).abs() <= 2.0 && (6.0..=18.0).contains(&across) {
                Some(0.45)
            } else {
                None
            }
        });
        let found = boxes(&m, w, h, w as u32, h as u32, &DbParams::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let q = found[0];
        let angle = (q[1][1] - q[0][1]).atan2(q[1][0] - q[0][0]).to_degrees();
        assert!((angle - 8.0).abs() < 2.0, "{q:?}: angle {angle}");
    }

    /// A handwritten line whose end runs into a blob three lines high (blank card the detector
    /// took for text): one contour, whose rectangle is the blob's and scores low. Peeled from
    /// the blob, the line is kept, drawn on to where the blob ends.
    #[test]
    fn a_line_that_runs_into_a_thick_blob_is_peeled_from_it() {
        let (w, h) = (320, 160);
        let mut m = vec![0f32; w * h];
        paint(&mut m, w, [140.0, 80.0], -6.0, |along, across| {
            (along.abs() <= 120.0 && across.abs() <= 6.0).then_some(0.95)
        });
        // The blob, 36 × 40, over the line's right end.
        for y in 70..110 {
            for x in 240..276 {
                m[y * w + x] = 0.95;
            }
        }
        let found = boxes(&m, w, h, w as u32, h as u32, &DbParams::default());
        let lines: Vec<&Quad> = found
            .iter()
            .filter(|q| {
                let [x0, y0, x1, y1] = bounds(q);
                x1 - x0 > 3.0 * (y1 - y0) / 2.0
            })
            .collect();
        assert_eq!(lines.len(), 1, "{found:?}");
        let [x0, _, x1, _] = bounds(lines[0]);
        // From the line's start to the blob's far side, its height a line's.
        assert!(x0 < 30.0 && x1 > 262.0, "{found:?}");
        let (q, _) = (lines[0], 0);
        let high = (q[3][0] - q[0][0]).hypot(q[3][1] - q[0][1]);
        assert!(high < 40.0, "{q:?}: {high}");
    }

    #[test]
    fn bars_become_grown_boxes_in_photo_pixels() {
        let (w, h) = (160, 160);
        let mut found = boxes(&map(w, h), w, h, 320, 320, &DbParams::default());
        reading_order(&mut found);
        assert_eq!(found.len(), 2, "{found:?}");
        // The flat bar: 100 × 10 px, grown by 1.6·area/perimeter ≈ 7.3 px per side, then × 2.
        let flat = found[0];
        let width = (flat[1][0] - flat[0][0]) / 2.0;
        let height = (flat[3][1] - flat[0][1]) / 2.0;
        assert!((width - (99.0 + 2.0 * 7.3)).abs() < 3.0, "width {width}");
        assert!((height - (9.0 + 2.0 * 7.3)).abs() < 3.0, "height {height}");
        // The tilted bar keeps its 30° angle.
        let t = found[1];
        let angle = (t[1][1] - t[0][1]).atan2(t[1][0] - t[0][0]).to_degrees();
        assert!((angle - 30.0).abs() < 2.0, "angle {angle}");
    }

    #[test]
    fn faint_or_tiny_blobs_are_dropped() {
        let (w, h) = (64, 64);
        let mut m = vec![0f32; w * h];
        for y in 10..20 {
            for x in 10..50 {
                m[y * w + x] = 0.35; // above the pixel threshold, below the box threshold
            }
        }
        m[40 * w + 40] = 0.99; // one pixel
        assert!(boxes(&m, w, h, 64, 64, &DbParams::default()).is_empty());
        assert!(boxes(&[], 0, 0, 1, 1, &DbParams::default()).is_empty());
    }

    #[test]
    fn boxes_of_one_line_share_a_place_tilted_neighbours_do_not() {
        // Two lines 30 px apart, tilted by about 8°: their axis-aligned bounds overlap by half.
        let tilted = |dy: f32, x0: f32, x1: f32| -> Quad {
            let y = |x: f32| dy + 0.14 * x;
            [[x0, y(x0)], [x1, y(x1)], [x1, y(x1) + 24.0], [x0, y(x0) + 24.0]]
        };
        let (upper, lower) = (tilted(0.0, 0.0, 300.0), tilted(30.0, 0.0, 300.0));
        assert!(!same_place(&upper, &lower));
        // A fragment of the upper line, read before: its middle is inside the whole line.
        assert!(same_place(&tilted(0.0, 200.0, 300.0), &upper));
        assert!(same_place(&upper, &tilted(0.0, 200.0, 300.0)));
    }

    #[test]
    fn crossed_quads_are_walked_round() {
        // A 45° square listed so that its edges cross (as clockwise() can list it).
        let crossed: Quad = [[0.0, 5.0], [10.0, 5.0], [5.0, 0.0], [5.0, 10.0]];
        assert_eq!(walk_order(crossed), [[5.0, 0.0], [10.0, 5.0], [5.0, 10.0], [0.0, 5.0]]);
        let fine: Quad = [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]];
        assert_eq!(walk_order(fine), fine);
    }

    #[test]
    fn min_area_rect_of_a_rotated_square() {
        let r = min_area_rect(&[[0.0, 5.0], [5.0, 0.0], [10.0, 5.0], [5.0, 10.0]]);
        assert!((r.a * r.b * 4.0 - 50.0).abs() < 1e-6);
        assert!((r.c[0] - 5.0).abs() < 1e-9 && (r.c[1] - 5.0).abs() < 1e-9);
    }

    #[test]
    fn boxes_found_twice_are_kept_once() {
        let at = |x: f32, y: f32, w: f32| [[x, y], [x + w, y], [x + w, y + 10.0], [x, y + 10.0]];
        // A line, the same line found by a tile (slightly shifted, shorter), and another line.
        let merged = merge_overlapping(vec![at(1.0, 0.0, 90.0), at(0.0, 0.0, 100.0), at(0.0, 30.0, 100.0)]);
        assert_eq!(merged, vec![at(0.0, 0.0, 100.0), at(0.0, 30.0, 100.0)]);
    }

    #[test]
    fn lines_read_top_to_bottom_then_left_to_right() {
        let at = |x: f32, y: f32| [[x, y], [x + 10.0, y], [x + 10.0, y + 5.0], [x, y + 5.0]];
        let mut b = vec![at(50.0, 104.0), at(0.0, 100.0), at(0.0, 0.0), at(60.0, 2.0)];
        reading_order(&mut b);
        assert_eq!(b, vec![at(0.0, 0.0), at(60.0, 2.0), at(0.0, 100.0), at(50.0, 104.0)]);
    }
}
