//! A seeded mutation fuzz of `decode_npz` that stays in the suite: crafted and mutated archives
//! (truncations, bit flips, byte overwrites, `.npy` header rewrites, odd and duplicate member
//! names, zip bombs) must each give `Ok` or a `DataError`, never a panic, within a time and an
//! allocation bound per case.
//!
//! Two tests: `crafted_archives_fail_cleanly` walks a fixed list (every truncation of a small
//! archive, every header rewrite, every bomb); `seeded_mutations_fail_cleanly` draws cases from a
//! seed. The environment steers the second (`cargo xtask fuzz` runs it for minutes):
//! `BREASTMNIST_FUZZ_SEED` (default fixed), `BREASTMNIST_FUZZ_CASES` (default 3000),
//! `BREASTMNIST_FUZZ_SECONDS` (run until then instead), `BREASTMNIST_FUZZ_CASE` (replay one case)
//! and `BREASTMNIST_FUZZ_TRACE` (a file naming the case in progress, for a crash that kills the
//! process). Starts from the real file when `breastmnist_data::local` finds it and always from
//! synthetic archives, so it never skips.

mod common;
mod fuzz_support;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use breastmnist_data::{Dataset, DecodeOptions, decode_npz};
use common::{Member, npy, valid_members};
use fuzz_support::{Runner, peak_of, plan};

// ---------------------------------------------------------------------------------------------
// The seeded generator and the environment.

/// SplitMix64.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { ((self.next() as u128 * n as u128) >> 64) as usize }
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The generator of case `index` under `seed`: cases are independent, so one can be replayed.
fn case_rng(seed: u64, index: u64) -> Prng {
    let mut r = Prng(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next();
    r
}

// ---------------------------------------------------------------------------------------------
// Inputs: the valid archives we start from, and a raw zip writer for what the zip crate refuses
// to write (duplicate names, lying sizes, odd methods).

/// A valid starting point: its members, its archive bytes and the options it decodes under.
struct Base {
    name: &'static str,
    members: Vec<Member>,
    bytes: Vec<u8>,
    options: DecodeOptions,
}

/// Decodes any split size, with a small member limit so real bombs stay cheap.
fn any_size() -> DecodeOptions {
    DecodeOptions { max_member_bytes: 4 << 20, split_sizes: None, ..DecodeOptions::default() }
}

/// Three tiny splits (3, 2 and 2 images of 4x4 px): small enough to cut at every offset.
fn small_members() -> Vec<Member> {
    let mut members = Vec::new();
    for (split, n) in [("train", 3), ("val", 2), ("test", 2)] {
        let images: Vec<u8> = (0..n * 16).map(|i| i as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        members.push(Member { name: format!("{split}_images.npy"), bytes: npy("|u1", &[n, 4, 4], &images) });
        members.push(Member { name: format!("{split}_labels.npy"), bytes: npy("|u1", &[n, 1], &labels) });
    }
    members
}

fn members_of(bytes: &[u8]) -> Vec<Member> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("the real file is a zip");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("readable member");
            let mut data = Vec::new();
            file.read_to_end(&mut data).expect("readable member");
            Member { name: file.name().expect("a UTF-8 name").to_string(), bytes: data }
        })
        .collect()
}

fn copy(members: &[Member]) -> Vec<Member> {
    members.iter().map(|m| Member { name: m.name.clone(), bytes: m.bytes.clone() }).collect()
}

/// The starting points: the real file if present, the official-size synthetic archive (stored)
/// and the small one (stored and deflated). Each decodes.
fn bases() -> Vec<Base> {
    let mut bases = Vec::new();
    // `find`, not `real_file`: this test runs from synthetic archives too, so it never skips.
    if let Ok(path) = breastmnist_data::local::find("breastmnist.npz") {
        let bytes = std::fs::read(path).expect("readable data file");
        bases.push(Base { name: "real", members: members_of(&bytes), bytes, options: DecodeOptions::default() });
    }
    let official = valid_members(28);
    bases.push(Base {
        name: "official-stored",
        bytes: common::zip(&official, false),
        members: official,
        options: DecodeOptions::default(),
    });
    for (name, deflate) in [("small-stored", false), ("small-deflated", true)] {
        let members = small_members();
        bases.push(Base { name, bytes: common::zip(&members, deflate), members, options: any_size() });
    }
    for base in &bases {
        decode_npz(&base.bytes, &base.options).unwrap_or_else(|e| panic!("base {} must decode: {e}", base.name));
    }
    bases
}

