//! Tesseract 5 through its C API, loaded at run time.
//!
//! Written by hand rather than through a binding crate: the dozen calls we need are stable C, the
//! binding crates generate them with bindgen (libclang at build time, minutes of compiling) and
//! link libtesseract into the binary, so crowdsift would not start on a machine without it. Here
//! the library is opened only when Tesseract is asked for, and its absence is one clear error.
//! One [`Tesseract`] per thread (the API object is not thread-safe; it may move between threads).
//! Programs should start with `OMP_THREAD_LIMIT=1` in their environment (the `crowdsift` binary
//! sets it): Debian's libtesseract runs OpenMP threads that otherwise spin against the workers.

use std::ffi::{CStr, CString, c_char, c_float, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::{GrayImage, RgbImage};
use libloading::Library;

use crate::OcrError;

/// `TessPageSegMode` values we use.
const PSM_AUTO: c_int = 3;
const PSM_SINGLE_LINE: c_int = 7;
/// `TessPageIteratorLevel::RIL_TEXTLINE`.
const RIL_TEXTLINE: c_int = 2;

type Handle = *mut c_void;

/// The C functions, resolved once per process.
struct Api {
    _lib: Library,
    version: unsafe extern "C" fn() -> *const c_char,
    create: unsafe extern "C" fn() -> Handle,
    delete: unsafe extern "C" fn(Handle),
    init3: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    set_variable: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    set_psm: unsafe extern "C" fn(Handle, c_int),
    set_image: unsafe extern "C" fn(Handle, *const u8, c_int, c_int, c_int, c_int),
    set_resolution: unsafe extern "C" fn(Handle, c_int),
    recognize: unsafe extern "C" fn(Handle, *mut c_void) -> c_int,
    utf8_text: unsafe extern "C" fn(Handle) -> *mut c_char,
    mean_conf: unsafe extern "C" fn(Handle) -> c_int,
    get_iterator: unsafe extern "C" fn(Handle) -> *mut c_void,
    it_delete: unsafe extern "C" fn(*mut c_void),
    it_page: unsafe extern "C" fn(*mut c_void) -> *mut c_void,
    it_next: unsafe extern "C" fn(*mut c_void, c_int) -> c_int,
    it_text: unsafe extern "C" fn(*const c_void, c_int) -> *mut c_char,
    it_conf: unsafe extern "C" fn(*const c_void, c_int) -> c_float,
    page_box: unsafe extern "C" fn(*const c_void, c_int, *mut c_int, *mut c_int, *mut c_int, *mut c_int) -> c_int,
    delete_text: unsafe extern "C" fn(*const c_char),
    clear: unsafe extern "C" fn(Handle),
}

/// Names tried in order (`CROWDSIFT_TESSERACT_LIB` first when set).
const LIB_NAMES: &[&str] = &["libtesseract.so.5", "libtesseract.so", "libtesseract.5.dylib", "libtesseract.dylib"];

const INSTALL: &str = "install Tesseract 5 (Debian/Ubuntu: apt install libtesseract5 tesseract-ocr-<lang>; \
     macOS: brew install tesseract tesseract-lang) or set CROWDSIFT_TESSERACT_LIB to libtesseract's path";

fn api() -> Result<&'static Api, OcrError> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load_api).as_ref().map_err(|e| OcrError::Tesseract(e.clone()))
}

fn load_api() -> Result<Api, String> {
    let mut names: Vec<String> = std::env::var("CROWDSIFT_TESSERACT_LIB").into_iter().collect();
    names.extend(LIB_NAMES.iter().map(|s| s.to_string()));
    let mut tried = Vec::new();
    for name in &names {
        // SAFETY: loading libtesseract runs its static initialisers, which have no preconditions.
        match unsafe { Library::new(name) } {
            Ok(lib) => return resolve(lib).map_err(|e| format!("{name}: {e}")),
            Err(e) => tried.push(format!("{name}: {e}")),
        }
    }
    Err(format!("Tesseract library not found ({}); {INSTALL}", tried.join("; ")))
}

