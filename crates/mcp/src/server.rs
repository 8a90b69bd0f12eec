//! The MCP handler: lists the tools, reads a call's arguments (malformed ones are protocol
//! errors), resolves its paths under the root, runs the operation on a blocking thread, and
//! turns the result into structured content (an operation's failure is a tool error the agent
//! reads, with its kind).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use breastmnist_data::{Flag, Size, Split};
use breastmnist_ops::evaluate::{EvalRequest, ExplainRequest, PredictRequest};
use breastmnist_ops::export::{self, ExportRequest};
use breastmnist_ops::train::{Purpose, TrainRequest};
use breastmnist_ops::{Backend, Cancel, DataSource, DataSpec, Error, Event, Recipe};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, Resource, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::root::Root;
use crate::tools::{self, MAX_BATCH, MAX_EPOCHS, MAX_INLINE};

/// The server: the root, and whether a training is running.
#[derive(Clone)]
pub struct Server {
    root: Root,
    training: Arc<AtomicBool>,
}

/// Clears the training flag when a training call ends, however it ends.
struct Training(Arc<AtomicBool>);

impl Drop for Training {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Server {
    pub fn new(root: Root) -> Self {
        Server { root, training: Arc::new(AtomicBool::new(false)) }
    }

    /// `data`: a MedMNIST flag (its official file) or a file under the root.
    fn data(&self, data: &str, size: Option<usize>) -> Result<DataSpec, Error> {
        let size = match size {
            None => Size::Px28,
            Some(s) => Size::from_side(s).ok_or_else(|| Error::Usage(format!("size {s} is not 28, 64, 128 or 224")))?,
        };
        if let Some(flag) = Flag::parse(data) {
            let dirs = vec![self.root.path().to_path_buf()];
            return Ok(DataSpec { source: DataSource::Catalog { flag, size, dirs }, task: None, classes: None });
        }
        Ok(DataSpec::file(self.root.existing(data)?))
    }

    fn split(split: Option<&str>) -> Result<Split, Error> {
        let s = split.unwrap_or("test");
        Split::parse(s).ok_or_else(|| Error::Usage(format!("unknown split '{s}' (expected train, val or test)")))
    }

    async fn run(&self, name: &str, args: Value, context: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        use breastmnist_ops::{catalog, evaluate, runs};
        let result = match name {
            "datasets" => {
                parse::<tools::NoArgs>(name, args)?;
                operate(Ok(self.root.path().to_path_buf()), |root| catalog::datasets(Some(root), &mut discard)).await
            }
            "inspect_data" => {
                let a: tools::Inspect = parse(name, args)?;
                operate(self.data(&a.data, a.size), |spec| catalog::inspect(spec, &mut discard)).await
            }
            "train" => return self.train(parse(name, args)?, context).await,
            "evaluate" => operate(self.evaluate_request(parse(name, args)?), |r| evaluate::evaluate(r, &mut discard)).await,
            "predict" => operate(self.predict_request(parse(name, args)?), |r| evaluate::predict(r, &mut discard)).await,
            "score_result_file" => {
                let a: tools::Score = parse(name, args)?;
                let req = self.data(&a.data, a.size).and_then(|spec| Ok((spec, self.root.existing(&a.result)?, a.bootstrap)));
                operate(req, |(spec, result, n)| catalog::score(spec, result, *n, &mut discard)).await
            }
            "explain" => return Ok(self.explain(parse(name, args)?).await),
            "list_runs" => {
                let a: tools::ListRuns = parse(name, args)?;
                let dir = a.dir.as_deref().map_or(Ok(self.root.path().to_path_buf()), |d| self.root.existing(d));
                operate(dir, |dir| runs::list_runs(dir).map(|runs| json!({ "runs": runs }))).await
            }
            "export_weights" => {
                let a: tools::Export = parse(name, args)?;
                let req = self.root.existing(&a.checkpoint).and_then(|checkpoint| {
                    Ok(ExportRequest { checkpoint, out: self.root.writable(&a.out)?, data: None, model: None, half: false })
                });
                operate(req, |r| export::export(r, &mut discard)).await
            }
            other => return Err(McpError::invalid_params(format!("unknown tool '{other}'"), None)),
        };
        Ok(finish(result))
    }

    fn evaluate_request(&self, a: tools::Evaluate) -> Result<EvalRequest, Error> {
        Ok(EvalRequest {
            data: self.data(&a.data, a.size)?,
            checkpoint: self.root.existing(&a.checkpoint)?,
            split: Self::split(a.split.as_deref())?,
            tta: a.tta,
            out: a.out.as_deref().map(|o| self.root.writable(o)).transpose()?,
            run: None,
            model: None,
            backend: Backend::Flex,
        })
    }

