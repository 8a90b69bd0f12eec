//! A seeded mutation fuzz of the two persisted binary formats that stays in the suite:
//! `Checkpoint::from_bytes` (and `load` of a record that parses) and `Snapshot::from_bytes` (and
//! the checkpoints inside it). Truncations, bit flips, byte overwrites, huge length fields and
//! rewritten JSON headers (huge numbers, deep nesting, long strings, wrong types) must each give
//! `Ok` or a typed error, never a panic, within a time and an allocation bound per case.
//!
//! `crafted_*` tests walk fixed lists; `seeded_mutations_fail_cleanly` draws cases from a seed
//! and is steered by the environment as the data crate's fuzz test is (`cargo xtask fuzz` runs
//! both for minutes): `BREASTMNIST_FUZZ_SEED`, `BREASTMNIST_FUZZ_CASES` (default 6000),
//! `BREASTMNIST_FUZZ_SECONDS`, `BREASTMNIST_FUZZ_CASE` (replay one) and `BREASTMNIST_FUZZ_TRACE`.
//! The starting points are made by the core from tiny untrained models and a one-epoch run.

mod common;

#[path = "../../data/tests/fuzz_support/mod.rs"]
mod fuzz_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use breastmnist_core::Device;
use breastmnist_core::checkpoint::{self, Checkpoint};
use breastmnist_core::model::{ModelConfig, ModelSize};
use breastmnist_core::rng::Rng;
use breastmnist_core::train::{Snapshot, TrainConfig, Trainer};
use fuzz_support::{Runner, plan};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The seeded generator (the core's own SplitMix64) and the environment.

fn chance(rng: &mut Rng, percent: usize) -> bool {
    rng.below(100) < percent
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len())]
}

// ---------------------------------------------------------------------------------------------
// Starting points, made by the core.