/// One member as the raw writer lays it out; every field can lie.
#[derive(Clone)]
struct RawEntry {
    name: Vec<u8>,
    /// Compression method (0 stored, 8 deflate, others unsupported here).
    method: u16,
    flags: u16,
    crc: u32,
    /// The declared uncompressed size.
    size: u64,
    /// The payload as written (already compressed when `method` is 8).
    payload: Vec<u8>,
    /// Write sizes through a zip64 extra field.
    zip64: bool,
}

impl RawEntry {
    fn new(name: &str, data: &[u8], deflate: bool) -> Self {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let payload = if deflate { deflated(data) } else { data.to_vec() };
        RawEntry {
            name: name.as_bytes().to_vec(),
            method: if deflate { 8 } else { 0 },
            flags: 0,
            crc: crc.sum(),
            size: data.len() as u64,
            payload,
            zip64: false,
        }
    }
}

fn deflated(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory")
}

/// A zip of `entries` written field by field (local headers, central directory, end record).
fn raw_zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let (size32, csize32) = if e.zip64 { (u32::MAX, u32::MAX) } else { (e.size as u32, e.payload.len() as u32) };
        let mut extra = Vec::new();
        if e.zip64 {
            extra.extend_from_slice(&1u16.to_le_bytes());
            extra.extend_from_slice(&16u16.to_le_bytes());
            extra.extend_from_slice(&e.size.to_le_bytes());
            extra.extend_from_slice(&(e.payload.len() as u64).to_le_bytes());
        }
        let common_fields = |buf: &mut Vec<u8>| {
            buf.extend_from_slice(&20u16.to_le_bytes());
            buf.extend_from_slice(&e.flags.to_le_bytes());
            buf.extend_from_slice(&e.method.to_le_bytes());
            buf.extend_from_slice(&[0, 0, 0x21, 0]); // time, date (1980-01-01)
            buf.extend_from_slice(&e.crc.to_le_bytes());
            buf.extend_from_slice(&csize32.to_le_bytes());
            buf.extend_from_slice(&size32.to_le_bytes());
            buf.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        };
        out.extend_from_slice(b"PK\x03\x04");
        common_fields(&mut out);
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&extra);
        out.extend_from_slice(&e.payload);

        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common_fields(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&[0; 4]); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(&e.name);
        central.extend_from_slice(&extra);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn raw_entries(members: &[Member], deflate: bool) -> Vec<RawEntry> {
    members.iter().map(|m| RawEntry::new(&m.name, &m.bytes, deflate)).collect()
}

/// `len` zero bytes deflated, built from one compressed MiB repeated (cheap for any size).
fn zero_bomb(len: usize) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut chunk = Vec::with_capacity(4096);
    compress.compress_vec(&[0; 1 << 20], &mut chunk, flate2::FlushCompress::Full).expect("in memory");
    let mut tail = Vec::with_capacity(64);
    let rest = vec![0; len % (1 << 20)];
    compress.reset();
    tail.reserve(rest.len() / 100 + 64);
    compress.compress_vec(&rest, &mut tail, flate2::FlushCompress::Finish).expect("in memory");
    let mut out = Vec::with_capacity(chunk.len() * (len >> 20) + tail.len());
    for _ in 0..len >> 20 {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&tail);
    out
}

/// A `.npy` member with the header text `header`, framed as version `version`, declaring
/// `declared` bytes of header (its true length when `None`), followed by `data`.
fn npy_raw(header: &[u8], version: u8, declared: Option<u32>, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    let len = declared.unwrap_or(header.len() as u32);
    if version == 1 {
        out.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&len.to_le_bytes());
    }
    out.extend_from_slice(header);
    out.extend_from_slice(data);
    out
}

fn header_of(descr: &str, shape: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n")
}

