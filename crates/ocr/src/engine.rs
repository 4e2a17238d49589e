//! Which recogniser reads which line.
//!
//! `auto` (the default): PP-OCR finds the lines of every script (its DB detector does not depend on
//! the alphabet) and reads them; a line it reads with low confidence — text in a script its
//! character list lacks comes out as low-confidence Latin or Chinese — is read again by Tesseract
//! with the language packs of the scripts PP-OCR cannot read, and the more confident reading wins.
//! `ppocr` and `tesseract` use one engine alone (Tesseract then also finds the lines itself).

use image::RgbImage;

use crowdsift_models::{DigitsSpec, OcrSpec, Registry, StyleSpec};

use crate::digits::DigitReader;
use crate::style::StyleClassifier;
use crate::tess::{self, Tesseract};
use crate::{OcrError, Page, PpOcr, TextLine, crop, script};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// PP-OCR finds and reads every line; Tesseract re-reads the lines in scripts PP-OCR lacks
    /// (Bengali, Devanagari, Arabic, Thai, Khmer, …) and re-spells Vietnamese.
    Auto,
    /// PP-OCR alone.
    Ppocr,
    /// Tesseract alone.
    Tesseract,
}

impl std::str::FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Engine::Auto),
            "ppocr" => Ok(Engine::Ppocr),
            "tesseract" => Ok(Engine::Tesseract),
            _ => Err(format!("unknown engine {s:?} (auto, ppocr, tesseract)")),
        }
    }
}

/// Tesseract language codes from a list written `ben,eng` or `ben+eng` (spaces and empty entries
/// ignored), as `--lang` and a manifest's `lang` column give them.
pub fn parse_languages(list: &str) -> Vec<String> {
    list.split([',', '+']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// How a photo's lines are read: options of the `ocr` stage (command line and Python, same
/// names), defaults those of [`Default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(default)]
pub struct ReaderConfig {
    /// Which engine reads the lines.
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
    /// Tesseract language codes of the collection, e.g. `ben,eng` or `vie` [default: auto: one
    /// installed pack per script PP-OCR lacks]. A manifest's `lang` column narrows it per photo.
    ///
    /// `None` (or `auto`): every installed pack of a script PP-OCR cannot read (one per script),
    /// or `eng` for `--engine tesseract`. Listed Latin languages whose letters PP-OCR lacks
    /// (Vietnamese) are read by both: Tesseract's spelling replaces PP-OCR's when the two agree
    /// on the base letters.
    #[arg(id = "lang", long = "lang", value_name = "LANGS", value_delimiter = ',')]
    #[serde(rename = "lang")]
    pub langs: Option<Vec<String>>,
    /// PP-OCR lines read with less confidence than this are tried with Tesseract (engine auto).
    #[arg(long, default_value_t = ReaderConfig::default().retry_below)]
    pub retry_below: f32,
    /// Lines read with less confidence than this are dropped.
    #[arg(long, default_value_t = ReaderConfig::default().min_confidence)]
    pub min_confidence: f32,
    /// Clean-up of line crops before PP-OCR reads them.
    #[arg(skip)]
    #[serde(skip_deserializing)]
    pub enhance: crate::crop::Enhance,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            engine: Engine::Auto,
            langs: None,
            retry_below: 0.9,
            min_confidence: 0.5,
            enhance: crate::crop::Enhance::None,
        }
    }
}

impl ReaderConfig {
    /// The Tesseract language packs this configuration needs: one per line-reader for `auto`
    /// (each a script PP-OCR lacks), one `+`-joined list for `tesseract`, none for `ppocr`.
    pub fn tesseract_languages(&self) -> Vec<String> {
        // `--lang auto` says what leaving it out says.
        let langs = self.langs.as_ref().filter(|l| !matches!(l.as_slice(), [a] if a == "auto"));
        match (self.engine, langs) {
            (Engine::Ppocr, _) => Vec::new(),
            (Engine::Tesseract, Some(l)) => vec![l.join("+")],
            (Engine::Tesseract, None) => vec!["eng".into()],
            (Engine::Auto, Some(l)) => l
                .iter()
                .filter(|l| {
                    script::of_language(l).is_some_and(|s| !script::ppocr_reads(s))
                        || script::exemplar_letters(l).is_some()
                })
                .cloned()
                .collect(),
            (Engine::Auto, None) => {
                let mut seen = Vec::new();
                let mut out = Vec::new();
                for l in tess::installed_languages() {
                    if let Some(s) = script::of_language(&l).filter(|s| !script::ppocr_reads(s))
                        && !seen.contains(&s)
                    {
                        seen.push(s);
                        out.push(l);
                    }
                }
                out
            }
        }
    }