struct Bases {
    /// Checkpoints of an untrained `tiny` ResNet and an untrained `c8` CNN.
    checkpoints: Vec<(&'static str, Vec<u8>)>,
    /// A snapshot after one epoch of `tiny` on 8 px synthetic images (history and best set).
    snapshot: Vec<u8>,
}

fn bases() -> Bases {
    let device = Device::flex();
    let checkpoints = [("tiny", ModelSize::Tiny), ("c8", ModelSize::C8)]
        .map(|(name, size)| {
            let config = ModelConfig::of(size);
            (name, checkpoint::save(&config.init(&device, 0).expect("a valid config"), &config).expect("saves"))
        })
        .to_vec();
    let (data, _) = common::synthetic_dataset(8, [16, 8, 8], 3);
    let config = TrainConfig::new().with_model(ModelSize::Tiny).with_epochs(2).with_batch_size(8).with_seed(3);
    let mut trainer = Trainer::new(config, Arc::new(data), &device).expect("a valid run");
    while trainer.history().is_empty() {
        common::run(trainer.step()).expect("a step");
    }
    let snap = common::run(trainer.snapshot()).expect("a snapshot at the epoch boundary");
    assert!(snap.best.is_some() && !snap.state.history.is_empty());
    Bases { checkpoints, snapshot: snap.to_bytes() }
}

/// `(json, record)` of checkpoint bytes that parse.
fn split_checkpoint(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    (bytes[12..12 + len].to_vec(), bytes[12 + len..].to_vec())
}

fn join_checkpoint(json: &[u8], record: &[u8]) -> Vec<u8> {
    [&checkpoint::MAGIC[..], &(json.len() as u32).to_le_bytes(), json, record].concat()
}

/// The three parts of snapshot bytes that parse.
fn split_snapshot(bytes: &[u8]) -> [Vec<u8>; 3] {
    let mut at = 8;
    [(); 3].map(|_| {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes")) as usize;
        let part = bytes[at + 8..at + 8 + len].to_vec();
        at += 8 + len;
        part
    })
}

fn join_snapshot(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"BMNSNAP1".to_vec();
    for p in parts {
        out.extend_from_slice(&(p.len() as u64).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// Offsets where the snapshot's length fields are.
fn snapshot_fields(bytes: &[u8]) -> Vec<usize> {
    let parts = split_snapshot(bytes);
    vec![8, 16 + parts[0].len(), 24 + parts[0].len() + parts[1].len()]
}

// ---------------------------------------------------------------------------------------------
// The checks: any outcome but a panic is fine; a parsed checkpoint whose configuration is one we
// made is also loaded (burn parses its record), as importing one on the page does.

fn check_checkpoint(bytes: &[u8], load: bool) -> Result<(), String> {
    match Checkpoint::from_bytes(bytes) {
        Ok(ckpt) => {
            ckpt.config.validate().map_err(|e| format!("from_bytes accepted an invalid config: {e}"))?;
            let ours = [ModelSize::Tiny, ModelSize::C8].iter().any(|&s| ckpt.config == ModelConfig::of(s));
            if load && ours {
                let device = Device::flex();
                match ckpt.load(&device) {
                    Ok(_) => {}
                    Err(e) => nonempty(&e.to_string())?,
                }
            }
            Ok(())
        }
        Err(e) => nonempty(&e.to_string()),
    }
}

fn check_snapshot(bytes: &[u8], load: bool) -> Result<(), String> {
    match Snapshot::from_bytes(bytes) {
        Ok(snap) => {
            // What `Trainer::resume` reads next.
            check_checkpoint(&snap.current, load)?;
            if let Some(best) = &snap.best {
                check_checkpoint(best, load)?;
            }
            let _ = snap.state.config.validate(546).map_err(|e| e.to_string());
            Ok(())
        }
        Err(e) => nonempty(&e.to_string()),
    }
}

fn nonempty(msg: &str) -> Result<(), String> {
    if msg.is_empty() { Err("an error with an empty message".into()) } else { Ok(()) }
}

// ---------------------------------------------------------------------------------------------
// Mutations.

const INTERESTING: [u64; 13] = [
    0,
    1,
    0x7f,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    1 << 40,
    i64::MAX as u64,
    u64::MAX - 1,
    u64::MAX,
];

/// JSON values that break numeric, string and structured fields.
fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1),
        json!(3),
        json!(7),
        json!(257),
        json!(1000),
        json!(1001),
        json!(99_999_999_999u64),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(-1e308),
        json!(2.5),
        json!(""),
        json!("x".repeat(100_000)),
        json!("tiny"),
        json!("resnet18"),
        json!([]),
        json!({}),
        json!([1, 2, 3]),
        json!({"a": 1}),
    ]
}

/// JSON text that a `Value` cannot carry: deep nesting, numbers past u64 and f64.
fn odd_texts(rng: &mut Rng) -> Vec<String> {
    let depth = *pick(rng, &[10, 127, 128, 129, 1000, 100_000]);
    vec![
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
        "18446744073709551616".into(),
        "1e400".into(),
        "-0".into(),
        "9".repeat(5000),
        "\"\\ud800\"".into(),
        "\"\\u0000\"".into(),
        "NaN".into(),
    ]
}

/// Every path to a leaf or object of `v` (object keys and array indices).
fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                prefix.push(k.clone());
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate().take(3) {
                prefix.push(i.to_string());
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, key| match v {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

/// `json` with the value at `path` replaced by the raw text `text`.
fn with_text_at(json: &[u8], path: &[String], text: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(json).expect("our own JSON");
    let marker = "@@FUZZ@@";
    if let Some(slot) = at_path(&mut v, path) {
        *slot = json!(marker);
    }
    serde_json::to_string(&v).expect("serialises").replacen(&format!("\"{marker}\""), text, 1).into_bytes()
}

fn with_value_at(json: &[u8], path: &[String], value: Value) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(json).expect("our own JSON");
    if let Some(slot) = at_path(&mut v, path) {
        *slot = value;
    }
    serde_json::to_vec(&v).expect("serialises")
}

fn without(json: &[u8], path: &[String]) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(json).expect("our own JSON");
    let (last, parent) = path.split_last().expect("a path");
    if let Some(Value::Object(map)) = at_path(&mut v, parent) {
        map.remove(last);
    }
    serde_json::to_vec(&v).expect("serialises")
}

/// A few stacked random edits of `bytes`; `hot` are offsets where fields start.
fn mutate(bytes: &mut Vec<u8>, hot: &[usize], rng: &mut Rng) -> String {
    let mut what = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let len = bytes.len();
        if len == 0 {
            break;
        }
        let at = if !hot.is_empty() && chance(rng, 60) {
            (hot[rng.below(hot.len())] + rng.below(16)).min(len - 1)
        } else {
            rng.below(len)
        };
        match rng.below(7) {
            0 => {
                let cut = rng.below(len + 1);
                bytes.truncate(cut);
                what.push(format!("truncate@{cut}"));
            }
            1 | 2 => {
                for _ in 0..1 + rng.below(8) {
                    let i = if chance(rng, 50) { at } else { rng.below(len) };
                    bytes[i] ^= 1 << rng.below(8);
                }
                what.push(format!("flips@{at}"));
            }
            3 => {
                let v = *pick(rng, &INTERESTING);
                let width = *pick(rng, &[1usize, 2, 4, 8]);
                for (k, b) in v.to_le_bytes()[..width].iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + k) {
                        *slot = *b;
                    }
                }
                what.push(format!("write{width}({v:#x})@{at}"));
            }
            4 => {
                let n = 1 + rng.below(16);
                for k in 0..n {
                    if let Some(slot) = bytes.get_mut(at + k) {
                        *slot = rng.next_u64() as u8;
                    }
                }
                what.push(format!("random{n}@{at}"));
            }
            5 => {
                let n = rng.below(64).min(len - at);
                bytes.drain(at..at + n);
                what.push(format!("delete{n}@{at}"));
            }
            _ => {
                let from = rng.below(len);
                let n = rng.below(256).min(len - from);
                let chunk = bytes[from..from + n].to_vec();
                bytes.splice(at..at, chunk);
                what.push(format!("insert{n}from{from}@{at}"));
            }
        }
    }
    what.join(",")
}

