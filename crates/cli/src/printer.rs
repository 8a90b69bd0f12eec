//! The two printers over the operations layer's events: human text (progress and notes on
//! stderr, the result on stdout) and JSON Lines (`--json`: one event per line on stdout, the
//! human notes still on stderr).

use std::path::PathBuf;

use breastmnist_ops::{Error, Event, Sink};
use indicatif::{ProgressBar, ProgressStyle};

/// Where a command's events and result go.
pub(crate) struct Printer {
    json: bool,
    bar: Option<ProgressBar>,
}

impl Printer {
    pub(crate) fn new(json: bool) -> Self {
        Printer { json, bar: None }
    }

    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    fn line(&self, event: &Event) {
        match serde_json::to_string(event) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: cannot write an event as JSON: {e}"),
        }
    }

    /// A note for the reader, above the progress bar when one is shown.
    fn say(&self, line: String) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }

    /// The command finished: the `done` event, or the text `text` prints.
    pub(crate) fn done(&mut self, command: &str, result: serde_json::Value, files: Vec<PathBuf>, text: impl FnOnce()) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.json {
            self.line(&Event::Done { command: command.into(), result, files });
        } else {
            text();
        }
    }

    /// The command failed: the `error` event (JSON) and the message on stderr.
    pub(crate) fn fail(&mut self, e: &Error) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.json {
            self.line(&Event::error(e));
        }
        eprintln!("error: {e}");
    }
}

impl Sink for Printer {
    fn emit(&mut self, event: Event) {
        if self.json {
            match &event {
                // Steps are progress for a terminal or an MCP client, too many for a log.
                Event::Step { .. } => {}
                // Notes are for a person: stderr.
                Event::Note { message } => eprintln!("{message}"),
                Event::Warning { message } => {
                    self.line(&event);
                    eprintln!("warning: {message}");
                }
                _ => self.line(&event),
            }
            return;
        }
        // A note, a finished lab run or a finished pretraining ends the progress bar it follows.
        let ends_bar = match &event {
            Event::Note { .. } | Event::LabRun { .. } => true,
            Event::PretextEpoch { epoch, epochs, .. } => epoch == epochs,
            _ => false,
        };
        if ends_bar && let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        match event {
            Event::Started { detail, .. } if !detail.is_empty() => eprintln!("{detail}"),
            Event::Step { epoch, epochs, step, steps_per_epoch, loss } => {
                let bar = self.bar.get_or_insert_with(|| {
                    let bar = ProgressBar::new((epochs * steps_per_epoch) as u64);
                    bar.set_style(
                        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar
                });
                bar.set_position(((epoch - 1) * steps_per_epoch + step) as u64);
                bar.set_message(format!("epoch {epoch} loss {loss:.4}"));
            }
            Event::Epoch { epoch, train_loss, train_acc, val_loss, val_acc, val_auc, kept, .. } => self.say(format!(
                "epoch {epoch:>3}  train loss {train_loss:.4} acc {train_acc:.3} | val loss {val_loss:.4} acc {val_acc:.3} auc {val_auc:.4}{}",
                if kept { "  *kept" } else { "" }
            )),
            Event::Warning { message } => self.say(format!("warning: {message}")),
            Event::Note { message } => self.say(message),
            Event::File { path, role } if role == "starting-point" => self.say(format!("kept {}", path.display())),
            Event::PretextEpoch { task, model, epoch, epochs, loss } => {
                self.say(format!("{model} {task}: epoch {epoch:>3}/{epochs}  loss {loss:.4}"))
            }
            Event::LabRun { model, method, seed, test_auc, test_acc, seconds, .. } => {
                self.say(format!("{model} {method} seed {seed}: test AUC {test_auc:.4} ACC {test_acc:.4} ({seconds:.0} s)"))
            }
            _ => {}
        }
    }
}