    /// Other PP-OCR model sets worth loading besides `primary`, with the scripts each is used for
    /// (photos whose language hint is in that script): see [`script::preferred_models`].
    pub fn model_choices(&self, primary: &str) -> Vec<(&'static str, Vec<&'static str>)> {
        if self.engine != Engine::Auto {
            return Vec::new();
        }
        let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
        for lang in self.tesseract_languages() {
            let Some(s) = script::of_language(&lang) else { continue };
            let Some(m) = script::preferred_models(s).filter(|m| *m != primary) else { continue };
            match out.iter_mut().find(|(n, _)| *n == m) {
                Some((_, scripts)) if !scripts.contains(&s) => scripts.push(s),
                Some(_) => {}
                None => out.push((m, vec![s])),
            }
        }
        out
    }

    /// Describes the configuration for cache keys and run records: engine, Tesseract version and
    /// packs (e.g. `auto+tesseract5.3.0:ben,hin`).
    pub fn key(&self) -> String {
        let langs = self.tesseract_languages();
        let mut engine = match self.engine {
            Engine::Auto => "auto",
            Engine::Ppocr => "ppocr",
            Engine::Tesseract => "tesseract",
        }
        .to_owned();
        match self.enhance {
            crate::crop::Enhance::None => {}
            crate::crop::Enhance::Contrast => engine += "+contrast",
            crate::crop::Enhance::Binarise => engine += "+binarise",
        }
        if langs.is_empty() {
            return engine;
        }
        let v = tess::version().unwrap_or_else(|_| "?".into());
        format!("{engine}+tesseract{v}:{}", langs.join(","))
    }
}

/// The PP-OCR model sets a configuration reads with, checksums verified: the main one (none for
/// `--engine tesseract`) and the ones preferred for some scripts' photos.
pub struct ModelPlan<'r> {
    pub main: Option<&'r OcrSpec>,
    pub alt: Vec<(&'r OcrSpec, Vec<&'static str>)>,
    /// The handwriting classifier every line is given to ([`crate::style`]).
    pub style: Option<&'r StyleSpec>,
    /// The reader of Arabic-Indic digits, when lines may be in the Arabic script ([`crate::digits`]).
    pub digits: Option<&'r DigitsSpec>,
}

/// The version of what OCR does around its models, in the cache key: photos read under older
/// rules are read again. 2: tilted lines kept by their own pixels (`db::line_blob`); 3: the
/// style classifier sees a line the way up a re-reading pack turned it; 4: large photos searched
/// by an overview and windows where it saw small text ([`crate::search`]), tall boxes cut from
/// a shrunk copy ([`crate::crop::crop_line`]); 5: large looks and nearly high lines seen at
/// half resolution, textures neither kept nor looked at, large crops sampled bilinearly, short
/// lines recognised at 160 px; 6: a pack's reading of numbers in its own script's digits counts,
/// a line boxed twice and read alike kept once, a pack's doubtful reading of its own script tried
/// on the gray crop too; 7: lines that run into a thick blob in the map peeled from it, and a
/// line's band without the thin tail that joined it to the next ([`crate::db::boxes`]); 8: numbers
/// in Arabic-Indic digits read by the digit reader ([`crate::digits`]); 9: boxes of lines joined
/// in the map and read as little searched again on their crop (`PpOcr::look_closer`); 10: lines
/// mixing a script PP-OCR lacks with Latin words read by the pack with English ([`read_mixed`]),
/// Tesseract's direction marks left out; 11: boxes read with doubt that hold two bands of ink
/// searched again too, a confident box parted into the lines found in it, Latin readings with
/// digits and turned lines (both ways up) given to the digit reader.
pub const RULES: &str = "rules11";