/// One random edit of checkpoint bytes that parse: of the bytes, the length, the JSON or the
/// record. Returns what was done, the bytes, and whether a parse should also be loaded.
fn mutate_checkpoint(base: &[u8], rng: &mut Rng) -> (String, Vec<u8>, bool) {
    let (json, record) = split_checkpoint(base);
    let json_paths = {
        let mut out = Vec::new();
        paths(&serde_json::from_slice(&json).expect("our own JSON"), &mut Vec::new(), &mut out);
        out
    };
    match rng.below(10) {
        0 | 1 => {
            let mut bytes = base.to_vec();
            let hot = [0, 8, 12, 12 + json.len(), 12 + json.len() + 8];
            let what = mutate(&mut bytes, &hot, rng);
            (format!("bytes {what}"), bytes, false)
        }
        2 => {
            let len = if chance(rng, 50) {
                *pick(rng, &INTERESTING) as u32
            } else {
                (json.len() as u32).wrapping_add(rng.below(9) as u32).wrapping_sub(4)
            };
            let mut bytes = join_checkpoint(&json, &record);
            bytes[8..12].copy_from_slice(&len.to_le_bytes());
            (format!("length {len}"), bytes, false)
        }
        3 | 4 => {
            let path = pick(rng, &json_paths).clone();
            let value = pick(rng, &odd_values()).clone();
            let shown = value.to_string().chars().take(24).collect::<String>();
            (format!("{} = {shown}", path.join(".")), join_checkpoint(&with_value_at(&json, &path, value), &record), true)
        }
        5 => {
            let path = pick(rng, &json_paths).clone();
            let texts = odd_texts(rng);
            let text = pick(rng, &texts).clone();
            let shown = text.chars().take(24).collect::<String>();
            let json = with_text_at(&json, &path, &text);
            (format!("{} = text {shown}", path.join(".")), join_checkpoint(&json, &record), true)
        }
        6 => {
            let path = pick(rng, &json_paths).clone();
            (format!("{} removed", path.join(".")), join_checkpoint(&without(&json, &path), &record), true)
        }
        7 => {
            let mut json = json.clone();
            let what = mutate(&mut json, &[], rng);
            (format!("json {what}"), join_checkpoint(&json, &record), true)
        }
        _ => {
            // The record: its first bytes are burn's header and tensor table.
            let mut record = record.clone();
            let hot: Vec<usize> = (0..256).step_by(4).collect();
            let what = mutate(&mut record, &hot, rng);
            (format!("record {what}"), join_checkpoint(&json, &record), true)
        }
    }
}