fn resolve(lib: Library) -> Result<Api, libloading::Error> {
    // SAFETY: each symbol is declared with the signature of tesseract/capi.h (Tesseract 4 and 5).
    unsafe {
        macro_rules! sym {
            ($name:literal) => {
                *lib.get(concat!($name, "\0").as_bytes())?
            };
        }
        Ok(Api {
            version: sym!("TessVersion"),
            create: sym!("TessBaseAPICreate"),
            delete: sym!("TessBaseAPIDelete"),
            init3: sym!("TessBaseAPIInit3"),
            set_variable: sym!("TessBaseAPISetVariable"),
            set_psm: sym!("TessBaseAPISetPageSegMode"),
            set_image: sym!("TessBaseAPISetImage"),
            set_resolution: sym!("TessBaseAPISetSourceResolution"),
            recognize: sym!("TessBaseAPIRecognize"),
            utf8_text: sym!("TessBaseAPIGetUTF8Text"),
            mean_conf: sym!("TessBaseAPIMeanTextConf"),
            get_iterator: sym!("TessBaseAPIGetIterator"),
            it_delete: sym!("TessResultIteratorDelete"),
            it_page: sym!("TessResultIteratorGetPageIterator"),
            it_next: sym!("TessResultIteratorNext"),
            it_text: sym!("TessResultIteratorGetUTF8Text"),
            it_conf: sym!("TessResultIteratorConfidence"),
            page_box: sym!("TessPageIteratorBoundingBox"),
            delete_text: sym!("TessDeleteText"),
            clear: sym!("TessBaseAPIClear"),
            _lib: lib,
        })
    }
}

/// The Tesseract library's version, e.g. "5.3.0".
pub fn version() -> Result<String, OcrError> {
    let api = api()?;
    // SAFETY: TessVersion returns a static NUL-terminated string.
    Ok(unsafe { CStr::from_ptr((api.version)()) }.to_string_lossy().into_owned())
}

/// The folder Tesseract reads `<lang>.traineddata` from: `TESSDATA_PREFIX` (or its `tessdata`
/// subfolder), else the first of the usual install locations that exists.
pub fn tessdata_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TESSDATA_PREFIX").map(PathBuf::from) {
        let sub = p.join("tessdata");
        return Some(if sub.is_dir() { sub } else { p });
    }
    [
        "/usr/share/tesseract-ocr/5/tessdata",
        "/usr/share/tesseract-ocr/4.00/tessdata",
        "/usr/share/tessdata",
        "/usr/local/share/tessdata",
        "/opt/homebrew/share/tessdata",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_dir())
}

/// Language packs installed in [`tessdata_dir`] (file stems of `*.traineddata`), sorted.
pub fn installed_languages() -> Vec<String> {
    let Some(dir) = tessdata_dir() else { return Vec::new() };
    let Ok(rd) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut langs: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".traineddata").map(str::to_owned))
        .collect();
    langs.sort();
    langs
}

/// A text line Tesseract found on a page: axis-aligned box (left, top, right, bottom).
#[derive(Debug, Clone, PartialEq)]
pub struct PageLine {
    pub bbox: [u32; 4],
    pub text: String,
    /// 0–1.
    pub confidence: f32,
}