/// The style classifier of models.toml that OCR runs on every line.
pub const STYLE_MODEL: &str = "handwriting";
/// The digit reader of models.toml for lines that may be in the Arabic script.
pub const DIGITS_MODEL: &str = "arabic";

impl<'r> ModelPlan<'r> {
    /// `models` is the main set's name in the registry.
    pub fn new(reg: &'r Registry, models: &str, config: &ReaderConfig) -> Result<Self, OcrError> {
        let style = Some(reg.verified_style(STYLE_MODEL)?);
        if config.engine == Engine::Tesseract {
            return Ok(ModelPlan { main: None, alt: Vec::new(), style, digits: None });
        }
        let arabic = config.engine == Engine::Auto
            && config.tesseract_languages().iter().any(|l| script::of_language(l) == Some("Arabic"));
        let digits = if arabic { Some(reg.verified_digits(DIGITS_MODEL)?) } else { None };
        let main = reg.verified_ocr(models)?;
        let alt = config
            .model_choices(models)
            .into_iter()
            .map(|(name, scripts)| Ok((reg.verified_ocr(name)?, scripts)))
            .collect::<Result<Vec<_>, OcrError>>()?;
        Ok(ModelPlan { main: Some(main), alt, style, digits })
    }

    /// One worker's reader: every model set loaded with `threads` threads, searching photos in
    /// tiles of `tile` pixels.
    pub fn load(&self, config: &ReaderConfig, tile: Option<u32>, threads: usize) -> Result<Reader, OcrError> {
        let load = |spec: &OcrSpec| -> Result<PpOcr, OcrError> {
            let mut pp = PpOcr::load(spec, threads)?;
            pp.params.tile = tile;
            pp.params.min_confidence = config.min_confidence;
            pp.params.enhance = config.enhance;
            Ok(pp)
        };
        let mut reader = Reader::new(self.main.map(load).transpose()?, config.clone())?;
        for (spec, scripts) in &self.alt {
            reader.add_models(load(spec)?, scripts.clone());
        }
        if let Some(spec) = self.style {
            reader.style = Some(StyleClassifier::load(&spec.model.path)?);
        }
        if let Some(spec) = self.digits {
            reader.digits = Some(DigitReader::load(&spec.model.path, threads)?);
        }
        Ok(reader)
    }

    /// The key results are cached under: each model set's name and file checksums, the tiling and
    /// the version of the rules around the models ([`RULES`]), then the reader (engine, Tesseract
    /// version and packs).
    pub fn key(&self, tile: Option<u32>, config: &ReaderConfig) -> String {
        let short = |s: &str| s.chars().take(12).collect::<String>();
        let set = |s: &OcrSpec| {
            format!("{}:{}:{}:{}", s.name, short(&s.det.sha256), short(&s.cls.sha256), short(&s.rec.sha256))
        };
        let mut key = String::new();
        if let Some(m) = self.main {
            key += &format!("{}:{}:{}:", set(m), tile.map_or("whole".to_owned(), |t| format!("tile{t}")), RULES);
        }
        for (spec, scripts) in &self.alt {
            key += &format!("{}({}):", set(spec), scripts.join(","));
        }
        for s in self.style.iter().chain(&self.digits) {
            key += &format!("{}:{}:", s.name, short(&s.model.sha256));
        }
        key + &config.key()
    }
}

