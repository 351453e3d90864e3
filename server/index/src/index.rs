//! Workspace symbol index: every supported source file under a root, parsed on all cores, with
//! hash lookups by name path and simple name. Shared by the LSP server behind an `Arc`.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ignore::WalkState;
use jingu_fs::workspace::Workspace;

use crate::saved::{self, Saved, Stat};
use jingu_syntax::names::NameTables;
use jingu_syntax::{FileSymbols, Language, Symbol, file_symbols};

pub use crate::source::{MAX_SOURCE_BYTES, SourceError, read_source};

/// What [`Index::build`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Source files parsed and indexed.
    pub files: usize,
    /// Bytes of those files.
    pub bytes: u64,
    /// Symbols extracted from them.
    pub symbols: usize,
    /// Files of a supported language left out: binary, oversized, not UTF-8 or unreadable.
    pub skipped: usize,
    /// Files whose symbols came from the saved index (unchanged since it was saved), not a parse.
    pub reused: usize,
    pub elapsed: Duration,
}

#[derive(Debug, Default)]
struct Tables {
    files: HashMap<String, Arc<FileSymbols>>,
    names: NameTables,
    /// While a fill runs: the files put or removed by others meanwhile, which it leaves alone.
    filling: Option<HashSet<String>>,
}

impl Tables {
    fn put(&mut self, rel: String, symbols: Arc<FileSymbols>) {
        if let Some(touched) = &mut self.filling {
            touched.insert(rel.clone());
        }
        self.insert(rel, symbols);
    }

    /// A file the fill's walk parsed: unless someone else put or removed it meanwhile.
    fn put_from_walk(&mut self, rel: String, symbols: Arc<FileSymbols>) {
        if self.filling.as_ref().is_some_and(|t| t.contains(&rel)) {
            return;
        }
        self.insert(rel, symbols);
    }

    fn insert(&mut self, rel: String, symbols: Arc<FileSymbols>) {
        self.remove(&rel);
        let key: Arc<str> = Arc::from(rel.as_str());
        self.names.insert(&key, &symbols);
        self.files.insert(rel, symbols);
    }

    fn take(&mut self, rel: &str) {
        if let Some(touched) = &mut self.filling {
            touched.insert(rel.to_string());
        }
        self.remove(rel);
    }

    fn remove(&mut self, rel: &str) {
        if let Some(old) = self.files.remove(rel) {
            self.names.remove(rel, &old);
        }
    }
}

/// A fill publishes parsed files to queries after this many…
const PUBLISH_FILES: usize = 512;
/// …or this long, whichever comes first.
const PUBLISH_EVERY: Duration = Duration::from_millis(50);

/// The symbols of a workspace. Paths are workspace-relative with `/` separators.
#[derive(Debug)]
pub struct Index {
    root: PathBuf,
    /// `root` with symlinks resolved, to keep refreshes inside the workspace.
    real_root: Option<PathBuf>,
    tables: RwLock<Tables>,
    stats: RwLock<BuildStats>,
    complete: AtomicBool,
}

enum Outcome {
    Parsed {
        rel: String,
        symbols: Arc<FileSymbols>,
        bytes: u64,
        /// Stat before the read; `None` when too recent to vouch for the content next time.
        stat: Option<Stat>,
        reused: bool,
    },
    Skipped,
}

impl Index {
    /// Index every supported file under `root`, honouring `.gitignore`/`.ignore` files (even
    /// outside a git repository) and visiting hidden files, but never `.git/`, `.jingu/`,
    /// `target/` or `node_modules/`.
    pub fn build(root: &Path) -> Index {
        Self::build_inner(root, None)
    }

    /// [`Index::build`], taking the symbols of files unchanged since the last session (same
    /// mtime, size and inode) from the index saved at `saved`, and saving this one there.
    pub fn build_saved(root: &Path, saved: &Path) -> Index {
        Self::build_inner(root, Some(saved))
    }

    fn build_inner(root: &Path, saved_path: Option<&Path>) -> Index {
        let index = Index::empty(root);
        index.fill(saved_path, &|_| {});
        index
    }

    /// An index of nothing yet, answering queries while [`Index::fill`] fills it.
    pub fn empty(root: &Path) -> Index {
        Index {
            root: root.to_path_buf(),
            real_root: root.canonicalize().ok(),
            // Filling from the start: what is put before the fill begins is newer than its walk.
            tables: RwLock::new(Tables {
                filling: Some(HashSet::new()),
                ..Tables::default()
            }),
            stats: RwLock::new(BuildStats::default()),
            complete: AtomicBool::new(false),
        }
    }

