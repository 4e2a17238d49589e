use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ModelError, ModelErrorKind};

/// How a model wants its input image, exactly as its authors preprocessed training images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Name of the input tensor.
    pub name: String,
    /// Square side of the network input (after the centre crop).
    pub size: u32,
    /// Resize so the shortest side is this long (bicubic), then centre-crop `size`.
    pub resize_short_side: u32,
    /// Per-channel mean and standard deviation, in pixel units (0–255), RGB order:
    /// `x = (px − mean) / std`.
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Name of the embedding output tensor and its width.
    pub embedding: String,
    pub dim: usize,
    /// Name of the class-logits output, if any.
    #[serde(default)]
    pub logits: Option<String>,
}

/// A place where the backbone can be cut: the tensor entering block `block`. Fine-tuning trains
/// that block, the ones after it and the head convolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cut {
    pub tensor: String,
    pub block: usize,
}

/// The original PyTorch weights of a backbone, for fine-tuning its last blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinetuneSpec {
    /// `.pth` state dict, relative to models.toml.
    pub weights: PathBuf,
    pub sha256: String,
    /// How the state dict names its tensors (`efficientnet-lite` or `mobilenet-v2`).
    pub family: String,
    /// Index of the last block.
    pub last_block: usize,
    /// Cut points at the final resolution, nearest the output first: unfreezing `n` blocks cuts at
    /// `cuts[n - 1]`.
    pub cuts: Vec<Cut>,
    /// Resolved at load.
    #[serde(skip)]
    pub path: PathBuf,
}

impl FinetuneSpec {
    /// The weights file, with its checksum verified.
    pub fn verified_weights(&self) -> Result<&Path, ModelError> {
        verify_pinned(&self.path, &self.sha256)
    }
}

/// One entry of models.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// File, relative to models.toml.
    pub file: PathBuf,
    pub sha256: String,
    pub source: String,
    pub license: String,
    pub input: InputSpec,
    pub output: OutputSpec,
    /// How to fine-tune this backbone, when its original weights ship too.
    #[serde(default)]
    pub finetune: Option<FinetuneSpec>,
    /// Resolved at load: the absolute path and the registry name.
    #[serde(skip)]
    pub path: PathBuf,
    #[serde(skip)]
    pub name: String,
}

/// A file a model set needs, with its pinned checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedFile {
    /// Relative to models.toml.
    pub file: PathBuf,
    pub sha256: String,
    /// Resolved at load.
    #[serde(skip)]
    pub path: PathBuf,
}

impl PinnedFile {
    /// The file, with its checksum verified.
    pub fn verified(&self) -> Result<&Path, ModelError> {
        verify_pinned(&self.path, &self.sha256)
    }
}

/// `path` if its SHA-256 is `pinned`, else an integrity error naming both.
fn verify_pinned<'a>(path: &'a Path, pinned: &str) -> Result<&'a Path, ModelError> {
    let got = sha256_file(path)?;
    if got != pinned {
        return Err(ModelError::new(
            ModelErrorKind::Integrity,
            format!("{} has sha256 {got}, models.toml pins {pinned}", path.display()),
        ));
    }
    Ok(path)
}

/// A PP-OCR model set (`[ocr.NAME]` in models.toml): DB text detector, 0°/180° line classifier,
/// CTC recogniser and its character list, with how the detector wants its input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcrSpec {
    pub source: String,
    pub license: String,
    pub det: PinnedFile,
    pub cls: PinnedFile,
    pub rec: PinnedFile,
    /// One character per line; the recogniser's classes are blank, these, then a space.
    pub dict: PinnedFile,
    /// Detector input: per-channel mean and standard deviation of px/255, in B, G, R order.
    pub det_mean: [f32; 3],
    pub det_std: [f32; 3],
    /// Resize so that the longer side is at most (`max`) or the shorter side at least (`min`)
    /// `det_side`, then round both sides to multiples of 32.
    pub det_side: u32,
    pub det_limit: String,
    /// Dilate the binarised probability map by 2 × 2 before finding boxes.
    #[serde(default)]
    pub det_dilate: bool,
    #[serde(skip)]
    pub name: String,
}