/// The engines of one worker thread.
pub struct Reader {
    pp: Option<PpOcr>,
    /// Model sets for photos hinted to be in these scripts.
    alt: Vec<(PpOcr, Vec<&'static str>)>,
    packs: Vec<Pack>,
    config: ReaderConfig,
    /// Tells handwritten lines from typed ones.
    style: Option<StyleClassifier>,
    /// Reads numbers in Arabic-Indic digits.
    digits: Option<DigitReader>,
}

struct Pack {
    tess: Tesseract,
    lang: String,
    script: &'static str,
    /// A Latin language PP-OCR finds but cannot spell: Tesseract re-spells PP-OCR's lines.
    respell: bool,
    /// The pack with English (`ara+eng`), for lines that mix the script with Latin words
    /// ([`read_mixed`]); loaded when first needed, `Some(None)` when it could not be.
    mixed: Option<Option<Tesseract>>,
}

/// A Tesseract reading replaces PP-OCR's only when it is at least this confident and has at least
/// two letters of its pack's script (a wrong pack reads noise or another script as a digit or a
/// stray mark, often with a high confidence).
const ACCEPT: f32 = 0.6;
/// For a box PP-OCR could not read at all (below the confidence floor: mostly texture — leaves,
/// grain, fabric), Tesseract must be this confident and read at least three letters. Measured on
/// the 245 text-free ifct-dev food photos with every pack tried: 10 invented lines at the plain
/// bar, 2 at this one; on the generated set CER 0.168 → 0.169 (a bar of 0.85 cost 0.023).
const ACCEPT_UNREAD: f32 = 0.75;
/// Digits of a pack's own script (Devanagari, Bengali, Arabic-Indic, Thai) that stand in for its
/// letters in a reading of numbers only.
const SCRIPT_DIGITS: usize = 4;
/// Once a reading is this confident, the other packs (and the line upside down) are not tried.
const ENOUGH: f32 = 0.85;
/// The digit reader's reading of a line replaces the others' when it is at least this confident
/// (the mean probability of its classes) and has at least [`SCRIPT_DIGITS`] Arabic-Indic digits,
/// more than they read digits of any kind, and few Latin ones ([`crate::digits::merge`]).
const DIGITS_ACCEPT: f32 = 0.8;

impl Reader {
    /// Loads the Tesseract packs `config` needs; `pp` is required unless the engine is `tesseract`.
    pub fn new(pp: Option<PpOcr>, config: ReaderConfig) -> Result<Self, OcrError> {
        if pp.is_none() && config.engine != Engine::Tesseract {
            return Err(OcrError::Shape("the PP-OCR models are needed for engines auto and ppocr".into()));
        }
        let mut packs = Vec::new();
        for lang in config.tesseract_languages() {
            let script = script::of_language(&lang).unwrap_or("Latin");
            let respell = config.engine == Engine::Auto && script::ppocr_reads(script);
            if respell && script::exemplar_letters(&lang).is_none_or(|e| pp.as_ref().is_some_and(|p| p.can_spell(e))) {
                continue;
            }
            packs.push(Pack { tess: Tesseract::new(&lang)?, lang, script, respell, mixed: None });
        }
        Ok(Reader { pp, alt: Vec::new(), packs, config, style: None, digits: None })
    }

    /// Uses `pp` instead of the main model set for photos whose hinted languages are in `scripts`.
    pub fn add_models(&mut self, pp: PpOcr, scripts: Vec<&'static str>) {
        self.alt.push((pp, scripts));
    }

    /// The text lines of an upright or sideways photo, in reading order.
    pub fn read(&mut self, img: &RgbImage) -> Result<Vec<TextLine>, OcrError> {
        self.read_hinted(img, None)
    }

    /// As [`Reader::read`], with the photo's languages when known (a manifest's country, say):
    /// only the Tesseract packs of those languages are tried.
    pub fn read_hinted(&mut self, img: &RgbImage, langs: Option<&[String]>) -> Result<Vec<TextLine>, OcrError> {
        Ok(self.read_page(img, langs)?.lines)
    }

