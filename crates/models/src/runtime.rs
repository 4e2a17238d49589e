//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`): crowdsift does
//! not bundle it. Search order: `ORT_DYLIB_PATH`; next to the crowdsift executable; an installed
//! Python `onnxruntime` package (`pip install onnxruntime`); the system library folders.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::error::{ModelError, ModelErrorKind};

const LIB_PREFIX: &str = "libonnxruntime.so";

/// The first file in `dir` named `libonnxruntime.so*` (the versioned name sorts last, so prefer it).
fn lib_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(LIB_PREFIX) && !n.contains("providers") && p.is_file())
        })
        .collect();
    found.sort();
    found.pop()
}

fn python_package_dir() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args(["-c", "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))"])
        .output()
        .ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi"))
}

/// Where the ONNX Runtime library is, or an error that says how to install it.
pub fn locate() -> Result<PathBuf, ModelError> {
    let mut searched = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        searched.push(format!("ORT_DYLIB_PATH={} (not a file)", p.display()));
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_owned)) {
        dirs.push(exe_dir);
    }
    if let Some(py) = python_package_dir() {
        dirs.push(py);
    }
    dirs.extend(
        ["/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"].map(PathBuf::from),
    );
    for d in &dirs {
        if let Some(lib) = lib_in(d) {
            return Ok(lib);
        }
        searched.push(d.display().to_string());
    }
    Err(ModelError::new(
        ModelErrorKind::Runtime,
        format!(
            "ONNX Runtime not found (looked in: {}). Install it with `pip install onnxruntime` \
             (>= 1.31), or set ORT_DYLIB_PATH to libonnxruntime.so",
            searched.join(", ")
        ),
    ))
}

static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The process-wide ONNX Runtime environment (ONNX Runtime allows one per process).
pub fn environment() -> Result<&'static Environment, ModelError> {
    let env = ENV.get_or_init(|| {
        let lib = locate().map_err(|e| e.to_string())?;
        tracing::debug!("loading ONNX Runtime from {}", lib.display());
        ort::init_from(&lib)
            .map_err(|e| format!("loading ONNX Runtime from {}: {e}", lib.display()))?
            .with_name("crowdsift")
            .build()
            .map_err(|e| format!("starting ONNX Runtime from {}: {e}", lib.display()))
    });
    env.as_ref().map_err(|e| ModelError::new(ModelErrorKind::Runtime, e.clone()))
}
