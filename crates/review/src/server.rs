//! The review server: axum on 127.0.0.1 (other addresses only when asked), every request checked
//! against a random token printed in the URL, photos addressed by their id in the store (never by
//! a path), decisions written to the store as they are made.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use crowdsift_core::Limits;
use crowdsift_ingest::{DecodeParams, Fetcher, Fit, Location, decode};
use crowdsift_redact::OutputFormat;
use crowdsift_report::RedactedCopy;
use crowdsift_store::{Change, Decision, DecisionError, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::ReviewError;
use crate::queue::{Item, QueueKind, Queues};

const APP: &str = include_str!("app.html");
/// Long side of the picture under review and of the thumbnails of related photos.
const VIEW_SIDE: u32 = 1280;
const THUMB_SIDE: u32 = 240;
/// Queue items sent per request at most.
const PAGE: usize = 500;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ReviewConfig {
    /// Output folder of the earlier stages (holds crowdsift.db).
    pub out: PathBuf,
    pub addr: SocketAddr,
    /// Listen on an address other machines can reach (anyone with the token can then review).
    pub allow_remote: bool,
    /// Name recorded with every decision.
    pub reviewer: String,
    pub limits: Limits,
}

struct App {
    token: String,
    reviewer: String,
    store: Mutex<Store>,
    queues: Queues,
    labels: Vec<String>,
    copies: BTreeMap<String, RedactedCopy>,
    fetcher: Fetcher,
    limits: Limits,
    /// Pictures being made at once (each decodes a photo): one per core, so that a page asking
    /// for many at once queues them instead of decoding them all together.
    decoding: tokio::sync::Semaphore,
}

/// A bound server, ready to run.
pub struct Server {
    listener: std::net::TcpListener,
    app: Arc<App>,
    url: String,
}

/// 128 random bits from the operating system, as hex.
fn new_token() -> Result<String, ReviewError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ReviewError::Token(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks the configuration, opens the store, builds the queues and binds the address.
pub fn bind(cfg: &ReviewConfig) -> Result<Server, ReviewError> {
    if !cfg.addr.ip().is_loopback() && !cfg.allow_remote {
        return Err(ReviewError::NotLoopback(cfg.addr));
    }
    let db = cfg.out.join("crowdsift.db");
    if !db.is_file() {
        return Err(ReviewError::NoResults(cfg.out.clone()));
    }
    let store = Store::open(&db)?;
    let queues = Queues::build(&store, &cfg.out)?;
    let labels = store.labels()?;
    let copies = crowdsift_report::redacted_copies(&store, &cfg.out)?;
    let listener =
        std::net::TcpListener::bind(cfg.addr).map_err(|source| ReviewError::Bind { addr: cfg.addr, source })?;
    let addr = listener.local_addr().map_err(|source| ReviewError::Bind { addr: cfg.addr, source })?;
    let token = new_token()?;
    let url = format!("http://{addr}/?token={token}");
    let app = App {
        token,
        reviewer: cfg.reviewer.clone(),
        store: Mutex::new(store),
        queues,
        labels,
        copies,
        fetcher: Fetcher::new(cfg.limits),
        limits: cfg.limits,
        decoding: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
    };
    Ok(Server { listener, app: Arc::new(app), url })
}

impl Server {
    /// The address to open, token included.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves until the process is stopped.
    pub fn run(self) -> Result<(), ReviewError> {
        let io = |source| ReviewError::Io(source);
        self.listener.set_nonblocking(true).map_err(io)?;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(io)?;
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            axum::serve(listener, router(self.app)).await
        })
        .map_err(io)
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(APP) }))
        .route("/api/state", get(state))
        .route("/api/queue/{name}", get(queue))
        .route("/api/decide", post(decide))
        .route("/api/log", get(log))
        .route("/img/{id}", get(picture))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lets through requests carrying the token (as `Authorization: Bearer …` or `?token=…`) and
/// adds headers that keep the page to itself.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let query = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "token").map(|(_, v)| v));
    let ok = bearer.or(query).is_some_and(|t| same(&t, &app.token));
    let mut res = if ok {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, "open the URL crowdsift review printed: it carries the access token\n")
            .into_response()
    };
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

fn store_error(e: impl std::fmt::Display) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// A decision as the page sees it.
#[derive(Serialize)]
struct DecisionView<'a> {
    seq: i64,
    id: &'a str,
    action: &'a str,
    verdict: Option<&'static str>,
    label: Option<&'a str>,
    regions: &'a [[f32; 4]],
    queue: &'a str,
    reviewer: &'a str,
    at: &'a str,
}

fn view(d: &Decision) -> DecisionView<'_> {
    DecisionView {
        seq: d.seq,
        id: &d.image_id,
        action: &d.action,
        verdict: d.verdict.map(|v| v.as_str()),
        label: d.label.as_deref(),
        regions: &d.regions,
        queue: &d.queue,
        reviewer: &d.reviewer,
        at: &d.at,
    }
}

