//! Review: the queues of photos that need a person (unusable, label issues, duplicates, personal
//! data), most urgent first, and `crowdsift review`'s local web server in which a person goes
//! through them by keyboard. Decisions go to the run store's append-only log.

use std::net::SocketAddr;
use std::path::PathBuf;

pub mod queue;
mod release;
mod server;

pub use queue::{Item, QueueKind, Queues};
pub use release::{ReleaseJob, ReleaseSummary, outlook, release};
pub use server::{ReviewConfig, Server, bind};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "refusing to listen on {0}: not a loopback address, so other machines could reach the photos; \
         pass --allow-remote to serve them on purpose"
    )]
    NotLoopback(SocketAddr),
    #[error("no results in {}: run `crowdsift run SRC --out {}` first", .0.display(), .0.display())]
    NoResults(PathBuf),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    #[error("no random access token from the operating system: {0}")]
    Token(String),
    #[error("no release folder given (`--to`, or `to` in Python)")]
    NoReleaseFolder,
    #[error(transparent)]
    Store(#[from] crowdsift_store::StoreError),
    #[error("serving: {0}")]
    Io(#[source] std::io::Error),
}