fn shape_text(shape: &[u64]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// The shape each member of a base holds (read back from the header NumPy-style).
fn shape_of(member: &Member) -> Vec<u64> {
    let text = String::from_utf8_lossy(&member.bytes[10..member.bytes.len().min(200)]);
    let inner = text.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).unwrap_or("");
    inner.split(',').filter_map(|d| d.trim().parse().ok()).collect()
}

/// Nesting of `depth` levels of one bracket kind around `0` (sets, lists, tuples, dicts).
fn nested(depth: usize, kind: usize) -> String {
    let (open, close) = [("{", "}"), ("[", "]"), ("(", ",)"), ("{0: ", "}")][kind % 4];
    format!("{}0{}", open.repeat(depth), close.repeat(depth))
}

/// Header texts that attack the `.npy` parser: nesting, huge integers, odd dtypes and keys,
/// long or non-ASCII text. `shape` is the member's true shape, `pick` chooses the variant.
fn crafted_header(pick: usize, shape: &[u64], rng: &mut Prng) -> String {
    let good = shape_text(shape);
    let n = shape.first().copied().unwrap_or(1);
    let digits = |k: usize| "9".repeat(k);
    match pick % 24 {
        0 => format!(
            "{{'descr': '|u1', 'fortran_order': False, 'shape': {good}, 'x': {}}}\n",
            nested(1 + rng.below(40), rng.below(4))
        ),
        1 => format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {}, }}\n", nested(1 + rng.below(30), 2)),
        2 => header_of("|u1", &format!("({}, 1)", digits(*rng.pick(&[17, 18, 19, 20, 40, 400, 5000])))),
        3 => header_of("|u1", &shape_text(&[*rng.pick(&[u64::MAX, i64::MAX as u64, 1 << 32, 1 << 40, 4_294_967_296]), 28, 28])),
        4 => header_of("|u1", &format!("(-{n}, 1)")),
        5 => header_of("|u1", "()"),
        6 => header_of("|u1", &shape_text(&[0, 28, 28])),
        7 => header_of("|u1", &shape_text(&[4_294_967_296, 4_294_967_296, 4_294_967_296])),
        8 => header_of(WRONG_DTYPES[rng.below(WRONG_DTYPES.len())], &good),
        9 => format!("{{'descr': [('a', '|u1'), ('b', '<i4')], 'fortran_order': False, 'shape': {good}, }}\n"),
        10 => format!("{{'descr': '|u1', 'fortran_order': True, 'shape': {good}, }}\n"),
        11 => format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {good}, 'shape': {good}, }}\n"),
        12 => format!("{{'descr': '|u1', 'shape': {good}, }}\n"),
        13 => format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {good}, 'extra': 1, }}\n"),
        14 => format!("{{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": {good}, }}\n"),
        15 => format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {good}, }}{}\n", " ".repeat(rng.below(12_000))),
        16 => format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {good}, }} trailing"),
        17 => format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {good}, "),
        18 => format!("{{'descr': '|u1', 'fortran_order': None, 'shape': {good}, }}\n"),
        19 => format!("{{'descr': '|u1:', 'fortran_order': False, 'shape': {good}, }}\n"),
        20 => format!("{{'descr': '|u1,', 'fortran_order': False, 'shape': {good}, }}\n"),
        21 => format!("{{'desc' 'r': '|u1', 'fortran_order': False, 'shape': {good}, }}\n"),
        22 => format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({n}, 1,,), }}\n"),
        _ => format!("{{'descr': '\\'|u1', 'fortran_order': False, 'shape': {good}, }}\n"),
    }
}

/// dtypes other than `|u1`, from plausible to nonsense.
const WRONG_DTYPES: [&str; 12] = ["<i8", "<f4", "|b1", "|S10", "<U3", "O", "|V8", "<u2", ">u1", "|i1", "u1", "x"];

/// Member names that are not quite right.
const ODD_NAMES: [&str; 12] = [
    "../train_images.npy",
    "/train_images.npy",
    "./train_images.npy",
    "train_images.npy/",
    "TRAIN_IMAGES.NPY",
    "train_images.npy\0",
    "train_images",
    "",
    "train\\images.npy",
    "train_images.npy.npy",
    "trаin_images.npy", // a Cyrillic 'а'
    "x/../train_images.npy",
];