/// One random edit of snapshot bytes: of the bytes, a length field, the state JSON, or one of
/// the checkpoints inside (lengths kept right, so the parse reaches it).
fn mutate_snapshot(base: &[u8], rng: &mut Rng) -> (String, Vec<u8>, bool) {
    let parts = split_snapshot(base);
    match rng.below(10) {
        0 | 1 => {
            let mut bytes = base.to_vec();
            let what = mutate(&mut bytes, &snapshot_fields(base), rng);
            (format!("bytes {what}"), bytes, false)
        }
        2 => {
            let field = *pick(rng, &snapshot_fields(base));
            let old = u64::from_le_bytes(base[field..field + 8].try_into().expect("8 bytes"));
            let len =
                if chance(rng, 50) { *pick(rng, &INTERESTING) } else { old.wrapping_add(rng.below(9) as u64).wrapping_sub(4) };
            let mut bytes = base.to_vec();
            bytes[field..field + 8].copy_from_slice(&len.to_le_bytes());
            (format!("length at {field} = {len}"), bytes, false)
        }
        3..=5 => {
            let state = &parts[0];
            let mut state_paths = Vec::new();
            paths(&serde_json::from_slice(state).expect("our own JSON"), &mut Vec::new(), &mut state_paths);
            let path = pick(rng, &state_paths).clone();
            let (what, state) = match rng.below(4) {
                0 | 1 => {
                    let value = pick(rng, &odd_values()).clone();
                    let shown = value.to_string().chars().take(24).collect::<String>();
                    (format!("{} = {shown}", path.join(".")), with_value_at(state, &path, value))
                }
                2 => {
                    let texts = odd_texts(rng);
                    let text = pick(rng, &texts).clone();
                    let shown = text.chars().take(24).collect::<String>();
                    (format!("{} = text {shown}", path.join(".")), with_text_at(state, &path, &text))
                }
                _ => (format!("{} removed", path.join(".")), without(state, &path)),
            };
            (format!("state {what}"), join_snapshot(&[state, parts[1].clone(), parts[2].clone()]), false)
        }
        6 => {
            let mut state = parts[0].clone();
            let what = mutate(&mut state, &[], rng);
            (format!("state json {what}"), join_snapshot(&[state, parts[1].clone(), parts[2].clone()]), false)
        }
        7 => {
            let (what, parts) = match rng.below(4) {
                0 => ("best dropped", [parts[0].clone(), parts[1].clone(), Vec::new()]),
                1 => ("current dropped", [parts[0].clone(), Vec::new(), parts[2].clone()]),
                2 => ("state dropped", [Vec::new(), parts[1].clone(), parts[2].clone()]),
                _ => ("current and best swapped", [parts[0].clone(), parts[2].clone(), parts[1].clone()]),
            };
            (what.to_string(), join_snapshot(&parts), false)
        }
        _ => {
            let which = 1 + rng.below(2);
            let (what, inner, load) = mutate_checkpoint(&parts[which], rng);
            let mut parts = parts.clone();
            parts[which] = inner;
            (format!("part {which}: {what}"), join_snapshot(&parts), load)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// Fixed lists for checkpoints: every truncation and bit of the header, every length, every
/// JSON field set to every odd value, deep nesting, and burn's record cut and flipped.
#[test]
fn crafted_checkpoints_fail_cleanly() {
    let started = Instant::now();
    let bases = bases();
    let mut runner = Runner::new("checkpoint/crafted");
    let mut rng = Rng::new(7);
    for (name, base) in &bases.checkpoints {
        let (json, record) = split_checkpoint(base);
        let run = |runner: &mut Runner, label: String, bytes: &[u8]| {
            runner.case(&format!("{name} {label}"), bytes, &|b| check_checkpoint(b, true));
        };
        let header = 12 + json.len();
        let mut cuts: Vec<usize> = (0..header + 64).chain((0..64).map(|i| header + i * record.len() / 64)).collect();
        cuts.dedup();
        for cut in cuts {
            run(&mut runner, format!("truncated at {cut}"), &base[..cut]);
        }
        for at in 0..header + 16 {
            for bit in 0..8 {
                let mut b = base.clone();
                b[at] ^= 1 << bit;
                run(&mut runner, format!("bit {bit} of byte {at} flipped"), &b);
            }
        }
        let near = (0..9).map(|k| (json.len() as u64 + k).saturating_sub(4));
        for len in INTERESTING.iter().map(|&v| v as u32 as u64).chain(near) {
            let mut b = base.clone();
            b[8..12].copy_from_slice(&(len as u32).to_le_bytes());
            run(&mut runner, format!("length {len}"), &b);
        }
        let mut json_paths = Vec::new();
        paths(&serde_json::from_slice(&json).expect("our JSON"), &mut Vec::new(), &mut json_paths);
        for path in &json_paths {
            for value in odd_values() {
                let shown = value.to_string().chars().take(24).collect::<String>();
                run(
                    &mut runner,
                    format!("{} = {shown}", path.join(".")),
                    &join_checkpoint(&with_value_at(&json, path, value), &record),
                );
            }
            for text in odd_texts(&mut rng) {
                let shown = text.chars().take(24).collect::<String>();
                let bytes = join_checkpoint(&with_text_at(&json, path, &text), &record);
                run(&mut runner, format!("{} = text {shown}", path.join(".")), &bytes);
            }
            run(&mut runner, format!("{} removed", path.join(".")), &join_checkpoint(&without(&json, path), &record));
        }
        // The forged class counts, and a duplicate key.
        for classes in ["3", "1", "0", "99999999999", "1e11", "-1", "2.0"] {
            let text = String::from_utf8(json.clone()).expect("UTF-8");
            let forged = text.replace("\"num_classes\":2", &format!("\"num_classes\":{classes}"));
            assert_ne!(forged, text, "the config has num_classes 2");
            run(&mut runner, format!("num_classes {classes}"), &join_checkpoint(forged.as_bytes(), &record));
            let dup = text.replacen('{', &format!("{{\"num_classes\":{classes},"), 1);
            run(&mut runner, format!("num_classes {classes} twice"), &join_checkpoint(dup.as_bytes(), &record));
        }
        // burn's record: cut at every offset of its first KiB, a flipped bit in each of its
        // first 256 bytes, huge values in every 4-byte field of its header.
        for cut in (0..1024.min(record.len())).step_by(3) {
            run(&mut runner, format!("record cut at {cut}"), &join_checkpoint(&json, &record[..cut]));
        }
        for at in 0..256.min(record.len()) {
            let mut r = record.clone();
            r[at] ^= 1 << (at % 8);
            run(&mut runner, format!("record bit {} of byte {at} flipped", at % 8), &join_checkpoint(&json, &r));
        }
        for at in (0..128.min(record.len())).step_by(2) {
            for v in [u32::MAX, 0x8000_0000, 0] {
                let mut r = record.clone();
                let end = (at + 4).min(r.len());
                r[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
                run(&mut runner, format!("record u32 {v:#x} at {at}"), &join_checkpoint(&json, &r));
            }
        }
    }
    runner.finish(started);
}

/// Fixed lists for snapshots: every truncation of the header and state, every length field set
/// to every huge value, every state field set to every odd value.
#[test]
fn crafted_snapshots_fail_cleanly() {
    let started = Instant::now();
    let base = bases().snapshot;
    let parts = split_snapshot(&base);
    let mut runner = Runner::new("snapshot/crafted");
    let mut rng = Rng::new(11);
    let run = |runner: &mut Runner, label: String, bytes: &[u8]| {
        runner.case(&label, bytes, &|b| check_snapshot(b, false));
    };
    let fields = snapshot_fields(&base);
    let mut cuts: Vec<usize> = (0..fields[1] + 64)
        .chain(fields.iter().flat_map(|&f| f.saturating_sub(8)..f + 24))
        .chain((0..64).map(|i| i * base.len() / 64))
        .chain(base.len() - 16..base.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        run(&mut runner, format!("truncated at {cut}"), &base[..cut]);
    }
    for &field in &fields {
        let old = u64::from_le_bytes(base[field..field + 8].try_into().expect("8 bytes"));
        let near = (0..9).map(|k| (old + k).wrapping_sub(4));
        for len in INTERESTING.into_iter().chain(near) {
            let mut b = base.clone();
            b[field..field + 8].copy_from_slice(&len.to_le_bytes());
            run(&mut runner, format!("length at {field} = {len}"), &b);
        }
        for at in field..field + 8 {
            for bit in 0..8 {
                let mut b = base.clone();
                b[at] ^= 1 << bit;
                run(&mut runner, format!("bit {bit} of byte {at} flipped"), &b);
            }
        }
    }
    let mut state_paths = Vec::new();
    paths(&serde_json::from_slice(&parts[0]).expect("our JSON"), &mut Vec::new(), &mut state_paths);
    for path in &state_paths {
        for value in odd_values() {
            let shown = value.to_string().chars().take(24).collect::<String>();
            let state = with_value_at(&parts[0], path, value);
            run(
                &mut runner,
                format!("{} = {shown}", path.join(".")),
                &join_snapshot(&[state, parts[1].clone(), parts[2].clone()]),
            );
        }
        for text in odd_texts(&mut rng) {
            let shown = text.chars().take(24).collect::<String>();
            let state = with_text_at(&parts[0], path, &text);
            run(
                &mut runner,
                format!("{} = text {shown}", path.join(".")),
                &join_snapshot(&[state, parts[1].clone(), parts[2].clone()]),
            );
        }
        let state = without(&parts[0], path);
        run(&mut runner, format!("{} removed", path.join(".")), &join_snapshot(&[state, parts[1].clone(), parts[2].clone()]));
    }
    // A million-entry difficulty list (4 MiB of text) parses within the bounds.
    let big = format!("[{}0]", "0.5,".repeat(1_000_000));
    let state = with_text_at(&parts[0], &["difficulty".to_string()], &big);
    run(&mut runner, "a million difficulties".into(), &join_snapshot(&[state, parts[1].clone(), parts[2].clone()]));
    runner.finish(started);
}

/// Seeded random cases over both formats.
#[test]
fn seeded_mutations_fail_cleanly() {
    let started = Instant::now();
    let bases = bases();
    let (seed, cases, deadline) = plan(6000);
    let mut runner = Runner::new("checkpoint+snapshot/seeded");
    let mut next_report = Instant::now() + Duration::from_secs(10);
    for index in cases {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let mut rng = Rng::new(seed).fork(index);
        let (label, bytes, load, snapshot) = if chance(&mut rng, 50) {
            let (name, base) = pick(&mut rng, &bases.checkpoints);
            let (what, bytes, load) = mutate_checkpoint(base, &mut rng);
            (format!("checkpoint {name} {what}"), bytes, load, false)
        } else {
            let (what, bytes, load) = mutate_snapshot(&bases.snapshot, &mut rng);
            (format!("snapshot {what}"), bytes, load, true)
        };
        let label = format!("seed {seed:#x} case {index} ({label})");
        if snapshot {
            runner.case(&label, &bytes, &|b| check_snapshot(b, load));
        } else {
            runner.case(&label, &bytes, &|b| check_checkpoint(b, load));
        }
        if deadline.is_some() && Instant::now() >= next_report {
            next_report += Duration::from_secs(10);
            println!("fuzz-progress: target=checkpoint+snapshot cases={}", runner.cases);
        }
    }
    if !runner.failures.is_empty() {
        eprintln!(
            "replay one with BREASTMNIST_FUZZ_SEED={seed:#x} BREASTMNIST_FUZZ_CASE=<case> \
             cargo test --profile ci -p breastmnist-core --test fuzz seeded"
        );
    }
    runner.finish(started);
}

/// PyTorch weights in (`torch::checkpoint_from_bytes`): a `.safetensors` export of `tiny` and
/// `c8`, truncated, bit-flipped in and after its header, with its header length rewritten and
/// with each tensor's JSON entry given odd shapes, dtypes and offsets: `Ok` or a typed error.
#[test]
fn crafted_safetensors_fail_cleanly() {
    use breastmnist_core::torch;
    let started = Instant::now();
    let bases = bases();
    let mut runner = Runner::new("safetensors/crafted");
    let check = |b: &[u8]| -> Result<(), String> {
        let _ = torch::checkpoint_from_bytes(b, 28, 1, None);
        Ok(())
    };
    for (name, ckpt) in &bases.checkpoints {
        let base = common::run(torch::to_safetensors(&Checkpoint::from_bytes(ckpt).expect("ours"))).expect("exports");
        let header = 8 + u64::from_le_bytes(base[..8].try_into().unwrap()) as usize;
        let mut cuts: Vec<usize> =
            (0..header + 16).step_by(3).chain((0..32).map(|i| header + i * (base.len() - header) / 32)).collect();
        cuts.dedup();
        for cut in cuts {
            runner.case(&format!("{name} truncated at {cut}"), &base[..cut], &check);
        }
        for at in (0..header).step_by(7).chain(header..header + 64) {
            let mut b = base.clone();
            b[at] ^= 0x5a;
            runner.case(&format!("{name} byte {at} flipped"), &b, &check);
        }
        for len in INTERESTING {
            let mut b = base.clone();
            b[..8].copy_from_slice(&len.to_le_bytes());
            runner.case(&format!("{name} header length {len}"), &b, &check);
        }
        let json: Value = serde_json::from_slice(&base[8..header]).expect("a JSON header");
        let body = &base[header..];
        for key in json.as_object().expect("an object").keys().filter(|k| *k != "__metadata__").take(6) {
            for (field, odd) in [
                ("shape", json!([u32::MAX, u32::MAX])),
                ("shape", json!([])),
                ("shape", json!([3, 64])),
                ("dtype", json!("I8")),
                ("dtype", json!("F16")),
                ("data_offsets", json!([0, u64::MAX])),
                ("data_offsets", json!([8, 4])),
            ] {
                let mut j = json.clone();
                j[key][field] = odd;
                let text = serde_json::to_vec(&j).unwrap();
                let mut b = (text.len() as u64).to_le_bytes().to_vec();
                b.extend_from_slice(&text);
                b.extend_from_slice(body);
                runner.case(&format!("{name} {key}.{field} odd"), &b, &check);
            }
        }
    }
    runner.finish(started);
}

/// PyTorch's `.pt` read from memory (`torch_zip`, the browser's reader): a `torch.save`-layout
/// ZIP of `tiny` (written by tests/fixtures/safetensors_to_pt.py), truncated, with bytes flipped
/// all through it (the pickle's opcodes and lengths included) and with its pickle's length
/// fields rewritten: `Ok` or a typed error, in bounded time and memory.
#[test]
fn crafted_pytorch_zips_fail_cleanly() {
    use breastmnist_core::{torch, torch_zip};
    let started = Instant::now();
    let bases = bases();
    let dir = std::env::temp_dir().join(format!("bmn-fuzz-pt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (st, pt) = (dir.join("tiny.safetensors"), dir.join("tiny.pt"));
    let ckpt = Checkpoint::from_bytes(&bases.checkpoints[0].1).expect("ours");
    std::fs::write(&st, common::run(torch::to_safetensors(&ckpt)).expect("exports")).unwrap();
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/safetensors_to_pt.py");
    let out = std::process::Command::new("python3").arg(&script).arg(&st).arg(&pt).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let base = std::fs::read(&pt).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(torch::checkpoint_from_bytes(&base, 28, 1, None).is_ok(), "the base imports");

    let mut runner = Runner::new("pytorch-zip/crafted");
    let check = |b: &[u8]| -> Result<(), String> {
        let _ = torch::checkpoint_from_bytes(b, 28, 1, None);
        Ok(())
    };
    let step = (base.len() / 400).max(1);
    for cut in (0..base.len()).step_by(step) {
        runner.case(&format!("truncated at {cut}"), &base[..cut], &check);
    }
    for at in (0..base.len()).step_by(step) {
        let mut b = base.clone();
        b[at] ^= 0xff;
        runner.case(&format!("byte {at} flipped"), &b, &check);
    }
    runner.finish(started);

    // The pickle machine itself (a flipped byte in the archive fails its CRC first): every
    // byte of data.pkl set to random values, and truncations.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&base)).unwrap();
    let mut pickle = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("archive/data.pkl").unwrap(), &mut pickle).unwrap();
    assert!(torch_zip::tensors_in_pickle(&pickle).is_ok_and(|t| t.contains_key("conv1.weight")));
    let mut runner = Runner::new("pytorch-pickle/crafted");
    let check = |b: &[u8]| -> Result<(), String> {
        let _ = torch_zip::tensors_in_pickle(b);
        Ok(())
    };
    for cut in 0..pickle.len() {
        runner.case(&format!("pickle truncated at {cut}"), &pickle[..cut], &check);
    }
    let mut rng = Rng::new(11);
    for at in 0..pickle.len() {
        for _ in 0..2 {
            let mut b = pickle.clone();
            b[at] = rng.below(256) as u8;
            runner.case(&format!("pickle byte {at} set"), &b, &check);
        }
    }
    runner.finish(started);
}
