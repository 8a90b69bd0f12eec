//! The worker's top: the message loop. Each command's envelope is read (`io::read`), turned into
//! a [`Job`] by the pure [`plan`], and carried out by the room that owns it: a run (`driver`),
//! an evaluation, pretraining (`pretext`), a GAN (`gan`), a question for the kept model (`explain`), or the
//! run's switches (`control`).
//!
//! Nothing imports it: it is the only room that knows every other one.

use std::rc::Rc;

use breastmnist_protocol::{FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::MessageEvent;

use crate::control::Control;
use crate::explain::Explainer;
use crate::io::{fail, post, read, scope};
use crate::job::{Job, Run, plan};
use crate::{driver, gan, pretext};

/// Installs the message handler and announces readiness.
pub fn listen() {
    let control = Rc::new(Control::default());
    let explainer = Rc::new(Explainer::default());
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let (json, buffers) = read(&ev.data());
        let job = match ToWorker::from_json(&json) {
            Ok(command) => plan(command, buffers, control.running.get()),
            Err(e) => Job::Refuse(e),
        };
        carry_out(job, &control, &explainer);
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&FromWorker::Ready { wire: breastmnist_protocol::WIRE_ID }, None);
}

fn carry_out(job: Job, control: &Rc<Control>, explainer: &Rc<Explainer>) {
    match job {
        Job::Run(run) => {
            control.stop.set(false);
            control.paused.set(false);
            control.running.set(true);
            let (control, explainer) = (control.clone(), explainer.clone());
            spawn_local(async move {
                let outcome = match run {
                    Run::Train { request, data, init } => driver::run(request, data, init, &control, &explainer).await,
                    Run::Evaluate { backend, name, tta, data, checkpoint } => {
                        driver::evaluate(backend, name, tta, data, checkpoint, &explainer).await
                    }
                    Run::Pretrain { request, data, extras } => pretext::run(request, data, extras, &control).await,
                    Run::Gan { request, data, encoder } => gan::run(request, data, encoder, &control).await,
                };
                if let Err(error) = outcome {
                    fail(error);
                }
                control.running.set(false);
            });
        }
        Job::Pause => {
            control.paused.set(true);
            post(&FromWorker::Paused, None);
        }
        Job::Unpause => {
            control.paused.set(false);
            post(&FromWorker::Unpaused, None);
        }
        Job::Stop => control.stop.set(true),
        Job::Ask(question) => explainer.enqueue(question),
        Job::Refuse(error) => fail(error),
    }
}