// ---------------------------------------------------------------------------------------------
// Mutations of raw bytes.

/// Values that break length and offset fields.
const INTERESTING: [u64; 14] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    i64::MAX as u64,
    u64::MAX,
    10_001,
];

/// Offsets of zip records (local, central, end, zip64 end) in `bytes`: where fields live.
fn zip_records(bytes: &[u8]) -> Vec<usize> {
    bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| matches!(w, [b'P', b'K', 1 | 3 | 5 | 6, 2 | 4 | 6 | 7]))
        .map(|(i, _)| i)
        .collect()
}

/// A few stacked random edits of `bytes`; `hot` are offsets where fields start.
fn mutate(bytes: &mut Vec<u8>, hot: &[usize], rng: &mut Prng) -> String {
    let mut what = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let len = bytes.len();
        let at = if !hot.is_empty() && rng.chance(60) {
            (hot[rng.below(hot.len())] + rng.below(48)).min(len.saturating_sub(1))
        } else {
            rng.below(len)
        };
        match rng.below(8) {
            0 => {
                let cut = rng.below(len + 1);
                bytes.truncate(cut);
                what.push(format!("truncate@{cut}"));
            }
            1 | 2 => {
                for _ in 0..1 + rng.below(8) {
                    let i = if rng.chance(50) { at } else { rng.below(len) };
                    if let Some(b) = bytes.get_mut(i) {
                        *b ^= 1 << rng.below(8);
                    }
                }
                what.push(format!("flips@{at}"));
            }
            3 => {
                let v = *rng.pick(&INTERESTING);
                let width = *rng.pick(&[1usize, 2, 4, 8]);
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
                        *slot = rng.next() as u8;
                    }
                }
                what.push(format!("random{n}@{at}"));
            }
            5 => {
                let n = rng.below(64).min(len - at.min(len));
                bytes.drain(at..at + n);
                what.push(format!("delete{n}@{at}"));
            }
            6 => {
                let from = rng.below(len);
                let n = rng.below(256).min(len - from);
                let chunk = bytes[from..from + n].to_vec();
                let at = at.min(bytes.len());
                bytes.splice(at..at, chunk);
                what.push(format!("insert{n}from{from}@{at}"));
            }
            _ => {
                let n = 1 + rng.below(32);
                let filler = *rng.pick(&[0u8, 0xff, b'{', b'(', b'9', b' ']);
                let at = at.min(bytes.len());
                bytes.splice(at..at, std::iter::repeat_n(filler, n));
                what.push(format!("insert{n}x{filler:#x}@{at}"));
            }
        }
        if bytes.is_empty() {
            break;
        }
    }
    what.join(",")
}

// ---------------------------------------------------------------------------------------------
// The check: any outcome but a panic is fine, and an `Ok` must be a valid dataset.

fn check(bytes: &[u8], options: &DecodeOptions) -> Result<(), String> {
    match decode_npz(bytes, options) {
        Ok(ds) => valid(&ds, options),
        Err(e) => {
            // Rendering the error is part of the path a reader sees.
            let msg = e.to_string();
            if msg.is_empty() { Err(format!("empty message for {e:?}")) } else { Ok(()) }
        }
    }
}

