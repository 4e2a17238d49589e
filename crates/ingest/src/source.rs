use std::path::{Path, PathBuf};
use std::sync::Arc;

use crowdsift_core::{ImageRecord, Meta};
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use crate::error::{IngestError, IngestErrorKind};
use crate::fetch::Fetcher;
use crate::manifest;

/// Where the bytes of one photo are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

/// A photo to process: its record and where to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub record: ImageRecord,
    pub location: Location,
}

#[derive(Debug)]
enum Kind {
    Dir(PathBuf),
    Manifest {
        path: PathBuf,
        parquet: bool,
    },
    S3 {
        bucket: String,
        prefix: String,
    },
    /// Rows handed over in memory (a Spark partition, a table in Python): ids, uris as given.
    Records(Vec<ImageRecord>),
}

/// A photo collection: a folder, a manifest or an S3 prefix. Listing is lazy and ordered, so a
/// re-run visits photos in the same order and ids are stable.
#[derive(Debug)]
pub struct Source {
    kind: Kind,
    fetcher: Arc<Fetcher>,
    exclude: Option<PathBuf>,
}

pub type Items<'a> = Box<dyn Iterator<Item = Result<Item, IngestError>> + Send + 'a>;

/// Splits `s3://bucket/prefix` into bucket and prefix.
pub(crate) fn parse_s3(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

impl Source {
    /// Opens `spec`: an `s3://bucket/prefix`, a folder, or a CSV/Parquet manifest file (told apart
    /// by content, not extension).
    pub fn open(spec: &str, fetcher: Arc<Fetcher>) -> Result<Source, IngestError> {
        let kind = if let Some((bucket, prefix)) = parse_s3(spec) {
            Kind::S3 { bucket, prefix }
        } else {
            let path = PathBuf::from(spec);
            let meta = std::fs::metadata(&path).map_err(|e| {
                IngestError::with_source(IngestErrorKind::Source, format!("cannot open source {spec}"), e)
            })?;
            if meta.is_dir() { Kind::Dir(path) } else { Kind::Manifest { parquet: manifest::is_parquet(&path), path } }
        };
        Ok(Source { kind, fetcher, exclude: None })
    }

    /// Photos given as manifest rows in memory (a Spark task's partition, a table in Python), read
    /// with `fetcher`: no manifest file is written. Relative uris resolve against the current folder.
    pub fn records(records: Vec<ImageRecord>, fetcher: Arc<Fetcher>) -> Source {
        Source { kind: Kind::Records(records), fetcher, exclude: None }
    }

    /// Leaves out a folder inside the source (the run's own output folder).
    /// Opens `spec` with a fetcher of its own under `limits`, leaving out the output folder `out`
    /// should it lie inside (how every stage opens the photos it is given).
    pub fn open_for(spec: &str, out: &Path, limits: crowdsift_core::Limits) -> Result<Source, IngestError> {
        Ok(Source::open(spec, Arc::new(Fetcher::new(limits)))?.exclude(out))
    }

    pub fn exclude(mut self, dir: &Path) -> Self {
        self.exclude = dir.canonicalize().ok();
        self
    }

    pub fn fetcher(&self) -> &Arc<Fetcher> {
        &self.fetcher
    }

    /// A short description for logs and the runs table.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Dir(p) => format!("folder {}", p.display()),
            Kind::Manifest { path, parquet } => {
                format!("{} manifest {}", if *parquet { "parquet" } else { "csv" }, path.display())
            }
            Kind::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            Kind::Records(rows) => format!("{} rows in memory", rows.len()),
        }
    }

    /// Lists the photos. Errors for single entries (a bad manifest row, an unlistable folder) are
    /// yielded in place and do not end the listing.
    pub fn items(&self) -> Result<Items<'_>, IngestError> {
        match &self.kind {
            Kind::Dir(root) => Ok(Box::new(self.dir_items(root))),
            Kind::Manifest { path, parquet } => {
                let rows = if *parquet { manifest::read_parquet(path)? } else { manifest::read_csv(path)? };
                let base = path.parent().map(Path::to_owned).unwrap_or_default();
                Ok(Box::new(rows.map(move |row| {
                    let row = row?;
                    let location = resolve(&base, &row.uri);
                    Ok(Item {
                        record: ImageRecord {
                            id: row.obs_uid,
                            uri: uri_of(&location),
                            label: row.label,
                            meta: row.meta,
                        },
                        location,
                    })
                })))
            }
            Kind::S3 { bucket, prefix } => self.s3_items(bucket, prefix),
            Kind::Records(rows) => Ok(Box::new(rows.iter().map(|r| {
                let location = Location::from_uri(&r.uri);
                Ok(Item { record: ImageRecord { uri: uri_of(&location), ..r.clone() }, location })
            }))),
        }
    }

    fn dir_items<'a>(&'a self, root: &'a Path) -> impl Iterator<Item = Result<Item, IngestError>> + Send + 'a {
        let exclude = self.exclude.clone();
        walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(move |e| {
                let hidden = e.depth() > 0 && e.file_name().as_encoded_bytes().first() == Some(&b'.');
                let excluded = exclude.as_ref().is_some_and(|x| e.path().canonicalize().ok().as_ref() == Some(x));
                !hidden && !excluded
            })
            .filter_map(move |entry| match entry {
                Err(e) => Some(Err(IngestError::with_source(
                    IngestErrorKind::Io,
                    format!("cannot list {}", e.path().map(|p| p.display().to_string()).unwrap_or_default()),
                    e,
                ))),
                Ok(e) => {
                    let ft = e.file_type();
                    // Symlinks are kept (a dangling one or a loop becomes a `missing` finding),
                    // unless they point at a folder: those are not followed, so loops cannot hang.
                    let keep = ft.is_file() || (ft.is_symlink() && !e.path().is_dir());
                    keep.then(|| {
                        let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                        let location = Location::Local(e.path().to_owned());
                        Ok(Item {
                            record: ImageRecord {
                                id: path_id(rel),
                                uri: uri_of(&location),
                                label: None,
                                meta: Meta::new(),
                            },
                            location,
                        })
                    })
                }
            })
    }

    fn s3_items(&self, bucket: &str, prefix: &str) -> Result<Items<'_>, IngestError> {
        let store = self.fetcher.s3_store(bucket)?;
        let rt = self.fetcher.runtime()?;
        let prefix_path = (!prefix.is_empty()).then(|| ObjectPath::from(prefix.trim_end_matches('/')));
        let mut stream = store.list(prefix_path.as_ref());
        let bucket = bucket.to_owned();
        let strip = prefix_path.map(|p| format!("{p}/")).unwrap_or_default();
        Ok(Box::new(std::iter::from_fn(move || {
            let next = rt.block_on(stream.next())?;
            Some(match next {
                Ok(meta) => {
                    let key = meta.location.to_string();
                    let id = key.strip_prefix(&strip).unwrap_or(&key).to_owned();
                    let location = Location::S3 { bucket: bucket.clone(), key };
                    Ok(Item {
                        record: ImageRecord { id, uri: uri_of(&location), label: None, meta: Meta::new() },
                        location,
                    })
                }
                Err(e) => {
                    Err(IngestError::with_source(IngestErrorKind::ObjectStore, format!("listing s3://{bucket}"), e))
                }
            })
        })))
    }
}

