//! The collection-level duplicate stage: groups over everything in the store, one `exact_duplicate`
//! and one `near_duplicate` finding per decoded photo. In each group the largest photo (then the
//! first by id) is kept and the others are flagged, so a moderator removes copies, not originals.
//! A photo already flagged as an exact copy is not flagged again as a near duplicate.

use std::collections::HashMap;

use crowdsift_core::{Finding, Stage};
use crowdsift_quality::dups::{exact_groups, merge_groups, near_clusters};
use crowdsift_store::{DupKeys, Store};

use crate::scan::PipelineError;

fn finding(
    id: &str,
    check: &str,
    score: Option<f64>,
    threshold: Option<f64>,
    flagged: bool,
    detail: String,
) -> Finding {
    Finding {
        image_id: id.to_owned(),
        stage: Stage::Duplicates,
        check: check.to_owned(),
        score,
        threshold,
        flagged,
        reason: None,
        detail,
    }
}

/// The member kept in a group: most pixels, then first by id (indices are in id order).
fn keeper(keys: &[&DupKeys], group: &[u32]) -> u32 {
    let mut best = group[0];
    for &i in group {
        if keys[i as usize].pixels > keys[best as usize].pixels {
            best = i;
        }
    }
    best
}

fn list(keys: &[&DupKeys], group: &[u32], skip: u32) -> String {
    let names: Vec<&str> =
        group.iter().filter(|&&i| i != skip).take(5).map(|&i| keys[i as usize].id.as_str()).collect();
    let more = group.len() - 1 - names.len();
    if more > 0 { format!("{} and {more} more", names.join(", ")) } else { names.join(", ") }
}

/// Exact groups (same bytes or same decoded pixels), the kept photo of each copy, and near
/// clusters (perceptual hash) among one representative per exact group, as indices into `keys`.
struct Groups {
    exact: Vec<Vec<u32>>,
    copy_of: HashMap<u32, u32>,
    near: Vec<(u32, Vec<(u32, u32)>)>,
}

fn group(keys: &[&DupKeys], max_distance: u32) -> Groups {
    let n = keys.len();
    let bytes = exact_groups(&keys.iter().map(|k| k.sha256.as_str()).collect::<Vec<_>>());
    let pixels = exact_groups(&keys.iter().map(|k| k.pixel_sha256.as_deref()).collect::<Vec<_>>());
    let mut all_groups = bytes;
    all_groups.extend(pixels);
    let exact = merge_groups(n, &all_groups);
    let mut copy_of = HashMap::new();
    for g in &exact {
        let k = keeper(keys, g);
        copy_of.extend(g.iter().filter(|&&i| i != k).map(|&i| (i, k)));
    }
    // Near duplicates among one representative per exact group, largest photos first so that the
    // kept photo of each cluster is its largest.
    let mut reps: Vec<u32> = (0..n as u32).filter(|i| !copy_of.contains_key(i)).collect();
    reps.sort_by_key(|&i| (std::cmp::Reverse(keys[i as usize].pixels), i));
    let hashes: Vec<u64> = keys.iter().map(|k| k.phash.unwrap_or(0)).collect();
    let near = near_clusters(&hashes, &reps, max_distance);
    Groups { exact, copy_of, near }
}

pub fn findings(all: &[DupKeys], max_distance: u32) -> Vec<Finding> {
    let keys: Vec<&DupKeys> = all.iter().filter(|k| k.pixel_sha256.is_some()).collect();
    let n = keys.len();
    let Groups { exact, copy_of, near: clusters } = group(&keys, max_distance);

    let mut out: Vec<Option<Finding>> = vec![None; n];
    for g in &exact {
        let k = keeper(&keys, g);
        for &i in g {
            let key = keys[i as usize];
            let f = if i == k {
                finding(
                    &key.id,
                    "exact_duplicate",
                    Some(g.len() as f64),
                    None,
                    false,
                    format!("kept; exact copies: {}", list(&keys, g, k)),
                )
            } else {
                let same_bytes = key.sha256 == keys[k as usize].sha256;
                let what = if same_bytes { "same file bytes" } else { "same decoded pixels" };
                finding(
                    &key.id,
                    "exact_duplicate",
                    Some(g.len() as f64),
                    None,
                    true,
                    format!("{what} as {} (group of {})", keys[k as usize].id, g.len()),
                )
            };
            out[i as usize] = Some(f);
        }
    }
    let exact_rows: Vec<Finding> = out
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            f.unwrap_or_else(|| finding(&keys[i].id, "exact_duplicate", Some(1.0), None, false, "no exact copy".into()))
        })
        .collect();

    let mut near: Vec<Option<Finding>> = vec![None; n];
    for (leader, members) in clusters {
        let size = members.len() + 1;
        let lk = keys[leader as usize];
        let all: Vec<u32> = std::iter::once(leader).chain(members.iter().map(|m| m.0)).collect();
        near[leader as usize] = Some(finding(
            &lk.id,
            "near_duplicate",
            Some(0.0),
            Some(f64::from(max_distance)),
            false,
            format!("kept; near copies: {}", list(&keys, &all, leader)),
        ));
        for (i, d) in members {
            near[i as usize] = Some(finding(
                &keys[i as usize].id,
                "near_duplicate",
                Some(f64::from(d)),
                Some(f64::from(max_distance)),
                true,
                format!("looks like {} (perceptual hash differs in {d} of 64 bits; cluster of {size})", lk.id),
            ));
        }
    }
    let near_rows = near.into_iter().enumerate().map(|(i, f)| {
        f.unwrap_or_else(|| {
            let detail = match copy_of.get(&(i as u32)) {
                Some(&k) => format!("exact copy of {} (counted as exact_duplicate)", keys[k as usize].id),
                None => "no near copy".to_owned(),
            };
            finding(&keys[i].id, "near_duplicate", None, Some(f64::from(max_distance)), false, detail)
        })
    });
    exact_rows.into_iter().chain(near_rows).collect()
}