    /// Whether [`Index::fill`] has finished.
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    /// Index the workspace into this index, publishing files in batches as they are parsed (so
    /// queries meanwhile see a growing part of it) and calling `progress` with the count done.
    /// Files put while it runs (editor buffers, refreshes) are newer than the walk's view and
    /// kept; files removed while it runs stay removed. With `saved_path`, see
    /// [`Index::build_saved`].
    pub fn fill(&self, saved_path: Option<&Path>, progress: &(dyn Fn(usize) + Sync)) {
        let root = self.root.as_path();
        let started = Instant::now();
        {
            let mut tables = self.write();
            tables.filling.get_or_insert_with(HashSet::new);
            tables.names.set_bulk(true);
        }
        let saved = saved_path.map(saved::load).unwrap_or_default();
        let started_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let walker = jingu_fs::walk::walker(&Workspace::at(root.to_path_buf()), None)
            .threads(threads)
            .build_parallel();
        let mut stats = BuildStats::default();
        // What this walk put, to save only entries nobody replaced since.
        let mut ours: HashMap<String, (Stat, Arc<FileSymbols>)> = HashMap::new();
        let saved = &saved;
        let (tx, rx) = mpsc::channel::<Outcome>();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                walker.run(|| {
                    let tx = tx.clone();
                    Box::new(move |entry| {
                        let Ok(entry) = entry else {
                            return WalkState::Continue;
                        };
                        if !entry.file_type().is_some_and(|t| t.is_file()) {
                            return WalkState::Continue;
                        }
                        let meta = entry.metadata().ok();
                        let known = meta.as_ref().and_then(|m| {
                            let stat = Stat::of(m);
                            // Too recent to vouch for the content next time: not saved as such.
                            jingu_fs::racy::stat_vouches(stat.mtime_ns, started_ns).then_some(stat)
                        });
                        if let Some(outcome) = index_one(root, entry.path(), known, saved) {
                            // The receiver outlives the walk; a send error means it is gone.
                            if tx.send(outcome).is_err() {
                                return WalkState::Quit;
                            }
                        }
                        WalkState::Continue
                    })
                });
            });
            // Merge while the walkers parse, publishing a batch at a time.
            let mut batch: Vec<(String, Arc<FileSymbols>)> = Vec::new();
            let mut published = Instant::now();
            let mut done = 0;
            let publish = |batch: &mut Vec<(String, Arc<FileSymbols>)>, done: usize| {
                let mut tables = self.write();
                for (rel, symbols) in batch.drain(..) {
                    tables.put_from_walk(rel, symbols);
                }
                drop(tables);
                progress(done);
            };
            for outcome in rx {
                done += 1;
                match outcome {
                    Outcome::Parsed {
                        rel,
                        symbols,
                        bytes,
                        stat,
                        reused,
                    } => {
                        stats.files += 1;
                        stats.bytes += bytes;
                        stats.symbols += symbols.symbols.len();
                        stats.reused += usize::from(reused);
                        if let Some(stat) = stat {
                            ours.insert(rel.clone(), (stat, symbols.clone()));
                        }
                        batch.push((rel, symbols));
                    }
                    Outcome::Skipped => stats.skipped += 1,
                }
                if batch.len() >= PUBLISH_FILES || published.elapsed() >= PUBLISH_EVERY {
                    publish(&mut batch, done);
                    published = Instant::now();
                }
            }
            publish(&mut batch, done);
        });
        let mut tables = self.write();
        tables.filling = None;
        tables.names.set_bulk(false);
        drop(tables);
        if let Some(path) = saved_path
            && (stats.reused != saved.len() || stats.reused != stats.files)
        {
            let tables = self.read();
            let files: Vec<(&str, Stat, &FileSymbols)> = tables
                .files
                .iter()
                .filter_map(|(rel, symbols)| {
                    let (stat, put) = ours.get(rel)?;
                    Arc::ptr_eq(put, symbols).then_some((rel.as_str(), *stat, &**symbols))
                })
                .collect();
            if let Err(e) = saved::save(path, files.into_iter()) {
                tracing::warn!("could not save the index to {}: {e}", path.display());
            }
        }
        stats.elapsed = started.elapsed();
        *self.stats.write().unwrap_or_else(PoisonError::into_inner) = stats;
        self.complete.store(true, Ordering::Release);
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What the last [`Index::fill`] did (all zero until it finishes).
    pub fn build_stats(&self) -> BuildStats {
        *self.stats.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number of files currently indexed.
    pub fn file_count(&self) -> usize {
        self.read().files.len()
    }

    /// Workspace-relative paths of the indexed files, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.read().files.keys().cloned().collect();
        paths.sort();
        paths
    }

    /// Re-index one file from in-memory text (an editor buffer). Files of unsupported languages
    /// are ignored.
    pub fn update_file(&self, rel_path: &str, text: &str) {
        let Some(language) = Language::from_path(Path::new(rel_path)) else {
            return;
        };
        let symbols = Arc::new(file_symbols(language, text));
        self.write().put(normalize(rel_path), symbols);
    }

    /// Replace one file's symbols with ones already extracted, e.g. by the document mirror, which
    /// re-parses incrementally. Files of unsupported languages are ignored.
    pub fn put_symbols(&self, rel_path: &str, symbols: Arc<FileSymbols>) {
        if Language::from_path(Path::new(rel_path)).is_some() {
            self.write().put(normalize(rel_path), symbols);
        }
    }

    /// Re-index one file from disk; drops it from the index when it is gone, is not source text,
    /// or its path leaves the workspace.
    pub fn refresh_from_disk(&self, rel_path: &str) {
        let rel = normalize(rel_path);
        let path = self.root.join(&rel);
        let outcome = (inside_root(&rel) && self.resolves_inside(&path))
            .then(|| index_one(&self.root, &path, None, &Saved::new()));
        match outcome.flatten() {
            Some(Outcome::Parsed { symbols, .. }) => self.write().put(rel, symbols),
            _ => self.remove_file(&rel),
        }
    }

    /// Whether `path` exists and, symlinks resolved, is still under the root (the walk never
    /// follows symlinks, so a refresh must not either).
    fn resolves_inside(&self, path: &Path) -> bool {
        let (Some(real_root), Ok(real)) = (&self.real_root, path.canonicalize()) else {
            return false;
        };
        real.starts_with(real_root)
    }

    pub fn remove_file(&self, rel_path: &str) {
        self.write().take(&normalize(rel_path));
    }

    pub fn file(&self, rel_path: &str) -> Option<Arc<FileSymbols>> {
        self.read().files.get(&normalize(rel_path)).cloned()
    }

    /// Symbols whose name path is `name_path` or ends with it (`Parser/parse` also finds
    /// `mod/Parser/parse`, and a simple name finds every definition of that name), ignoring `[N]`
    /// overload suffixes unless the query names one. Exact matches first, then by file and position.
    pub fn lookup(&self, name_path: &str) -> Vec<(String, Symbol)> {
        let tables = self.read();
        let resolve = |file: &Arc<str>, path: &str| {
            let symbol = tables.files.get(&**file)?.get(path)?;
            Some((file.to_string(), symbol.clone()))
        };
        let by_position = |a: &(String, Symbol), b: &(String, Symbol)| {
            a.0.cmp(&b.0).then(a.1.range.start.cmp(&b.1.range.start))
        };
        let mut exact: Vec<(String, Symbol)> = tables
            .names
            .files_with_path(name_path)
            .iter()
            .filter_map(|f| resolve(f, name_path))
            .collect();
        exact.sort_by(by_position);
        let last = name_path.rsplit('/').next().unwrap_or(name_path);
        let mut suffixed: Vec<(String, Symbol)> = tables
            .names
            .defs_named(strip_suffix(last))
            .filter(|(_, path)| path.as_str() != name_path && path_ends_with(path, name_path))
            .filter_map(|(f, path)| resolve(f, path))
            .collect();
        suffixed.sort_by(by_position);
        exact.extend(suffixed);
        exact
    }

    /// Bytes held by the `workspace/symbol` search structure.
    pub fn search_bytes(&self) -> usize {
        self.read().names.search_bytes()
    }

    /// Workspace symbol search: case-insensitive match on simple names, ranked exact, prefix,
    /// word starts (`hm` → `HashMap`), substring, then in-order subsequence; shorter names first
    /// within a tier, each name's definitions by file, then in file order. At most `limit` results.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(String, Symbol)> {
        let tables = self.read();
        tables
            .names
            .search(query, limit)
            .into_iter()
            .map(|(file, symbol)| (file.to_string(), symbol.clone()))
            .collect()
    }

    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        // A panic while holding the lock leaves consistent maps (every update is one `put`/`take`).
        self.tables.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Parse one file if it is of a supported language; `Skipped` when it is not source text. With a
