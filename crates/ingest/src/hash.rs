use sha2::{Digest, Sha256};

/// Lowercase hex of the SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lowercase hex of arbitrary bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// File name for a photo id: characters outside `[A-Za-z0-9._-]` become `_`, plus a hash of the
/// id so that two ids never share a file.
pub fn file_stem(id: &str) -> String {
    let safe: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).take(80).collect();
    format!("{safe}-{}", &sha256_hex(id.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_stems_are_safe_and_distinct() {
        let (a, b) = (file_stem("../x/y z"), file_stem("__x_y_z"));
        assert!(a.starts_with(".._x_y_z-") && !a.contains('/'));
        assert_ne!(a, b);
    }

    #[test]
    fn known_digest() {
        assert_eq!(super::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