    /// The lines read, and the boxes found but not read with the configured confidence; each
    /// with its probability of being handwritten when a style classifier is loaded.
    pub fn read_page(&mut self, img: &RgbImage, langs: Option<&[String]>) -> Result<Page, OcrError> {
        let min = self.config.min_confidence;
        let hinted: Vec<&str> = langs.unwrap_or_default().iter().filter_map(|l| script::of_language(l)).collect();
        let alt = self.alt.iter().position(|(_, scripts)| scripts.iter().any(|s| hinted.contains(s)));
        let pp = match alt {
            Some(i) => Some(&mut self.alt[i].0),
            None => self.pp.as_mut(),
        };
        let lines: Vec<(TextLine, Option<RgbImage>)> = match (self.config.engine, pp) {
            (Engine::Tesseract, _) | (_, None) => self.tesseract_page(img).into_iter().map(|l| (l, None)).collect(),
            (Engine::Ppocr, Some(pp)) => pp.read_all(img)?.into_iter().map(|(l, c)| (l, Some(c))).collect(),
            (Engine::Auto, Some(pp)) => {
                let usable = |p: &Pack| langs.is_none_or(|l| l.contains(&p.lang));
                let respell: Vec<usize> =
                    (0..self.packs.len()).filter(|&i| self.packs[i].respell && usable(&self.packs[i])).collect();
                // Packs that read this photo's earlier lines are tried first.
                let mut order: Vec<usize> =
                    (0..self.packs.len()).filter(|&i| !self.packs[i].respell && usable(&self.packs[i])).collect();
                let arabic = self.packs.iter().any(|p| p.script == "Arabic" && usable(p));
                let mut out = Vec::new();
                for (mut line, mut crop) in pp.read_all(img)? {
                    let turned = line.turned;
                    // Anything but Latin goes to the other scripts' packs whatever its confidence:
                    // PP-OCR reads unknown scripts as confident Chinese, Japanese or bare digits.
                    let foreign = line.script != "Latin";
                    // A Latin-looking reading may also be PP-OCR's guess at another script:
                    // what the re-spelling packs do not confirm goes on to the other packs.
                    let respelled = line.script == "Latin"
                        && !respell.is_empty()
                        && respell_line(&mut self.packs, &respell, &mut line, &crop);
                    if !respelled
                        && !order.is_empty()
                        && (line.confidence < self.config.retry_below || foreign)
                        && let Some(k) = retry(&mut self.packs, &order, &mut line, &crop, min)
                    {
                        order.retain(|&i| i != k);
                        order.insert(0, k);
                    }
                    // Latin words around a gap where PP-OCR saw letters it has not: the line mixes
                    // in another script (an Arabic address with a Latin street name).
                    if line.script == "Latin" && has_gap(&line.text) {
                        read_mixed(&mut self.packs, &order, &mut line, &crop);
                    }
                    // A pack that read the line the other way up turned it: the crop goes on (to
                    // the style classifier) the way the line was read, not upside down.
                    if line.turned != turned {
                        crop = image::imageops::rotate180(&crop);
                    }
                    if arabic
                        && let Some(digits) = &mut self.digits
                        && read_digits(digits, &mut line, &crop)?
                    {
                        crop = image::imageops::rotate180(&crop);
                    }
                    out.push((line, Some(crop)));
                }
                out
            }
        };
        let mut page = Page::default();
        for (mut line, crop) in lines {
            if let Some(style) = &self.style {
                let crop = crop.unwrap_or_else(|| crop::crop_quad(img, &line.quad));
                line.handwriting = style.handwriting(std::slice::from_ref(&crop))?.first().copied();
            }
            if line.confidence >= min { page.lines.push(line) } else { page.unread.push(line) }
        }
        drop_repeats(&mut page.lines);
        Ok(page)
    }