/// The screening stage's duplicate groups as photo ids: exact copies (bytes or pixels) and near
/// copies (perceptual hash, at the threshold of the latest scan that wrote duplicate findings).
/// A photo may appear in an exact and a near group; callers join overlapping groups.
pub(crate) fn known_groups(store: &Store) -> Result<Vec<Vec<String>>, PipelineError> {
    let max_distance = store
        .runs_owning(Stage::Duplicates)?
        .last()
        .and_then(|(_, cfg)| cfg.pointer("/quality/max_hash_distance")?.as_u64())
        .map_or(crowdsift_quality::Params::default().max_hash_distance, |d| d as u32);
    let all = store.dup_keys()?;
    let keys: Vec<&DupKeys> = all.iter().filter(|k| k.pixel_sha256.is_some()).collect();
    let g = group(&keys, max_distance);
    let id = |i: u32| keys[i as usize].id.clone();
    let mut out: Vec<Vec<String>> = g.exact.iter().map(|grp| grp.iter().map(|&i| id(i)).collect()).collect();
    out.extend(
        g.near
            .iter()
            .map(|(leader, members)| std::iter::once(*leader).chain(members.iter().map(|m| m.0)).map(id).collect()),
    );
    Ok(out)
}

/// Recomputes duplicate findings over the whole store.
pub fn detect(store: &mut Store, run_id: i64, max_distance: u32) -> Result<(), PipelineError> {
    let keys = store.dup_keys()?;
    store.replace_stage_findings(run_id, Stage::Duplicates, &findings(&keys, max_distance))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(id: &str, sha: &str, px: &str, phash: u64, pixels: u64) -> DupKeys {
        DupKeys { id: id.into(), sha256: sha.into(), pixels, pixel_sha256: Some(px.into()), phash: Some(phash) }
    }

    #[test]
    fn copies_are_flagged_once_and_the_largest_is_kept() {
        let keys = vec![
            k("a", "s1", "p1", 0xFFFF_0000_FFFF_0000, 100),
            k("b", "s1", "p1", 0xFFFF_0000_FFFF_0000, 100), // byte copy of a
            k("c", "s2", "p1", 0xFFFF_0000_FFFF_0000, 100), // same pixels as a, other bytes
            k("d", "s3", "p3", 0xFFFF_0000_FFFF_0003, 400), // near copy of a, larger
            k("e", "s4", "p4", 0x0123_4567_89AB_CDEF, 100), // unrelated
        ];
        let f = findings(&keys, 6);
        let get = |id: &str, check: &str| f.iter().find(|x| x.image_id == id && x.check == check).unwrap();
        assert!(!get("a", "exact_duplicate").flagged);
        assert!(get("b", "exact_duplicate").flagged);
        assert!(get("b", "exact_duplicate").detail.contains("same file bytes as a"));
        assert!(get("c", "exact_duplicate").detail.contains("same decoded pixels as a"));
        // a is the representative of {a,b,c}; d is larger, so d is kept and a is the near copy.
        assert!(get("a", "near_duplicate").flagged);
        assert_eq!(get("a", "near_duplicate").score, Some(2.0));
        assert!(!get("d", "near_duplicate").flagged);
        assert!(!get("b", "near_duplicate").flagged, "exact copies are not counted twice");
        assert!(!get("e", "near_duplicate").flagged && !get("e", "exact_duplicate").flagged);
        assert_eq!(f.len(), 10);
    }
}