/// The current decision of every photo, by id.
fn current(app: &App) -> Result<HashMap<String, Decision>, crowdsift_store::StoreError> {
    let store = app.store.lock().unwrap_or_else(|p| p.into_inner());
    Ok(store.decisions()?.into_iter().map(|d| (d.image_id.clone(), d)).collect())
}

async fn state(State(app): State<Arc<App>>) -> Response {
    let decisions = match current(&app) {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    let queues = &app.queues;
    let list: Vec<_> = QueueKind::ALL
        .iter()
        .map(|&k| {
            let items = queues.get(k);
            let decided = items.iter().filter(|i| decisions.get(&i.id).is_some_and(|d| d.verdict.is_some())).count();
            json!({ "name": k.as_str(), "total": items.len(), "decided": decided })
        })
        .collect();
    Json(json!({ "reviewer": app.reviewer, "queues": list, "labels": app.labels })).into_response()
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
    /// A photo id whose position in the queue to return.
    find: Option<String>,
}

#[derive(Serialize)]
struct ItemView<'a> {
    #[serde(flatten)]
    item: &'a Item,
    decision: Option<DecisionView<'a>>,
    /// Which picture `/img/{id}` shows.
    picture: &'static str,
}

async fn queue(State(app): State<Arc<App>>, UrlPath(name): UrlPath<String>, Query(q): Query<PageQuery>) -> Response {
    let Some(kind) = QueueKind::parse(&name) else {
        return error(StatusCode::NOT_FOUND, format!("no queue {name}"));
    };
    let decisions = match current(&app) {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    let queues = &app.queues;
    let all = queues.get(kind);
    let open = |i: &Item| decisions.get(&i.id).is_none_or(|d| d.verdict.is_none());
    let first_open = all.iter().position(open);
    let found = q.find.as_deref().and_then(|id| all.iter().position(|i| i.id == id));
    let limit = q.limit.unwrap_or(PAGE).min(PAGE);
    let items: Vec<ItemView<'_>> = all
        .iter()
        .skip(q.offset)
        .take(limit)
        .map(|item| ItemView {
            item,
            decision: decisions.get(&item.id).map(view),
            picture: if app.copies.contains_key(&item.id) { "redacted copy" } else { "original" },
        })
        .collect();
    Json(json!({ "name": name, "total": all.len(), "offset": q.offset, "first_open": first_open, "found": found, "items": items }))
        .into_response()
}

#[derive(Deserialize)]
struct DecideBody {
    id: String,
    queue: String,
    action: String,
    label: Option<String>,
    regions: Option<Vec<[f32; 4]>>,
    seq: Option<i64>,
}

fn change(body: &DecideBody) -> Result<Change, String> {
    Ok(match body.action.as_str() {
        "keep" => Change::Keep,
        "reject" => Change::Reject,
        "relabel" => {
            let label = body.label.as_deref().map(str::trim).unwrap_or_default();
            if label.is_empty() || label.len() > 200 {
                return Err("relabel needs a label of 1 to 200 bytes".into());
            }
            Change::Relabel(label.to_owned())
        }
        "regions" => {
            let regions = body.regions.clone().unwrap_or_default();
            let valid =
                |r: &[f32; 4]| r.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)) && r[0] < r[2] && r[1] < r[3];
            if regions.len() > 100 || !regions.iter().all(valid) {
                return Err("regions are up to 100 [x0, y0, x1, y1] with 0 ≤ x0 < x1 ≤ 1, 0 ≤ y0 < y1 ≤ 1".into());
            }
            Change::Regions(regions)
        }
        "undo" => Change::Undo(body.seq.ok_or("undo needs the seq of the decision to undo")?),
        other => return Err(format!("unknown action {other}: keep, reject, relabel, regions or undo")),
    })
}