    fn tesseract_page(&mut self, img: &RgbImage) -> Vec<TextLine> {
        let Some(p) = self.packs.first_mut() else { return Vec::new() };
        let engine = format!("tesseract:{}", p.lang);
        p.tess
            .read_page(img)
            .into_iter()
            .map(|p| {
                let [l, t, r, b] = p.bbox.map(|v| v as f32);
                TextLine {
                    quad: [[l, t], [r, t], [r, b], [l, b]],
                    script: script::of_text(&p.text).to_owned(),
                    text: p.text,
                    confidence: p.confidence,
                    turned: false,
                    engine: engine.clone(),
                    handwriting: None,
                }
            })
            .collect()
    }
}

/// Reads `crop` with the packs in `order`, each both ways up (PP-OCR's line classifier knows
/// Latin and Chinese, not Bengali or Thai), and replaces the line's reading with the most
/// confident acceptable one if it beats PP-OCR's. Returns the pack that won.
fn retry(packs: &mut [Pack], order: &[usize], line: &mut TextLine, crop: &RgbImage, min: f32) -> Option<usize> {
    let (accept, min_letters) = if line.confidence < min { (ACCEPT_UNREAD, 3) } else { (ACCEPT, 2) };
    let flipped = image::imageops::rotate180(crop);
    let mut best: Option<(usize, String, f32, bool)> = None;
    for &k in order {
        let p = &mut packs[k];
        for (img, turned) in [(crop, line.turned), (&flipped, !line.turned)] {
            let script = p.script;
            let own = |c: char| script::of_char(c) == Some(script);
            // A number in the script's own digits (`+९१ ८१२५२ ७७४६२`, which PP-OCR reads as
            // Japanese) has no letters: four of its digits prove the pack as well.
            let proven = |t: &str| {
                t.chars().filter(|&c| c.is_alphabetic() && own(c)).count() >= min_letters
                    || t.chars().filter(|&c| c.is_numeric() && own(c)).count() >= SCRIPT_DIGITS
            };
            let (mut text, mut conf) = p.tess.read_line(img, binarise(script));
            // The pack's script, read with too little confidence from our threshold: the gray crop
            // once more (a Bengali address line: 0.71 thresholded, 0.78 gray).
            if binarise(script) && conf < accept && proven(&text) {
                let (t, c) = p.tess.read_line(img, false);
                if c > conf {
                    (text, conf) = (t, c);
                }
            }
            if proven(&text) && conf >= accept && best.as_ref().is_none_or(|b| conf > b.2) {
                best = Some((k, text, conf, turned));
            }
            // Read this well the way it lies, the line is not tried upside down.
            if best.as_ref().is_some_and(|b| b.2 >= ENOUGH) {
                break;
            }
        }
        if best.as_ref().is_some_and(|b| b.2 >= ENOUGH) {
            break;
        }
    }
    // PP-OCR reads a script it does not know as confident Chinese or Japanese (`と3866とりと82 88+`
    // for a Devanagari number): a reading in a script no pack of the photo is for is a guess
    // whatever its confidence, and a pack's reading of its own script replaces it.
    let guess = !matches!(line.script.as_str(), "Latin" | "Common") && !packs.iter().any(|p| p.script == line.script);
    let (k, text, conf, turned) = best.filter(|b| guess || b.2 > line.confidence)?;
    replace(line, &packs[k].lang, text, conf);
    line.turned = turned;
    Some(k)
}

/// PP-OCR's trace, inside a line it read as Latin, of letters its character list lacks: a run of
/// spaces where they were (`Lge t. 276   97621` for `97621 آل حسين Lodge Apt. 276`).
fn has_gap(text: &str) -> bool {
    text.trim().contains("  ")
}

/// Reads a line that mixes scripts with each pack in `order` of a script PP-OCR lacks, together
/// with English (`ara+eng`: Tesseract reads both of the line's scripts, where the pack alone reads
/// the Latin words as its own letters and PP-OCR leaves out the others). The most confident
/// reading with at least two letters of the pack's script replaces PP-OCR's, whose gap shows that
/// it left words out, however confident it was about the rest. Returns whether one did.
fn read_mixed(packs: &mut [Pack], order: &[usize], line: &mut TextLine, crop: &RgbImage) -> bool {
    let mut best: Option<(usize, String, f32)> = None;
    for &k in order {
        let p = &mut packs[k];
        if p.script == "Latin" {
            continue;
        }
        let (script, lang) = (p.script, format!("{}+eng", p.lang));
        let tess = p.mixed.get_or_insert_with(|| {
            Tesseract::new(&lang).inspect_err(|e| tracing::warn!("lines mixing scripts not re-read: {e}")).ok()
        });
        let Some(tess) = tess else { continue };
        let own = |t: &str| t.chars().filter(|&c| c.is_alphabetic() && script::of_char(c) == Some(script)).count();
        let mut reading = tess.read_line(crop, binarise(script));
        if binarise(script) && reading.1 < ACCEPT {
            let gray = tess.read_line(crop, false);
            if gray.1 > reading.1 {
                reading = gray;
            }
        }
        let (text, conf) = reading;
        if own(&text) >= 2 && conf >= ACCEPT && best.as_ref().is_none_or(|b| conf > b.2) {
            best = Some((k, text, conf));
        }
    }
    let Some((k, text, conf)) = best else { return false };
    replace(line, &format!("{}+eng", packs[k].lang), text, conf);
    true
}

/// Reads a line with the digit reader unless it was read as confident Latin words (and not turned), and takes the
/// reading's numbers in Arabic-Indic digits when the others missed them ([`crate::digits::merge`]).
/// Returns whether the line was taken the other way up than `crop`.
fn read_digits(digits: &mut DigitReader, line: &mut TextLine, crop: &RgbImage) -> Result<bool, OcrError> {
    let latin_letters = line.text.chars().filter(|&c| script::of_char(c) == Some("Latin") && c.is_alphabetic()).count();
    // A line the classifier turned upside down may be a line of Arabic-Indic digits PP-OCR read
    // as confident Latin the wrong way up ("LLb 10 LIM (AVO+" for "+٥٨٢١ ٣١٦ ٥١ ٩٦٦", photo 078
    // of the personal-data set): those are read by the digit reader too. (All Latin lines with
    // digits cost two handwritten notes of the set their e-mail and address, read as digits.)
    if line.script == "Latin" && line.confidence >= ENOUGH && latin_letters >= 3 && !line.turned {
        return Ok(false);
    }
    let (mut reading, mut conf) = digits.read(crop)?;
    // The line classifier, which never saw Arabic-Indic digits, may have turned their line upside
    // down (photo 078 again): a turned line is read the other way up too, the surer reading kept.
    let mut back = false;
    if line.turned {
        let (other, c) = digits.read(&image::imageops::rotate180(crop))?;
        if c > conf {
            (reading, conf, back) = (other, c, true);
        }
    }
    if conf >= DIGITS_ACCEPT
        && let Some(text) = crate::digits::merge(&line.text, &reading, SCRIPT_DIGITS)
    {
        line.script = "Arabic".into();
        line.engine = format!("digits:{DIGITS_MODEL}");
        line.text = text;
        line.confidence = conf;
        line.turned ^= back;
        return Ok(back);
    }
    Ok(false)
}

/// Reads a Latin line again with the packs of languages PP-OCR cannot spell (Vietnamese) and
/// takes Tesseract's spelling when it agrees with PP-OCR's on the base letters (at most a
/// quarter of them differ) — PP-OCR drops the letters it lacks, Tesseract keeps the marks.
/// Returns whether the line was re-spelled.
fn respell_line(packs: &mut [Pack], usable: &[usize], line: &mut TextLine, crop: &RgbImage) -> bool {
    let pp_base = script::base_letters(&line.text);
    for &k in usable {
        let (text, conf) = packs[k].tess.read_line(crop, binarise(packs[k].script));
        let base = script::base_letters(&text);
        let differ = strsim::levenshtein(&base, &pp_base) as f32;
        if conf >= ACCEPT && !text.is_empty() && differ <= 0.25 * base.chars().count().max(1) as f32 {
            let keep = line.confidence.min(conf);
            replace(line, &packs[k].lang, text, keep);
            return true;
        }
    }
    false
}

/// Whether Tesseract gets a script's line crops thresholded by us. Measured on the generated set
/// (bench/results/ocr_eval.md): CER Bengali 0.330 → 0.267, Arabic 0.318 → 0.276, Devanagari
/// 0.177 → 0.161 with our Otsu threshold, but Thai 0.540 → 0.596 (its thin marks above and below
/// the line break up), Vietnamese unchanged.
fn binarise(script: &str) -> bool {
    !matches!(script, "Thai" | "Latin")
}

/// One line the detector boxed twice (a tilted line's tight box and a looser one around it) and
/// the recognisers read alike in both: kept once, the more confident reading. Readings alike: the
/// same text but for one character in ten (at least one), the boxes' bounds sharing more than
/// half of the smaller one. Left in, the weaker copy is a line read with doubt that the release
/// rule holds a photo for, and a second line in the detection count.
fn drop_repeats(lines: &mut Vec<TextLine>) {
    use crate::db::{area, bounds, overlap};
    let mut gone = vec![false; lines.len()];
    for i in 0..lines.len() {
        for j in i + 1..lines.len() {
            if gone[i] || gone[j] {
                continue;
            }
            let (a, b) = (bounds(&lines[i].quad), bounds(&lines[j].quad));
            let shared = overlap(&a, &b) > 0.5 * area(&a).min(area(&b)).max(1e-6);
            let (x, y) = (lines[i].text.trim(), lines[j].text.trim());
            let n = x.chars().count().max(y.chars().count());
            let alike = n > 0 && strsim::levenshtein(x, y) <= (n / 10).max(1);
            if shared && alike {
                let weaker = if lines[j].confidence > lines[i].confidence { i } else { j };
                gone[weaker] = true;
            }
        }
    }
    let mut gone = gone.into_iter();
    lines.retain(|_| !gone.next().unwrap_or(false));
}

fn replace(line: &mut TextLine, lang: &str, text: String, conf: f32) {
    line.script = script::of_text(&text).to_owned();
    line.engine = format!("tesseract:{lang}");
    line.text = text;
    line.confidence = conf;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_inside_a_latin_reading_marks_letters_left_out() {
        assert!(has_gap("Lge t. 276   97621 "));
        assert!(!has_gap(" Lodge Apt. 276 "));
    }

    #[test]
    fn language_lists_split_on_commas_and_pluses() {
        assert_eq!(parse_languages("ben, eng+vie"), ["ben", "eng", "vie"]);
        assert!(parse_languages(" ,+").is_empty());
    }

    /// Photo 004_clean of the personal-data set: "Total KSh 1,250" read at 1.00 in its tight box
    /// and at 0.66 in a box twice as high around it; 091_clean: a Bengali line read twice, one
    /// letter apart.
    #[test]
    fn a_line_boxed_twice_and_read_alike_is_kept_once() {
        let line = |text: &str, conf: f32, [x0, y0, x1, y1]: [f32; 4]| TextLine {
            quad: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
            text: text.into(),
            confidence: conf,
            turned: false,
            engine: "test".into(),
            script: "Latin".into(),
            handwriting: None,
        };
        let mut lines = vec![
            line("Total KSh 1,250", 0.66, [100.0, 100.0, 345.0, 170.0]),
            line("Sugar 1 kg", 0.93, [100.0, 40.0, 212.0, 73.0]),
            line("Total KSh 1,250", 1.0, [108.0, 118.0, 337.0, 152.0]),
            line("ডিম ১ ভজন", 0.84, [100.0, 200.0, 241.0, 238.0]),
            line("ডিম ১ ডজন", 0.93, [100.0, 201.0, 241.0, 240.0]),
            // Alike but elsewhere, and overlapping but different: both kept.
            line("Sugar 1 kg", 0.90, [400.0, 40.0, 512.0, 73.0]),
            line("Total", 0.95, [108.0, 118.0, 180.0, 152.0]),
        ];
        drop_repeats(&mut lines);
        let kept: Vec<(&str, f32)> = lines.iter().map(|l| (l.text.as_str(), l.confidence)).collect();
        assert_eq!(
            kept,
            [
                ("Sugar 1 kg", 0.93),
                ("Total KSh 1,250", 1.0),
                ("ডিম ১ ডজন", 0.93),
                ("Sugar 1 kg", 0.90),
                ("Total", 0.95)
            ]
        );
    }
}