    fn predict_request(&self, a: tools::Predict) -> Result<PredictRequest, Error> {
        let inline = a.limit.unwrap_or(MAX_INLINE);
        if inline > MAX_INLINE {
            return Err(Error::Limit(format!("limit {inline} is over {MAX_INLINE} rows; name a csv file for more")));
        }
        Ok(PredictRequest {
            data: self.data(&a.data, a.size)?,
            checkpoint: self.root.existing(&a.checkpoint)?,
            split: Self::split(a.split.as_deref())?,
            tta: a.tta,
            inline,
            truncate: a.limit.is_some(),
            csv: a.csv.as_deref().map(|c| self.root.writable(c)).transpose()?,
            backend: Backend::Flex,
        })
    }

    fn train_request(&self, a: tools::Train) -> Result<TrainRequest, Error> {
        if let Some(e) = a.epochs.filter(|&e| e == 0 || e > MAX_EPOCHS) {
            return Err(Error::Limit(format!("epochs must be 1 to {MAX_EPOCHS} (got {e})")));
        }
        if let Some(b) = a.batch_size.filter(|&b| b == 0 || b > MAX_BATCH) {
            return Err(Error::Limit(format!("batch_size must be 1 to {MAX_BATCH} (got {b})")));
        }
        if let Some(lr) = a.lr.filter(|&lr| !(lr > 0.0 && lr <= 1.0)) {
            return Err(Error::Limit(format!("lr must be in (0, 1] (got {lr})")));
        }
        let mut recipe = Recipe::preset(a.preset.as_deref().unwrap_or("reader"));
        recipe.model = a.model;
        recipe.epochs = a.epochs;
        recipe.batch = a.batch_size;
        recipe.lr = a.lr;
        recipe.seed = a.seed.unwrap_or(0);
        recipe.subset = a.subset;
        recipe.prototypes = a.prototypes;
        // The presets start from fresh weights; nothing is looked up beside the binary.
        recipe.init = Some(PathBuf::from("none"));
        Ok(TrainRequest {
            data: self.data(&a.data, a.size)?,
            recipe,
            out: self.root.writable(&a.out)?,
            run: None,
            backend: Backend::Flex,
            purpose: Purpose::Train,
        })
    }

    async fn train(&self, a: tools::Train, context: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        let req = match self.train_request(a) {
            Ok(r) => r,
            Err(e) => return Ok(finish(Err(e))),
        };
        if self.training.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return Ok(finish(Err(Error::Busy(
                "another training is running (one at a time): wait for it, or cancel it, and call train again".into(),
            ))));
        }
        let guard = Training(self.training.clone());
        let cancel = Cancel::new();
        let (tx, rx) = mpsc::unbounded_channel::<Event>();
        let token = context.meta.get_progress_token();
        let progress = tokio::spawn(report_progress(rx, token, context.peer.clone()));
        let worker_cancel = cancel.clone();
        let mut work = tokio::task::spawn_blocking(move || {
            let _guard = guard;
            let mut sink = |ev: Event| {
                let _ = tx.send(ev);
            };
            breastmnist_ops::train::train(&req, &mut sink, &worker_cancel)
        });
        let joined = tokio::select! {
            joined = &mut work => joined,
            _ = context.ct.cancelled() => {
                // Stop between steps; the files so far are written before the thread ends.
                cancel.cancel();
                work.await
            }
        };
        let warnings = progress.await.unwrap_or_default();
        let trained = joined.unwrap_or_else(|e| Err(Error::CheckFailed(format!("the training thread failed: {e}"))));
        let links: Vec<ContentBlock> = trained.as_ref().map(|t| t.files.iter().map(|f| link(f)).collect()).unwrap_or_default();
        let mut out = finish(trained.map(|t| {
            let mut v = t.json();
            v["files"] = json!(t.files);
            v["warnings"] = json!(warnings);
            v
        }));
        out.content.extend(links);
        Ok(out)
    }

    fn explain_request(&self, a: tools::Explain) -> Result<ExplainRequest, Error> {
        Ok(ExplainRequest {
            data: self.data(&a.data, a.size)?,
            checkpoint: self.root.existing(&a.checkpoint)?,
            split: Self::split(Some(&a.split))?,
            index: a.index,
            class: a.class,
            tta: a.tta,
            out: None,
            backend: Backend::Flex,
        })
    }