impl Location {
    /// Where a URI recorded by a run (a path or `s3://bucket/key`) is; relative paths resolve
    /// against the current folder.
    pub fn from_uri(uri: &str) -> Location {
        resolve(Path::new(""), uri)
    }
}

fn resolve(base: &Path, uri: &str) -> Location {
    if let Some((bucket, key)) = parse_s3(uri) {
        return Location::S3 { bucket, key };
    }
    let p = uri.strip_prefix("file://").unwrap_or(uri);
    let p = Path::new(p);
    Location::Local(if p.is_absolute() { p.to_owned() } else { base.join(p) })
}

fn uri_of(location: &Location) -> String {
    match location {
        Location::Local(p) => path_id(p),
        Location::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
    }
}

/// A stable UTF-8 name for a path: `/`-separated, with bytes that are not UTF-8 written `%XX`
/// (and `%` itself as `%25` in such names) so distinct file names never share an id.
pub fn path_id(p: &Path) -> String {
    let bytes = p.as_os_str().as_encoded_bytes();
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::new();
            let mut rest = bytes;
            while !rest.is_empty() {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        out.push_str(&s.replace('%', "%25"));
                        break;
                    }
                    Err(e) => {
                        let (ok, bad) = rest.split_at(e.valid_up_to());
                        out.push_str(&String::from_utf8_lossy(ok).replace('%', "%25"));
                        let n = e.error_len().unwrap_or(bad.len());
                        for b in &bad[..n] {
                            out.push_str(&format!("%{b:02X}"));
                        }
                        rest = &bad[n..];
                    }
                }
            }
            out
        }
    };
    if std::path::MAIN_SEPARATOR == '/' { s } else { s.replace(std::path::MAIN_SEPARATOR, "/") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_split() {
        assert_eq!(parse_s3("s3://b/p/q"), Some(("b".into(), "p/q".into())));
        assert_eq!(parse_s3("s3://b"), Some(("b".into(), "".into())));
        assert_eq!(parse_s3("s3:///x"), None);
        assert_eq!(parse_s3("/tmp/x"), None);
    }

    #[test]
    fn rows_in_memory_are_a_source_in_their_order() {
        let row = |id: &str, uri: &str| ImageRecord {
            id: id.into(),
            uri: uri.into(),
            label: Some("rice".into()),
            meta: Meta::new(),
        };
        let src = Source::records(
            vec![row("b", "/photos/b.jpg"), row("a", "s3://bucket/x/a.jpg")],
            Arc::new(Fetcher::new(crowdsift_core::Limits::default())),
        );
        let items: Vec<Item> = src.items().unwrap().map(Result::unwrap).collect();
        assert_eq!(items[0].location, Location::Local("/photos/b.jpg".into()));
        assert_eq!(items[1].location, Location::S3 { bucket: "bucket".into(), key: "x/a.jpg".into() });
        assert_eq!((items[1].record.id.as_str(), items[1].record.uri.as_str()), ("a", "s3://bucket/x/a.jpg"));
        assert_eq!(items[0].record.label.as_deref(), Some("rice"));
        assert_eq!(src.describe(), "2 rows in memory");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_get_distinct_ids() {
        use std::os::unix::ffi::OsStrExt;
        let a = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg"));
        assert_eq!(path_id(a), "caf%E9.jpg");
        let b = Path::new(std::ffi::OsStr::from_bytes(b"caf%E9\xff.jpg"));
        assert_eq!(path_id(b), "caf%25E9%FF.jpg");
        assert_eq!(path_id(Path::new("a/b.jpg")), "a/b.jpg");
    }

    #[test]
    fn manifest_uris_resolve_against_its_folder() {
        assert_eq!(resolve(Path::new("/data"), "photos/a.jpg"), Location::Local("/data/photos/a.jpg".into()));
        assert_eq!(resolve(Path::new("/data"), "/abs/a.jpg"), Location::Local("/abs/a.jpg".into()));
        assert_eq!(
            resolve(Path::new("/data"), "s3://bkt/k/a.jpg"),
            Location::S3 { bucket: "bkt".into(), key: "k/a.jpg".into() }
        );
    }
}