/// Tesseract's text with single spaces and without the direction marks it puts around the runs of
/// a line that mixes right-to-left and left-to-right words (`276 \u{200e}Lodge Apt.\u{200f}`): the
/// text is already in reading order, and a mark glued to a word hides it from the PII rules.
fn plain(text: &str) -> String {
    let marks =
        |c: char| matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    text.split_whitespace()
        .map(|w| w.chars().filter(|&c| !marks(c)).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One initialised Tesseract (LSTM engine) for a `+`-joined language list such as `ben+eng`.
pub struct Tesseract {
    api: &'static Api,
    handle: Handle,
}

// SAFETY: the handle is owned exclusively by this value and Tesseract keeps no thread-local state
// tied to the creating thread; it is never shared (`!Sync`).
unsafe impl Send for Tesseract {}

impl Tesseract {
    /// Opens the library and loads the language packs `langs` (e.g. `"ben"`, `"hin+eng"`).
    pub fn new(langs: &str) -> Result<Self, OcrError> {
        let api = api()?;
        let c_langs = CString::new(langs).map_err(|_| OcrError::Tesseract(format!("language list {langs:?}")))?;
        let data = tessdata_dir().and_then(|p| CString::new(p.to_string_lossy().into_owned()).ok());
        // SAFETY: create returns an owned handle (deleted in Drop); init3 copies its arguments.
        let handle = unsafe { (api.create)() };
        if handle.is_null() {
            return Err(OcrError::Tesseract("TessBaseAPICreate returned null".into()));
        }
        let t = Tesseract { api, handle };
        let rc =
            unsafe { (api.init3)(handle, data.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()), c_langs.as_ptr()) };
        if rc != 0 {
            let have = installed_languages().join(", ");
            return Err(OcrError::Tesseract(format!(
                "cannot load language pack(s) {langs} from {} (installed: {}); {INSTALL}",
                tessdata_dir().map_or("Tesseract's default folder".into(), |p| p.display().to_string()),
                if have.is_empty() { "none" } else { &have },
            )));
        }
        // No debug files, no stray output on stderr for small crops.
        t.set("debug_file", "/dev/null");
        Ok(t)
    }

    fn set(&self, name: &str, value: &str) {
        if let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) {
            // SAFETY: both strings are NUL-terminated and outlive the call (Tesseract copies them).
            unsafe { (self.api.set_variable)(self.handle, n.as_ptr(), v.as_ptr()) };
        }
    }

    fn set_gray(&mut self, img: &GrayImage, psm: c_int) {
        let (w, h) = img.dimensions();
        // SAFETY: the buffer holds w*h bytes, one per pixel, rows of w bytes; Tesseract copies it
        // into its own Pix in SetImage, so it need not outlive the call.
        unsafe {
            (self.api.set_psm)(self.handle, psm);
            (self.api.set_image)(self.handle, img.as_raw().as_ptr(), w as c_int, h as c_int, 1, w as c_int);
            // Photos carry no meaningful DPI; 300 keeps Tesseract's size heuristics quiet.
            (self.api.set_resolution)(self.handle, 300);
        }
    }

    fn take_text(&self, p: *mut c_char) -> String {
        if p.is_null() {
            return String::new();
        }
        // SAFETY: p is a NUL-terminated string Tesseract allocated; freed with TessDeleteText.
        let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().trim().to_owned();
        unsafe { (self.api.delete_text)(p) };
        s
    }

    /// Reads `crop` as one line of text: (text, confidence 0–1); with `binarise` the crop is
    /// thresholded by us first (see [`line_input`]) rather than by Tesseract.
    pub fn read_line(&mut self, crop: &RgbImage, binarise: bool) -> (String, f32) {
        let gray = line_input(crop, binarise);
        self.set_gray(&gray, PSM_SINGLE_LINE);
        // SAFETY: an image is set; the returned text is freed by take_text.
        let (text, conf) = unsafe {
            if (self.api.recognize)(self.handle, std::ptr::null_mut()) != 0 {
                (self.api.clear)(self.handle);
                return (String::new(), 0.0);
            }
            let text = self.take_text((self.api.utf8_text)(self.handle));
            (text, (self.api.mean_conf)(self.handle))
        };
        unsafe { (self.api.clear)(self.handle) };
        (plain(&text), (conf.clamp(0, 100) as f32) / 100.0)
    }

    /// Finds and reads the text lines of a whole page (Tesseract's own layout analysis).
    pub fn read_page(&mut self, img: &RgbImage) -> Vec<PageLine> {
        let gray = image::imageops::grayscale(img);
        self.set_gray(&gray, PSM_AUTO);
        let mut out = Vec::new();
        // SAFETY: the iterator is created after Recognize, used while the handle lives, deleted.
        unsafe {
            if (self.api.recognize)(self.handle, std::ptr::null_mut()) != 0 {
                (self.api.clear)(self.handle);
                return out;
            }
            let it = (self.api.get_iterator)(self.handle);
            if !it.is_null() {
                loop {
                    let text = self.take_text((self.api.it_text)(it, RIL_TEXTLINE));
                    let conf = (self.api.it_conf)(it, RIL_TEXTLINE);
                    let page = (self.api.it_page)(it);
                    let (mut l, mut t, mut r, mut b) = (0, 0, 0, 0);
                    let has_box = (self.api.page_box)(page, RIL_TEXTLINE, &mut l, &mut t, &mut r, &mut b) != 0;
                    let text = plain(&text);
                    if has_box && !text.is_empty() {
                        let c = |v: c_int| v.max(0) as u32;
                        out.push(PageLine {
                            bbox: [c(l), c(t), c(r), c(b)],
                            text,
                            confidence: (conf / 100.0).clamp(0.0, 1.0),
                        });
                    }
                    if (self.api.it_next)(it, RIL_TEXTLINE) == 0 {
                        break;
                    }
                }
                (self.api.it_delete)(it);
            }
            (self.api.clear)(self.handle);
        }
        out
    }
}