    /// Grad-CAM's result, with the picture as PNG image content.
    async fn explain(&self, a: tools::Explain) -> CallToolResult {
        let explained = match self.explain_request(a) {
            Ok(req) => blocking(move || breastmnist_ops::evaluate::explain(&req, &mut discard)).await,
            Err(e) => Err(e),
        };
        match explained {
            Ok(x) => {
                let png = base64::engine::general_purpose::STANDARD.encode(&x.png);
                let mut r = finish(Ok(to_json(x)));
                r.content.push(ContentBlock::image(png, "image/png"));
                r
            }
            Err(e) => finish(Err(e)),
        }
    }
}

/// Sends the training's progress to the client at most once a second: steps done of all,
/// with the epoch, the latest loss and the latest validation AUC in the message. Returns the
/// run's warnings, for its result.
async fn report_progress(
    mut rx: mpsc::UnboundedReceiver<Event>,
    token: Option<rmcp::model::ProgressToken>,
    peer: Peer<RoleServer>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut last: Option<Instant> = None;
    let (mut done, mut total, mut epoch, mut epochs, mut loss, mut val_auc) = (0usize, 0usize, 0, 0, f64::NAN, None);
    let mut pending = false;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Event::Step { epoch: e, epochs: n, step, steps_per_epoch, loss: l }) => {
                    (epoch, epochs, loss) = (e, n, l);
                    done = (e - 1) * steps_per_epoch + step;
                    total = n * steps_per_epoch;
                    pending = true;
                }
                Some(Event::Epoch { epoch: e, val_auc: auc, train_loss, .. }) => {
                    (epoch, val_auc, loss) = (e, Some(auc), train_loss);
                    pending = true;
                }
                Some(Event::Warning { message }) => warnings.push(message),
                Some(_) => {}
                None => break,
            },
            _ = tick.tick() => {}
        }
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if let (true, true, Some(token)) = (pending, due, &token) {
            let auc = val_auc.map_or("-".to_string(), |a: f64| format!("{a:.4}"));
            let message = format!("epoch {epoch}/{epochs}, loss {loss:.4}, val AUC {auc}");
            let param = ProgressNotificationParam::new(token.clone(), done as f64).with_total(total as f64).with_message(message);
            let _ = peer.notify_progress(param).await;
            last = Some(Instant::now());
            pending = false;
        }
    }
    warnings
}

/// A sink that drops every event (tools whose result says everything).
fn discard(_: Event) {}

fn to_json<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "serialisation_error": e.to_string() }))
}

/// A call's arguments, or the protocol error that says what is wrong with them.
fn parse<T: DeserializeOwned>(tool: &str, args: Value) -> Result<T, McpError> {
    serde_json::from_value(args).map_err(|e| McpError::invalid_params(format!("{tool}: {e}"), None))
}

/// Runs `op` on the request on a blocking thread, its result as JSON; a request that could not
/// be made (a path refused, an argument out of bounds) is the call's error.
async fn operate<R: Send + 'static, T: serde::Serialize + 'static>(
    req: Result<R, Error>,
    op: fn(&R) -> Result<T, Error>,
) -> Result<Value, Error> {
    let req = req?;
    blocking(move || op(&req).map(to_json)).await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::CheckFailed(format!("the operation's thread failed: {e}"))))
}

/// A file as a resource link.
fn link(path: &std::path::Path) -> ContentBlock {
    let name = breastmnist_ops::file_name(path);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mime = if ext == "json" {
        "application/json"
    } else if ext == "csv" {
        "text/csv"
    } else {
        "application/octet-stream"
    };
    ContentBlock::resource_link(Resource::new(format!("file://{}", path.display()), name).with_mime_type(mime))
}

/// A tool result: the value as structured content (and as text), or the error with its kind.
fn finish(result: Result<Value, Error>) -> CallToolResult {
    match result {
        Ok(v) => CallToolResult::structured(v),
        Err(e) => {
            let kind = e.kind();
            let mut r = CallToolResult::error(vec![ContentBlock::text(format!("{}: {e}", kind.name()))]);
            r.structured_content = Some(json!({ "kind": kind, "exit_code": kind.exit_code(), "message": e.to_string() }));
            r
        }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("breastmnist", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "BreastMNIST Lab: MedMNIST 2D datasets, training, evaluation and Grad-CAM. Every path is under {}. \
                 Model selection reads validation only; data must verify (MD5) before training.",
                self.root.path().display()
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = tools::catalog()
            .into_iter()
            .map(|(name, description, schema)| {
                let schema = schema.as_object().cloned().unwrap_or_default();
                Tool::new(name, description, Arc::new(schema))
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = Value::Object(request.arguments.unwrap_or_default());
        self.run(&request.name, args, context).await.map(Into::into)
    }
}