async fn decide(State(app): State<Arc<App>>, Json(body): Json<DecideBody>) -> Response {
    let change = match change(&body) {
        Ok(c) => c,
        Err(msg) => return error(StatusCode::BAD_REQUEST, msg),
    };
    if QueueKind::parse(&body.queue).is_none() {
        return error(StatusCode::BAD_REQUEST, format!("no queue {}", body.queue));
    }
    let mut store = app.store.lock().unwrap_or_else(|p| p.into_inner());
    match store.decide(&body.id, &change, &body.queue, &app.reviewer) {
        Ok(Ok(d)) => {
            tracing::info!(photo = %d.image_id, action = %d.action, reviewer = %d.reviewer, "decision");
            Json(view(&d)).into_response()
        }
        Ok(Err(e @ DecisionError::UnknownPhoto(_))) => error(StatusCode::NOT_FOUND, e.to_string()),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
struct LogQuery {
    id: Option<String>,
    limit: Option<usize>,
}

async fn log(State(app): State<Arc<App>>, Query(q): Query<LogQuery>) -> Response {
    let store = app.store.lock().unwrap_or_else(|p| p.into_inner());
    match store.decision_log(q.id.as_deref(), q.limit.unwrap_or(100).min(10_000)) {
        Ok(rows) => Json(rows.iter().map(view).collect::<Vec<_>>()).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
struct PictureQuery {
    size: Option<String>,
}

/// The photo `id` as JPEG: its redacted copy when `redact` made one from the current file, else
/// the photo itself; upright, at most VIEW_SIDE (or THUMB_SIDE) on its long side.
async fn picture(State(app): State<Arc<App>>, UrlPath(id): UrlPath<String>, Query(q): Query<PictureQuery>) -> Response {
    let side = if q.size.as_deref() == Some("thumb") { THUMB_SIDE } else { VIEW_SIDE };
    let photo = {
        let store = app.store.lock().unwrap_or_else(|p| p.into_inner());
        match store.photo(&id) {
            Ok(Some(p)) => p,
            Ok(None) => return error(StatusCode::NOT_FOUND, format!("no photo {id}")),
            Err(e) => return store_error(e),
        }
    };
    let (_, _, sha, uri) = photo;
    let location = match app.copies.get(&id) {
        Some(c) if c.source_sha256 == sha => c.path.display().to_string(),
        _ => uri,
    };
    let Ok(_slot) = app.decoding.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    // Reading and decoding run on their own thread: the fetcher may start its own async runtime
    // (S3), which cannot be done from a runtime's threads.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let work = app.clone();
    std::thread::spawn(move || {
        let res = work
            .fetcher
            .fetch(&Location::from_uri(&location))
            .and_then(|bytes| decode(&bytes, &DecodeParams { limits: work.limits, fit: Fit::LongSide(side) }))
            .map_err(|e| e.to_string())
            .and_then(|d| {
                crowdsift_redact::encode(&d.image, OutputFormat::Jpeg { quality: 85 }, None).map_err(|e| e.to_string())
            });
        let _ = tx.send(res);
    });
    match rx.await {
        Ok(Ok(jpeg)) => ([(header::CONTENT_TYPE, "image/jpeg")], jpeg.bytes).into_response(),
        Ok(Err(msg)) => error(StatusCode::UNPROCESSABLE_ENTITY, msg),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the picture could not be made"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b) && !same(&a, &a[..31]) && !same(&a, ""));
    }

    #[test]
    fn changes_are_checked_before_they_reach_the_store() {
        let body = |action: &str, regions: Option<Vec<[f32; 4]>>| DecideBody {
            id: "a".into(),
            queue: "pii".into(),
            action: action.into(),
            label: Some("  ".into()),
            regions,
            seq: None,
        };
        assert_eq!(change(&body("keep", None)), Ok(Change::Keep));
        assert!(change(&body("relabel", None)).is_err(), "blank label");
        assert!(change(&body("undo", None)).is_err(), "undo without seq");
        assert!(change(&body("delete", None)).is_err());
        assert_eq!(
            change(&body("regions", Some(vec![[0.1, 0.1, 0.5, 0.5]]))),
            Ok(Change::Regions(vec![[0.1, 0.1, 0.5, 0.5]]))
        );
        assert!(change(&body("regions", Some(vec![[0.5, 0.1, 0.1, 0.5]]))).is_err(), "inverted");
        assert!(change(&body("regions", Some(vec![[0.1, 0.1, 1.5, 0.5]]))).is_err(), "outside");
        assert!(change(&body("regions", Some(vec![[f32::NAN, 0.1, 0.5, 0.5]]))).is_err());
    }

    #[test]
    fn only_loopback_unless_asked() {
        let cfg = |addr: &str, allow_remote| ReviewConfig {
            out: PathBuf::from("/nonexistent"),
            addr: addr.parse().unwrap(),
            allow_remote,
            reviewer: "t".into(),
            limits: Limits::default(),
        };
        assert!(matches!(bind(&cfg("0.0.0.0:0", false)), Err(ReviewError::NotLoopback(_))));
        assert!(matches!(bind(&cfg("192.168.1.2:0", false)), Err(ReviewError::NotLoopback(_))));
        // Asked explicitly: the address passes, and the missing store is what stops it.
        assert!(matches!(bind(&cfg("0.0.0.0:0", true)), Err(ReviewError::NoResults(_))));
        assert!(matches!(bind(&cfg("127.0.0.1:0", false)), Err(ReviewError::NoResults(_))));
        assert!(matches!(bind(&cfg("[::1]:0", false)), Err(ReviewError::NoResults(_))));
    }
}