impl OcrSpec {
    /// Refuses the set if any file's SHA-256 differs from the pinned one.
    pub fn verify(&self) -> Result<(), ModelError> {
        for f in [&self.det, &self.cls, &self.rec, &self.dict] {
            f.verified()?;
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    model: BTreeMap<String, ModelSpec>,
    #[serde(default)]
    ocr: BTreeMap<String, OcrSpec>,
    #[serde(default)]
    face: BTreeMap<String, FaceSpec>,
    #[serde(default)]
    style: BTreeMap<String, StyleSpec>,
    #[serde(default)]
    digits: BTreeMap<String, DigitsSpec>,
}

/// A model of one file that OCR runs on each text line: a style classifier (`[style.NAME]` in
/// models.toml: safetensors weights of `crowdsift_ocr::style`; it gives a probability, what counts
/// as handwriting is the release rule's threshold, `crowdsift_pii::safety`) or a digit reader
/// (`[digits.NAME]`: ONNX, `crowdsift_ocr::digits`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineModelSpec {
    pub source: String,
    pub license: String,
    pub model: PinnedFile,
    #[serde(skip)]
    pub name: String,
}

/// A face detector (`[face.NAME]` in models.toml): one ONNX file and the score a face must reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceSpec {
    pub source: String,
    pub license: String,
    pub model: PinnedFile,
    pub threshold: f32,
    #[serde(skip)]
    pub name: String,
}

/// A registry entry made of one model file.
trait OneFile {
    fn parts(&mut self) -> (&mut PinnedFile, &mut String);
}

impl OneFile for FaceSpec {
    fn parts(&mut self) -> (&mut PinnedFile, &mut String) {
        (&mut self.model, &mut self.name)
    }
}

/// A text-line style classifier (`[style.NAME]`).
pub type StyleSpec = LineModelSpec;
/// A reader of the digits of a script PP-OCR lacks (`[digits.NAME]`).
pub type DigitsSpec = LineModelSpec;

impl OneFile for LineModelSpec {
    fn parts(&mut self) -> (&mut PinnedFile, &mut String) {
        (&mut self.model, &mut self.name)
    }
}

/// Entries of one model file each, with their file placed under `root` and their name set.
fn rooted<S: OneFile>(specs: BTreeMap<String, S>, root: &Path) -> BTreeMap<String, S> {
    specs
        .into_iter()
        .map(|(name, mut spec)| {
            let (file, n) = spec.parts();
            file.path = root.join(&file.file);
            *n = name.clone();
            (name, spec)
        })
        .collect()
}

/// The models of a checkout or installation, from `models.toml`.
#[derive(Debug, Clone)]
pub struct Registry {
    pub root: PathBuf,
    models: BTreeMap<String, ModelSpec>,
    ocr: BTreeMap<String, OcrSpec>,
    face: BTreeMap<String, FaceSpec>,
    style: BTreeMap<String, StyleSpec>,
    digits: BTreeMap<String, DigitsSpec>,
}

fn config_err(msg: impl Into<String>) -> ModelError {
    ModelError::new(ModelErrorKind::Config, msg)
}

/// `name` in one section of models.toml, else a configuration error listing what it holds.
fn lookup<'a, T>(section: &'a BTreeMap<String, T>, what: &str, name: &str) -> Result<&'a T, ModelError> {
    section.get(name).ok_or_else(|| {
        let known: Vec<&str> = section.keys().map(String::as_str).collect();
        config_err(format!("unknown {what} `{name}` (known: {})", known.join(", ")))
    })
}

/// SHA-256 (hex) of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| ModelError::new(ModelErrorKind::Integrity, format!("model file {}: {e}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| ModelError::new(ModelErrorKind::Integrity, format!("reading {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