impl Drop for Tesseract {
    fn drop(&mut self) {
        // SAFETY: the handle came from TessBaseAPICreate and is deleted once.
        unsafe { (self.api.delete)(self.handle) };
    }
}

/// A line crop as Tesseract reads lines best: gray, dark text on light, the text about 40 px high
/// (its LSTM models were trained on ~36 px lines; tiny crops lose characters), with a margin;
/// with `binarise`, black on white at Otsu's threshold of the crop.
fn line_input(crop: &RgbImage, binarise: bool) -> GrayImage {
    let mut gray = image::imageops::grayscale(crop);
    let (w, h) = gray.dimensions();
    if h > 0 && h < 40 {
        let s = 40.0 / h as f32;
        gray = image::imageops::resize(
            &gray,
            ((w as f32 * s).round() as u32).max(1),
            40,
            image::imageops::FilterType::CatmullRom,
        );
    }
    // Light text on a dark ground reads poorly: invert when the border is darker than the middle.
    let (w, h) = gray.dimensions();
    let mean = |pts: &mut dyn Iterator<Item = u8>| {
        let (s, n) = pts.fold((0u64, 0u64), |(s, n), v| (s + v as u64, n + 1));
        if n == 0 { 0.0 } else { s as f64 / n as f64 }
    };
    let border = mean(&mut (0..w).flat_map(|x| [gray.get_pixel(x, 0)[0], gray.get_pixel(x, h - 1)[0]]));
    let all = mean(&mut gray.pixels().map(|p| p[0]));
    if border < all {
        image::imageops::invert(&mut gray);
    }
    if binarise {
        let t = imageproc::contrast::otsu_level(&gray);
        gray.pixels_mut().for_each(|p| p[0] = if p[0] > t { 255 } else { 0 });
    }
    let pad = (gray.height() / 4).max(4);
    let fill = image::Luma([gray.pixels().map(|p| p[0]).max().unwrap_or(255)]);
    let mut out = GrayImage::from_pixel(gray.width() + 2 * pad, gray.height() + 2 * pad, fill);
    image::imageops::replace(&mut out, &gray, pad as i64, pad as i64);
    out
}

/// True when the language pack `lang` (`<lang>.traineddata`) is installed.
pub fn has_language(lang: &str) -> bool {
    tessdata_dir().is_some_and(|d| Path::new(&d).join(format!("{lang}.traineddata")).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_marks_and_extra_spaces_are_left_out() {
        assert_eq!(plain("276 \u{200e}Lodge  Apt.\u{200f} \u{200f}حسين\u{200e}\n"), "276 Lodge Apt. حسين");
        assert_eq!(plain("\u{200e} \u{2067}"), "");
    }

    #[test]
    fn light_text_on_dark_is_inverted_and_small_lines_are_enlarged() {
        // 100x10 crop: dark border rows, a bright band in the middle (light text on dark).
        let crop =
            RgbImage::from_fn(
                100,
                10,
                |_, y| if (3..7).contains(&y) { image::Rgb([250; 3]) } else { image::Rgb([10; 3]) },
            );
        let g = line_input(&crop, false);
        assert_eq!(g.height(), 40 + 2 * 10);
        assert_eq!(g.width(), 400 + 2 * 10);
        // After inversion the border (and the padding) is light.
        assert!(g.get_pixel(0, 0)[0] > 200 && g.get_pixel(200, 12)[0] > 200, "{:?}", g.get_pixel(200, 12));
    }
}