/// `stat` that matches the saved index, the saved symbols are taken instead.
fn index_one(root: &Path, path: &Path, stat: Option<Stat>, saved: &Saved) -> Option<Outcome> {
    let language = Language::from_path(path)?;
    let rel = rel_path(root, path)?;
    if let (Some(stat), Some((saved_stat, symbols))) = (stat, saved.get(&rel))
        && stat == *saved_stat
        && symbols.language == language
    {
        return Some(Outcome::Parsed {
            rel,
            symbols: symbols.clone(),
            bytes: stat.size,
            stat: Some(stat),
            reused: true,
        });
    }
    match read_source(path) {
        Ok(text) => {
            let bytes = text.len() as u64;
            Some(Outcome::Parsed {
                rel,
                symbols: Arc::new(file_symbols(language, &text)),
                bytes,
                stat,
                reused: false,
            })
        }
        Err(e) => {
            tracing::debug!("not indexed: {e}");
            Some(Outcome::Skipped)
        }
    }
}

fn rel_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// `./a//b` → `a/b`, so editor-supplied paths hit the same keys as walked ones.
fn normalize(rel: &str) -> String {
    rel.split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A normalized relative path that cannot name anything outside the root.
fn inside_root(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// `foo[2]` → `foo`.
fn strip_suffix(segment: &str) -> &str {
    match segment.rfind('[') {
        Some(i) if segment.ends_with(']') => &segment[..i],
        _ => segment,
    }
}

/// Whether `path`'s trailing segments equal `query`'s (ignoring `[N]` on `path`'s last segment
/// unless `query` names one).
fn path_ends_with(path: &str, query: &str) -> bool {
    let candidates = [path, strip_suffix(path)];
    candidates.iter().any(|p| {
        *p == query
            || p.strip_suffix(query)
                .is_some_and(|head| head.ends_with('/'))
    })
}