fn valid(ds: &Dataset, options: &DecodeOptions) -> Result<(), String> {
    if ds.side == 0 || !(ds.channels == 1 || ds.channels == 3) {
        return Err(format!("decoded an image geometry of {}x{}x{}", ds.side, ds.side, ds.channels));
    }
    for (i, split) in breastmnist_data::Split::ALL.into_iter().enumerate() {
        let s = ds.split(split);
        if s.images.len() != s.len() * ds.image_len() || s.labels.iter().any(|&l| l > 1) || s.is_empty() {
            return Err(format!("decoded an inconsistent split {split}"));
        }
        if options.split_sizes.is_some_and(|sizes| sizes[i] != s.len()) {
            return Err(format!("decoded {} images in {split} against the official sizes", s.len()));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// Every case of a fixed list: the deterministic half of the suite.
#[test]
fn crafted_archives_fail_cleanly() {
    let started = Instant::now();
    let bases = bases();
    let mut runner = Runner::new("decode_npz/crafted");
    let mut rng = Prng(7);
    let default = DecodeOptions::default();

    for base in &bases {
        let run = |runner: &mut Runner, label: String, bytes: &[u8]| {
            runner.case(&format!("{} {label}", base.name), bytes, &|b| check(b, &base.options));
        };
        let small = base.name.starts_with("small");
        let len = base.bytes.len();
        // Truncations: every offset of the small archives; around every record of the others.
        let mut cuts: Vec<usize> = if small {
            (0..len).collect()
        } else {
            let mut c: Vec<usize> = zip_records(&base.bytes).iter().flat_map(|&r| r.saturating_sub(2)..r + 48).collect();
            c.extend((0..64).map(|i| i * len / 64));
            c.extend(len.saturating_sub(64)..len);
            c
        };
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts.into_iter().filter(|&c| c < len) {
            run(&mut runner, format!("truncated at {cut}"), &base.bytes[..cut]);
        }
        // Every bit of the small archives' records, and interesting values in every field.
        if small {
            for record in zip_records(&base.bytes) {
                for at in record..(record + 46).min(len) {
                    for bit in 0..8 {
                        let mut b = base.bytes.clone();
                        b[at] ^= 1 << bit;
                        run(&mut runner, format!("bit {bit} of byte {at} flipped"), &b);
                    }
                    for v in [0u64, 0xffff_ffff, 0x7fff_ffff, 0x1_0000] {
                        let mut b = base.bytes.clone();
                        for (k, x) in v.to_le_bytes()[..4].iter().enumerate() {
                            if let Some(slot) = b.get_mut(at + k) {
                                *slot = *x;
                            }
                        }
                        run(&mut runner, format!("u32 {v:#x} written at {at}"), &b);
                    }
                }
            }
        }
        // Every member cut at every offset of its header and around its data's end.
        if small || base.name == "official-stored" {
            for (mi, member) in base.members.iter().enumerate() {
                let n = member.bytes.len();
                let mut cuts: Vec<usize> = (0..n.min(140)).chain(n.saturating_sub(3)..n).collect();
                cuts.dedup();
                for cut in cuts {
                    let mut members = copy(&base.members);
                    members[mi].bytes.truncate(cut);
                    run(&mut runner, format!("{} cut at {cut}", member.name), &common::zip(&members, false));
                }
            }
        }
        // Header rewrites on every member.
        for (mi, member) in base.members.iter().enumerate() {
            let shape = shape_of(member);
            let data_at = 10 + u16::from_le_bytes([member.bytes[8], member.bytes[9]]) as usize;
            let data = &member.bytes[data_at..];
            for pick in 0..24 {
                for version in [1u8, 2] {
                    let header = crafted_header(pick, &shape, &mut rng);
                    let mut members = copy(&base.members);
                    members[mi].bytes = npy_raw(header.as_bytes(), version, None, data);
                    let bytes = common::zip(&members, false);
                    run(&mut runner, format!("{} header variant {pick} (v{version})", member.name), &bytes);
                }
            }
            // Declared header lengths that lie, long headers, non-ASCII bytes.
            let header = header_of("|u1", &shape_text(&shape));
            let padded = |len: usize| {
                let mut h = header.trim_end().to_string();
                while h.len() + 1 < len {
                    h.push(' ');
                }
                h.push('\n');
                h
            };
            let variants: Vec<(String, Vec<u8>)> = vec![
                ("declares 4 GiB".into(), npy_raw(header.as_bytes(), 2, Some(u32::MAX), data)),
                ("declares 10,001 bytes".into(), npy_raw(header.as_bytes(), 2, Some(10_001), data)),
                ("declares 1 byte more".into(), npy_raw(header.as_bytes(), 1, Some(header.len() as u32 + 1), data)),
                ("declares 0 bytes".into(), npy_raw(header.as_bytes(), 1, Some(0), data)),
                ("is 10,000 bytes".into(), npy_raw(padded(10_000).as_bytes(), 2, None, data)),
                ("is 10,001 bytes".into(), npy_raw(padded(10_001).as_bytes(), 2, None, data)),
                ("is 65,535 bytes".into(), npy_raw(padded(65_535).as_bytes(), 1, None, data)),
                ("is version 3".into(), npy_raw(header.as_bytes(), 3, None, data)),
                ("is version 9".into(), npy_raw(header.as_bytes(), 9, None, data)),
                ("holds a NUL".into(), npy_raw(header.replace("False", "Fa\0se").as_bytes(), 1, None, data)),
                ("holds UTF-8".into(), npy_raw(header.replace("False", "Fålse").as_bytes(), 1, None, data)),
                ("holds 0xff".into(), npy_raw(&[header.as_bytes(), &[0xff]].concat(), 1, None, data)),
                ("has no data".into(), npy_raw(header.as_bytes(), 1, None, &[])),
                ("has data to spare".into(), npy_raw(header.as_bytes(), 1, None, &[data, &[0; 7]].concat())),
            ];
            for (what, bytes) in variants {
                let mut members = copy(&base.members);
                members[mi].bytes = bytes;
                run(&mut runner, format!("{} header {what}", member.name), &common::zip(&members, false));
            }
        }
        // Odd, duplicate, missing and extra member names (raw zips: the zip crate will not
        // write duplicates).
        if small || base.name == "official-stored" {
            let entries = raw_entries(&base.members, false);
            run(&mut runner, "rewritten raw".into(), &raw_zip(&entries));
            for odd in ODD_NAMES {
                let mut e = entries.clone();
                e[0].name = odd.as_bytes().to_vec();
                run(&mut runner, format!("member 0 renamed {odd:?}"), &raw_zip(&e));
                let mut e = entries.clone();
                e.push(RawEntry::new(odd, &base.members[1].bytes, false));
                run(&mut runner, format!("extra member {odd:?}"), &raw_zip(&e));
            }
            for (what, name) in [("non-UTF-8", b"train_images\xff.npy".to_vec()), ("60,000-byte", vec![b'a'; 60_000])] {
                let mut e = entries.clone();
                e[0].name = name;
                run(&mut runner, format!("member 0 has a {what} name"), &raw_zip(&e));
            }
            for i in 0..entries.len() {
                let mut e = entries.clone();
                e.push(entries[i].clone());
                run(&mut runner, format!("member {i} twice"), &raw_zip(&e));
                let mut e = entries.clone();
                e.insert(0, entries[i].clone());
                run(&mut runner, format!("member {i} twice, first"), &raw_zip(&e));
                let mut e = entries.clone();
                e[i].name = entries[(i + 1) % entries.len()].name.clone();
                run(&mut runner, format!("member {i} named like the next"), &raw_zip(&e));
                let mut e = entries.clone();
                e.remove(i);
                run(&mut runner, format!("member {i} missing"), &raw_zip(&e));
                for method in [1u16, 9, 12, 14, 93, 99, 0xffff] {
                    let mut e = entries.clone();
                    e[i].method = method;
                    run(&mut runner, format!("member {i} method {method}"), &raw_zip(&e));
                }
                for flags in [1u16, 8, 0x40, 0x2000] {
                    let mut e = entries.clone();
                    e[i].flags = flags;
                    run(&mut runner, format!("member {i} flags {flags:#x}"), &raw_zip(&e));
                }
                let mut e = entries.clone();
                e[i].crc ^= 1;
                run(&mut runner, format!("member {i} wrong CRC"), &raw_zip(&e));
                let mut e = entries.clone();
                e[i].zip64 = true;
                run(&mut runner, format!("member {i} zip64"), &raw_zip(&e));
                for size in [0, 1, entries[i].size - 1, entries[i].size + 1, u32::MAX as u64 - 1, u64::MAX] {
                    let mut e = entries.clone();
                    e[i].size = size;
                    e[i].zip64 = size >= u32::MAX as u64;
                    run(&mut runner, format!("member {i} declares {size} bytes"), &raw_zip(&e));
                }
            }
        }
    }

    // Zip bombs: a tiny deflated member declaring a huge size, or a small one that inflates
    // past the limit, or one that inflates to just under it.
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(&zero_bomb((3 << 20) + 5)[..]).read_to_end(&mut inflated).expect("a valid stream");
    assert!(inflated.len() == (3 << 20) + 5 && inflated.iter().all(|&b| b == 0), "zero_bomb builds what it says");
    let small = bases.iter().find(|b| b.name == "small-deflated").expect("always built");
    let official = bases.iter().find(|b| b.name == "official-stored").expect("always built");
    let bombs = [(5usize << 20, "5 MiB"), (4 << 20, "4 MiB"), ((4 << 20) - 64, "just under 4 MiB")];
    for (base, options, tag) in [(small, any_size(), "any-size"), (official, default.clone(), "default")] {
        for (mi, member) in base.members.iter().enumerate() {
            for (len, what) in bombs {
                let payload = zero_bomb(len);
                let mut crc = flate2::Crc::new();
                crc.update(&vec![0; len]);
                let crc = crc.sum();
                for declared in [len as u64, 64, u32::MAX as u64 - 1, 1 << 40, u64::MAX, (96 << 20) - 1] {
                    let mut e = raw_entries(&base.members, true);
                    e[mi] = RawEntry {
                        crc,
                        size: declared,
                        zip64: declared >= u32::MAX as u64,
                        payload: payload.clone(),
                        ..RawEntry::new(&member.name, &[], true)
                    };
                    let bytes = raw_zip(&e);
                    let label = format!("{tag} {}: {what} of zeros declared as {declared}", member.name);
                    runner.case(&label, &bytes, &|b| check(b, &options));
                }
            }
        }
    }
    println!("{} bases: {}", bases.len(), bases.iter().map(|b| b.name).collect::<Vec<_>>().join(", "));
    runner.finish(started);
}

/// Regression: a member of a few bytes declaring a size just under the limit made `decode_npz`
/// reserve the whole limit (96 MiB by default) before reading anything.
#[test]
fn a_tiny_member_cannot_reserve_the_member_limit() {
    let mut entries = raw_entries(&small_members(), true);
    entries[0].size = (96 << 20) - 1;
    let bytes = raw_zip(&entries);
    let (result, peak) = peak_of(|| decode_npz(&bytes, &DecodeOptions::default()));
    assert!(result.is_err());
    assert!(peak < 1 << 20, "reserved {peak} bytes for a {}-byte archive", bytes.len());
}

/// Seeded random cases: stacked byte edits of whole archives and of single members, and random
/// header rewrites, names and bombs.
#[test]
fn seeded_mutations_fail_cleanly() {
    let started = Instant::now();
    let bases = bases();
    let hot: Vec<Vec<usize>> = bases.iter().map(|b| zip_records(&b.bytes)).collect();
    let (seed, cases, deadline) = plan(3000);
    let mut runner = Runner::new("decode_npz/seeded");
    let mut next_report = Instant::now() + Duration::from_secs(10);
    for index in cases {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let mut rng = case_rng(seed, index);
        // The small bases reach deeper (any split size), so they get most of the cases.
        let bi = if rng.chance(65) { bases.len() - 1 - rng.below(2) } else { rng.below(bases.len() - 2) };
        let base = &bases[bi];
        let (what, bytes) = seeded_case(base, &hot[bi], &mut rng);
        let options = if rng.chance(10) { DecodeOptions::default() } else { base.options.clone() };
        let label = format!("seed {seed:#x} case {index} ({} {what})", base.name);
        runner.case(&label, &bytes, &|b| check(b, &options));
        if deadline.is_some() && Instant::now() >= next_report {
            next_report += Duration::from_secs(10);
            println!("fuzz-progress: target=decode_npz cases={}", runner.cases);
        }
    }
    if !runner.failures.is_empty() {
        let mut how = String::new();
        let _ = write!(
            how,
            "replay one with BREASTMNIST_FUZZ_SEED={seed:#x} BREASTMNIST_FUZZ_CASE=<case> \
             cargo test --profile ci -p breastmnist-data --test fuzz seeded"
        );
        eprintln!("{how}");
    }
    runner.finish(started);
}

/// One random case from `base`: what was done, and the archive bytes.
fn seeded_case(base: &Base, hot: &[usize], rng: &mut Prng) -> (String, Vec<u8>) {
    let mi = rng.below(base.members.len());
    let name = base.members[mi].name.clone();
    match rng.below(10) {
        // The archive's bytes.
        0..=3 => {
            let mut bytes = base.bytes.clone();
            let what = mutate(&mut bytes, hot, rng);
            (format!("archive {what}"), bytes)
        }
        // One member's bytes (header mostly), zipped again with a valid CRC.
        4..=6 => {
            let mut members = copy(&base.members);
            let m = &mut members[mi].bytes;
            let header_end = 10 + u16::from_le_bytes([m[8], m[9]]) as usize;
            let hot: Vec<usize> = (0..header_end).step_by(4).collect();
            let what = mutate(m, &hot, rng);
            (format!("{name} {what}"), common::zip(&members, rng.chance(30)))
        }
        // A crafted header, then perhaps a byte edit of it.
        7 => {
            let mut members = copy(&base.members);
            let shape = shape_of(&members[mi]);
            let pick = rng.below(24);
            let header = crafted_header(pick, &shape, rng);
            let m = &members[mi].bytes;
            let data = m[10 + u16::from_le_bytes([m[8], m[9]]) as usize..].to_vec();
            let mut bytes = npy_raw(header.as_bytes(), *rng.pick(&[1, 2]), None, &data);
            let mut what = format!("header variant {pick}");
            if rng.chance(50) {
                let hot: Vec<usize> = (8..12.min(bytes.len())).collect();
                what += &format!(" then {}", mutate(&mut bytes, &hot, rng));
            }
            members[mi].bytes = bytes;
            (format!("{name} {what}"), common::zip(&members, false))
        }
        // Names: renamed, duplicated, dropped, or lying fields, written raw.
        8 => {
            let mut e = raw_entries(&base.members, rng.chance(50));
            let what = match rng.below(5) {
                0 => {
                    let odd = rng.pick(&ODD_NAMES);
                    e[mi].name = odd.as_bytes().to_vec();
                    format!("{name} renamed {odd:?}")
                }
                1 => {
                    let at = rng.below(e.len() + 1);
                    e.insert(at, e[mi].clone());
                    format!("{name} again at {at}")
                }
                2 => {
                    e.remove(mi);
                    format!("{name} dropped")
                }
                3 => {
                    e[mi].size = *rng.pick(&INTERESTING);
                    e[mi].zip64 = e[mi].size >= u32::MAX as u64 || rng.chance(20);
                    format!("{name} declares {} bytes", e[mi].size)
                }
                _ => {
                    e[mi].method = *rng.pick(&[1, 9, 12, 14, 93, 99]);
                    format!("{name} method {}", e[mi].method)
                }
            };
            let mut bytes = raw_zip(&e);
            let what = if rng.chance(30) {
                let hot = zip_records(&bytes);
                format!("{what} then {}", mutate(&mut bytes, &hot, rng))
            } else {
                what
            };
            (format!("raw {what}"), bytes)
        }
        // A bomb: zeros (up to 6 MiB) declared as anything.
        _ => {
            let len = rng.below(6 << 20);
            let mut e = raw_entries(&base.members, true);
            let declared = match rng.below(3) {
                0 => *rng.pick(&INTERESTING),
                1 => (96 << 20) - 1 - rng.below(1 << 20) as u64,
                _ => rng.below(8 << 20) as u64,
            };
            e[mi] = RawEntry {
                size: declared,
                zip64: declared >= u32::MAX as u64,
                payload: zero_bomb(len),
                crc: rng.next() as u32,
                ..RawEntry::new(&name, &[], true)
            };
            (format!("{name} bomb of {len} zeros declared as {declared}"), raw_zip(&e))
        }
    }
}

#[test]
fn a_member_listed_twice_is_refused() {
    let entries = raw_entries(&small_members(), false);
    assert!(decode_npz(&raw_zip(&entries), &any_size()).is_ok(), "the raw archive itself decodes");
    for i in 0..entries.len() {
        let mut twice = entries.clone();
        twice.push(entries[i].clone());
        let err = decode_npz(&raw_zip(&twice), &any_size()).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "member {i}: {err}");
    }
}