impl Registry {
    /// Reads a models.toml.
    pub fn load(path: &Path) -> Result<Registry, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| config_err(format!("{}: {e}", path.display())))?;
        let file: File = toml::from_str(&text).map_err(|e| config_err(format!("{}: {e}", path.display())))?;
        let root = path.parent().map(Path::to_owned).unwrap_or_default();
        let models = file
            .model
            .into_iter()
            .map(|(name, mut spec)| {
                spec.path = root.join(&spec.file);
                if let Some(f) = &mut spec.finetune {
                    f.path = root.join(&f.weights);
                }
                spec.name = name.clone();
                (name, spec)
            })
            .collect();
        let ocr = file
            .ocr
            .into_iter()
            .map(|(name, mut spec)| {
                for f in [&mut spec.det, &mut spec.cls, &mut spec.rec, &mut spec.dict] {
                    f.path = root.join(&f.file);
                }
                spec.name = name.clone();
                (name, spec)
            })
            .collect();
        let face = rooted(file.face, &root);
        let style = rooted(file.style, &root);
        let digits = rooted(file.digits, &root);
        Ok(Registry { root, models, ocr, face, style, digits })
    }

    /// Finds models.toml: `$CROWDSIFT_MODELS` (the file or its folder; several, separated like
    /// `PATH`, are read together — the models wheels, one per job, each ship their own), else the
    /// nearest one in the folders above the running executable or the current folder.
    pub fn discover() -> Result<Registry, ModelError> {
        if let Some(list) = std::env::var_os("CROWDSIFT_MODELS") {
            let mut merged: Option<Registry> = None;
            for p in std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()) {
                let one = Registry::load(&if p.is_dir() { p.join("models.toml") } else { p })?;
                merged = Some(match merged {
                    None => one,
                    Some(r) => r.with(one),
                });
            }
            return merged.ok_or_else(|| config_err("CROWDSIFT_MODELS is set but names no models.toml"));
        }
        let mut starts = Vec::new();
        if let Ok(exe) = std::env::current_exe() {
            starts.push(exe);
        }
        if let Ok(cwd) = std::env::current_dir() {
            starts.push(cwd.join("x"));
        }
        for start in &starts {
            for dir in start.ancestors().skip(1) {
                let candidate = dir.join("models.toml");
                if candidate.is_file() {
                    return Registry::load(&candidate);
                }
            }
        }
        Err(config_err(
            "models.toml not found above the crowdsift executable or the current folder; set CROWDSIFT_MODELS to it (from Python: pip install crowdsift[models])",
        ))
    }

    /// This registry with the models of `other` it lacks (a name both have keeps this one's).
    pub fn with(mut self, other: Registry) -> Registry {
        fn add<T>(to: &mut BTreeMap<String, T>, from: BTreeMap<String, T>) {
            for (name, spec) in from {
                to.entry(name).or_insert(spec);
            }
        }
        add(&mut self.models, other.models);
        add(&mut self.ocr, other.ocr);
        add(&mut self.face, other.face);
        add(&mut self.style, other.style);
        add(&mut self.digits, other.digits);
        self
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// The OCR model set `name`, with every file's checksum verified.
    pub fn verified_ocr(&self, name: &str) -> Result<&OcrSpec, ModelError> {
        let spec = lookup(&self.ocr, "OCR models", name)?;
        spec.verify()?;
        Ok(spec)
    }

    /// The face detector `name`, with its file's checksum verified.
    pub fn verified_face(&self, name: &str) -> Result<&FaceSpec, ModelError> {
        let spec = lookup(&self.face, "face detector", name)?;
        spec.model.verified()?;
        Ok(spec)
    }

    /// The text-line style classifier `name`, with its file's checksum verified.
    pub fn verified_style(&self, name: &str) -> Result<&StyleSpec, ModelError> {
        let spec = lookup(&self.style, "style classifier", name)?;
        spec.model.verified()?;
        Ok(spec)
    }

    /// The digit reader `name`, with its file's checksum verified.
    pub fn verified_digits(&self, name: &str) -> Result<&DigitsSpec, ModelError> {
        let spec = lookup(&self.digits, "digit reader", name)?;
        spec.model.verified()?;
        Ok(spec)
    }

    /// The spec of `name`, with its file's checksum verified.
    pub fn verified(&self, name: &str) -> Result<&ModelSpec, ModelError> {
        let spec = lookup(&self.models, "model", name)?;
        spec.verify()?;
        Ok(spec)
    }
}

