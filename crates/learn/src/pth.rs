//! Reading PyTorch state dicts (`.pth`): the zip format of torch ≥ 1.6 through candle, and the
//! legacy format the backbones' weights ship in (written by `torch.save` before 1.6), which
//! candle does not read.
//!
//! The legacy file is a run of pickles — magic number, protocol version, system info, the state
//! dict (tensors refer to storages by key), the list of storage keys — followed by each storage
//! as a little-endian `u64` element count and the raw elements. candle's unpickler parses the
//! pickles; the magic number is checked byte for byte because it is an 80-bit integer.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

use crate::error::LearnError;

/// `torch.save`'s legacy magic number 0x1950a86a20f9469cfc6c, pickled with protocol 2.
const LEGACY_MAGIC: [u8; 15] =
    [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];

/// Every tensor of the state dict at `path`, by name, as f32 on the CPU.
pub fn load(path: &Path) -> Result<HashMap<String, Tensor>, LearnError> {
    let err = |e: &dyn std::fmt::Display| LearnError::file(path, e.to_string());
    let mut f = BufReader::new(std::fs::File::open(path).map_err(|e| err(&e))?);
    let head = f.fill_buf().map_err(|e| err(&e))?;
    if !head.starts_with(&LEGACY_MAGIC) {
        let file = candle_core::pickle::PthTensors::new(path, None).map_err(|e| err(&e))?;
        let mut out = HashMap::new();
        for name in file.tensor_infos().keys() {
            if let Some(t) = file.get(name).map_err(|e| err(&e))? {
                out.insert(name.clone(), t.to_dtype(DType::F32)?);
            }
        }
        return Ok(out);
    }
    f.consume(LEGACY_MAGIC.len());
    let pickle = |f: &mut BufReader<std::fs::File>| -> Result<Object, LearnError> {
        let mut stack = Stack::empty();
        stack.read_loop(f).map_err(|e| err(&e))?;
        stack.finalize().map_err(|e| err(&e))
    };
    let _protocol = pickle(&mut f)?;
    let _sys_info = pickle(&mut f)?;
    let Object::Dict(entries) = pickle(&mut f)? else {
        return Err(err(&"the state dict is not a dictionary"));
    };
    let mut infos = Vec::new();
    for (name, value) in entries {
        if let Some(info) = value.into_tensor_info(name, Path::new("")).map_err(|e| err(&e))? {
            infos.push(info);
        }
    }
    let Object::List(keys) = pickle(&mut f)? else {
        return Err(err(&"the storage key list is missing"));
    };
    let mut storages: HashMap<String, Vec<u8>> = HashMap::new();
    for key in keys {
        let key = key.unicode().map_err(|o| err(&format!("storage key {o:?}")))?;
        // The element size comes from the tensors using this storage.
        let elem = infos.iter().find(|i| i.path.trim_start_matches('/') == key).map_or(4, |i| i.dtype.size_in_bytes());
        let mut count = [0u8; 8];
        f.read_exact(&mut count).map_err(|e| err(&e))?;
        let bytes = usize::try_from(u64::from_le_bytes(count))
            .ok()
            .and_then(|n| n.checked_mul(elem))
            .filter(|&b| b <= 1 << 32)
            .ok_or_else(|| err(&format!("storage {key} is implausibly large")))?;
        let mut data = vec![0u8; bytes];
        f.read_exact(&mut data).map_err(|e| err(&format!("storage {key}: {e}")))?;
        storages.insert(key, data);
    }
    let mut out = HashMap::new();
    for info in infos {
        let key = info.path.trim_start_matches('/');
        let data = storages.get(key).ok_or_else(|| err(&format!("tensor {}: storage {key} missing", info.name)))?;
        if info.dtype != DType::F32 {
            continue; // e.g. batch norm's `num_batches_tracked` (int64), which nothing here reads
        }
        let storage: Vec<f32> = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let values =
            strided(&storage, info.layout.start_offset() / 4, info.layout.shape().dims(), info.layout.stride())
                .ok_or_else(|| err(&format!("tensor {} runs past its storage", info.name)))?;
        out.insert(info.name, Tensor::from_vec(values, info.layout.shape().clone(), &Device::Cpu)?);
    }
    Ok(out)
}

/// The elements of a strided view (`start`, `dims`, `strides` in elements) in row-major order, or
/// None if it reaches outside `storage`. State dicts hold transposed views (e.g. a linear layer's
/// weight), so contiguity cannot be assumed.
fn strided(storage: &[f32], start: usize, dims: &[usize], strides: &[usize]) -> Option<Vec<f32>> {
    let n: usize = dims.iter().product();
    let mut out = Vec::new();
    out.reserve_exact(n);
    let mut index = vec![0usize; dims.len()];
    for _ in 0..n {
        let offset = start + index.iter().zip(strides).map(|(i, s)| i * s).sum::<usize>();
        out.push(*storage.get(offset)?);
        for d in (0..dims.len()).rev() {
            index[d] += 1;
            if index[d] < dims[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_views_read_in_row_major_order() {
        let storage: Vec<f32> = (0..6).map(|v| v as f32).collect();
        // The transpose of a 2×3 matrix stored row-major.
        assert_eq!(strided(&storage, 0, &[3, 2], &[1, 3]).unwrap(), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert_eq!(strided(&storage, 2, &[2], &[1]).unwrap(), [2.0, 3.0]);
        assert!(strided(&storage, 5, &[2], &[1]).is_none());
    }

    #[test]
    fn garbage_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.pth");
        std::fs::write(&p, b"not a state dict").unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("w.pth"));
        let mut cut = LEGACY_MAGIC.to_vec();
        cut.extend_from_slice(&[0x80, 0x02]);
        std::fs::write(&p, &cut).unwrap();
        assert!(load(&p).is_err());
    }
}