impl ModelSpec {
    /// A backbone as a user names it: a models.toml name (checksum verified), or PATH.onnx with
    /// its PATH.onnx.toml.
    pub fn backbone(model: &str) -> Result<ModelSpec, ModelError> {
        let path = Path::new(model);
        if model.ends_with(".onnx") || path.is_file() {
            return ModelSpec::from_onnx_file(path);
        }
        Ok(Registry::discover()?.verified(model)?.clone())
    }

    /// A spec for a user's own ONNX file: the input/output declaration comes from a TOML file next
    /// to it (`model.onnx.toml`, with the `[input]` and `[output]` tables of models.toml); its
    /// checksum is taken as it is.
    pub fn from_onnx_file(onnx: &Path) -> Result<ModelSpec, ModelError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Sidecar {
            #[serde(default)]
            source: Option<String>,
            #[serde(default)]
            license: Option<String>,
            input: InputSpec,
            output: OutputSpec,
        }
        let mut side = onnx.as_os_str().to_owned();
        side.push(".toml");
        let side = PathBuf::from(side);
        let text = std::fs::read_to_string(&side).map_err(|e| {
            config_err(format!(
                "{} needs an input spec in {} ([input] name, size, resize_short_side, mean, std; [output] embedding, dim): {e}",
                onnx.display(),
                side.display()
            ))
        })?;
        let s: Sidecar = toml::from_str(&text).map_err(|e| config_err(format!("{}: {e}", side.display())))?;
        Ok(ModelSpec {
            file: onnx.to_owned(),
            sha256: sha256_file(onnx)?,
            source: s.source.unwrap_or_else(|| "user-provided".to_owned()),
            license: s.license.unwrap_or_else(|| "unknown".to_owned()),
            input: s.input,
            output: s.output,
            finetune: None,
            path: onnx.to_owned(),
            name: onnx.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        })
    }

    /// Refuses a file whose SHA-256 differs from the pinned one.
    pub fn verify(&self) -> Result<(), ModelError> {
        let got = sha256_file(&self.path)?;
        if got != self.sha256 {
            return Err(ModelError::new(
                ModelErrorKind::Integrity,
                format!(
                    "model {} ({}) has sha256 {got}, models.toml pins {}: refusing to run a different model",
                    self.name,
                    self.path.display(),
                    self.sha256
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[model.tiny]
file = "tiny.onnx"
sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
source = "test"
license = "MIT"
input = { name = "input", size = 224, resize_short_side = 256, mean = [127.0, 127.0, 127.0], std = [128.0, 128.0, 128.0] }
output = { embedding = "embedding", dim = 1280 }
"#;

    #[test]
    fn checksums_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("models.toml"), TOML).unwrap();
        std::fs::write(dir.path().join("tiny.onnx"), b"abc").unwrap();
        let reg = Registry::load(&dir.path().join("models.toml")).unwrap();
        let spec = reg.verified("tiny").unwrap();
        assert_eq!(spec.input.size, 224);
        std::fs::write(dir.path().join("tiny.onnx"), b"abd").unwrap();
        let err = reg.verified("tiny").unwrap_err();
        assert_eq!(err.kind(), ModelErrorKind::Integrity);
        assert!(err.to_string().contains("refusing"), "{err}");
        assert!(reg.verified("nope").unwrap_err().to_string().contains("known: tiny"));
    }

    /// Models wheels of different jobs each ship a models.toml: read together, each file's models
    /// are found beside their own models.toml.
    #[test]
    fn registries_of_several_packages_are_read_together() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(a.path().join("models.toml"), TOML).unwrap();
        std::fs::write(a.path().join("tiny.onnx"), b"abc").unwrap();
        let other = TOML.replace("[model.tiny]", "[model.other]").replace("tiny.onnx", "other.onnx");
        std::fs::write(b.path().join("models.toml"), other).unwrap();
        std::fs::write(b.path().join("other.onnx"), b"abc").unwrap();
        let reg = Registry::load(&a.path().join("models.toml"))
            .unwrap()
            .with(Registry::load(&b.path().join("models.toml")).unwrap());
        assert_eq!(reg.names().collect::<Vec<_>>(), ["other", "tiny"]);
        assert_eq!(reg.verified("other").unwrap().path, b.path().join("other.onnx"));
        assert_eq!(reg.verified("tiny").unwrap().path, a.path().join("tiny.onnx"));
    }
}
