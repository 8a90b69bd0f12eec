//! Decoding a MedMNIST `.npz` (a zip of `.npy` arrays) into a validated [`Dataset`].
//!
//! The zip layer is the `zip` crate (stored or deflated members, any order) and the `.npy` header
//! is parsed by `npyz`; this module only decides what is acceptable. npyz's header parser is
//! exponential in nesting depth and allocates the declared header length before reading it, so
//! [`check_npy_header`] bounds the header first (length, keys, nesting, integer sizes).

use std::io::{Cursor, Read};

use npyz::{DType, NpyFile, Order, TypeChar};

use crate::{DataError, Dataset, Split, SplitData};

/// What a file's label arrays hold, and so what decoding checks and keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Targets {
    /// Images only, for self-supervised pretraining on files with other label sets: the labels
    /// are counted but not range-checked, and one 0 is kept per image.
    Unlabeled,
    /// One label per image (`(N, 1)` or `(N,)`), each below this many classes (2 or more).
    Classes(usize),
    /// This many 0/1 labels per image (`(N, k)`, k of 2 or more).
    MultiLabel(usize),
}

impl Targets {
    /// Label bytes kept per image: `k` for multi-label, 1 otherwise.
    pub fn width(self) -> usize {
        match self {
            Targets::MultiLabel(k) => k,
            Targets::Unlabeled | Targets::Classes(_) => 1,
        }
    }
}

/// Limits and expectations applied while decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Largest accepted decompressed size of one member, in bytes (guards against zip bombs);
    /// [`crate::Entry::decode_options`] sets it per file from the catalog.
    pub max_member_bytes: u64,
    /// Required image count of train, val and test; `None` accepts any non-empty split.
    pub split_sizes: Option<[usize; 3]>,
    /// Required channels (1 or 3); `None` accepts either.
    pub channels: Option<usize>,
    /// Required image side; `None` accepts any square size.
    pub side: Option<usize>,
    /// What the labels hold.
    pub targets: Targets,
    /// Whether every class must appear in every split (and every multi-label label take both
    /// values): what the Evaluator's AUC needs. The catalog's files and named custom files ask
    /// it; BreastMNIST's default layout does not.
    pub every_class: bool,
}

impl Default for DecodeOptions {
    /// The official BreastMNIST split sizes and two classes, and a limit that fits the 224 px
    /// file with room.
    fn default() -> Self {
        Self {
            max_member_bytes: 96 * 1024 * 1024,
            split_sizes: Some(Split::ALL.map(Split::official_len)),
            channels: None,
            side: None,
            targets: Targets::Classes(2),
            every_class: false,
        }
    }
}

impl DecodeOptions {
    /// The same checks, keeping images only (see [`Targets::Unlabeled`]).
    pub fn unlabeled(self) -> Self {
        Self { targets: Targets::Unlabeled, ..self }
    }
}

const KINDS: [&str; 2] = ["images", "labels"];

/// Decodes and validates an npz archive.
pub fn decode_npz(bytes: &[u8], options: &DecodeOptions) -> Result<Dataset, DataError> {
    if let Targets::Classes(k) | Targets::MultiLabel(k) = options.targets
        && !(2..=255).contains(&k)
    {
        return Err(DataError::Classes(k));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DataError::Archive(e.to_string()))?;
    // A member listed twice is ambiguous (zip keeps the last copy silently): refused.
    if archive.has_duplicate_names() {
        return Err(DataError::Archive("a member name appears twice in the archive".into()));
    }

    // Every member must be one we know; directories and extra arrays are rejected.
    for i in 0..archive.len() {
        let name = archive
            .name_for_index(i)
            .ok_or_else(|| DataError::Archive(format!("member {i} is missing")))?
            .map_err(|e| DataError::Archive(format!("member {i}: {e}")))?
            .to_string();
        let known = name
            .strip_suffix(".npy")
            .is_some_and(|stem| Split::ALL.iter().any(|s| KINDS.iter().any(|k| stem == format!("{}_{k}", s.key()))));
        if !known {
            return Err(DataError::UnexpectedMember(name));
        }
    }

    let mut splits = Vec::with_capacity(3);
    let mut geometry: Option<(usize, usize)> = None;
    for (si, split) in Split::ALL.into_iter().enumerate() {
        let images_name = format!("{}_images", split.key());
        let labels_name = format!("{}_labels", split.key());
        let images = read_array(&mut archive, &images_name, options.max_member_bytes, bytes.len() as u64)?;
        let labels = read_array(&mut archive, &labels_name, options.max_member_bytes, bytes.len() as u64)?;

        let (n, side, channels) = image_shape(&images_name, &images.shape)?;
        if let Some(expected) = options.channels
            && channels != expected
        {
            return Err(DataError::Channels { member: format!("{images_name}.npy"), expected, got: channels });
        }
        if let Some(expected) = options.side
            && side != expected
        {
            return Err(DataError::Side { member: format!("{images_name}.npy"), expected, got: side });
        }
        match geometry {
            None => geometry = Some((side, channels)),
            Some((s, c)) if (s, c) != (side, channels) => {
                return Err(DataError::Inconsistent(format!(
                    "{images_name} is {side}x{side}x{channels}, earlier splits are {s}x{s}x{c}"
                )));
            }
            Some(_) => {}
        }
        let n_labels = label_shape(&labels_name, &labels.shape, options.targets)?;
        if let Some(sizes) = options.split_sizes
            && n != sizes[si]
        {
            return Err(DataError::SplitSize { split, expected: sizes[si], got: n });
        }
        if n_labels != n {
            return Err(DataError::LabelCount { split, images: n, labels: n_labels });
        }
        if n == 0 {
            return Err(DataError::SplitSize { split, expected: split.official_len(), got: 0 });
        }
        let labels = check_labels(split, n, labels.data, options)?;
        splits.push(SplitData { images: images.data, labels, width: options.targets.width() });
    }

    let (side, channels) = geometry.expect("three splits were read");
    let test = splits.pop().expect("three splits");
    let val = splits.pop().expect("three splits");
    let train = splits.pop().expect("three splits");
    Ok(Dataset { side, channels, targets: options.targets, train, val, test })
}

/// Checks the `n` images' labels of one split against `options` and returns what is kept.
fn check_labels(split: Split, n: usize, labels: Vec<u8>, options: &DecodeOptions) -> Result<Vec<u8>, DataError> {
    match options.targets {
        Targets::Unlabeled => Ok(vec![0; n]),
        Targets::Classes(classes) => {
            if let Some((index, &value)) = labels.iter().enumerate().find(|&(_, &v)| v as usize >= classes) {
                return Err(DataError::LabelRange { split, index, value, classes });
            }
            let mut seen = vec![false; classes];
            labels.iter().for_each(|&l| seen[l as usize] = true);
            if let Some(class) = seen.iter().position(|&s| !s).filter(|_| options.every_class) {
                return Err(DataError::ClassAbsent { split, class });
            }
            Ok(labels)
        }
        Targets::MultiLabel(k) => {
            if let Some((i, &value)) = labels.iter().enumerate().find(|&(_, &v)| v > 1) {
                return Err(DataError::MultiLabelValue { split, index: i / k, label: i % k, value });
            }
            for label in (0..k).filter(|_| options.every_class) {
                let positives = labels.iter().skip(label).step_by(k).filter(|&&v| v == 1).count();
                if positives == 0 || positives == labels.len() / k {
                    return Err(DataError::LabelConstant { split, label, value: u8::from(positives > 0) });
                }
            }
            Ok(labels)
        }
    }
}

/// NumPy's own cap on a `.npy` header's length (`numpy.lib.format._MAX_HEADER_SIZE`).
pub(crate) const MAX_NPY_HEADER: usize = 10_000;

/// Checks a `.npy` header before any parser sees it: the magic and version, a declared length
/// of at most [`MAX_NPY_HEADER`] bytes that fits in the member, ASCII text, one flat dict with
/// exactly the keys `descr`, `fortran_order` and `shape`, at most one level of parentheses,
/// and integers of at most 18 digits. What NumPy writes passes; crafted headers fail at once.
pub(crate) fn check_npy_header(bytes: &[u8]) -> Result<(), String> {
    let rest = bytes.strip_prefix(b"\x93NUMPY").ok_or("not a .npy array (bad magic)")?;
    let (major, rest) = match rest {
        [major, _minor, rest @ ..] => (*major, rest),
        _ => return Err("the .npy header is cut short".into()),
    };
    let (len, rest) = match (major, rest) {
        (1, [a, b, rest @ ..]) => (u16::from_le_bytes([*a, *b]) as usize, rest),
        (2 | 3, [a, b, c, d, rest @ ..]) => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, rest),
        (1..=3, _) => return Err("the .npy header is cut short".into()),
        _ => return Err(format!("unsupported .npy version {major}")),
    };
    if len > MAX_NPY_HEADER {
        return Err(format!("the .npy header declares {len} bytes (NumPy allows at most {MAX_NPY_HEADER})"));
    }
    let header = rest.get(..len).ok_or("the .npy header is longer than the member")?;
    let text = std::str::from_utf8(header).ok().filter(|t| t.is_ascii()).ok_or("the .npy header is not ASCII text")?;
    let body = text.trim_end_matches([' ', '\n', '\0']).trim();
    let inner = body.strip_prefix('{').and_then(|b| b.strip_suffix('}')).ok_or("the .npy header is not a dict")?;
    let count = |c: char| inner.matches(c).count();
    if count('{') + count('}') + count('[') + count(']') > 0 || count('(') > 1 || count(')') > 1 {
        return Err("the .npy header nests deeper than a flat dict with one shape tuple".into());
    }
    let mut keys: Vec<&str> =
        inner.split(',').filter_map(|part| part.split_once(':').map(|(k, _)| k.trim().trim_matches(['\'', '"']))).collect();
    keys.sort_unstable();
    if keys != ["descr", "fortran_order", "shape"] {
        return Err(format!("the .npy header has keys {keys:?}; expected descr, fortran_order and shape"));
    }
    let longest_number = inner.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    if longest_number > 18 {
        return Err(format!("the .npy header holds a {longest_number}-digit number"));
    }
    // npyz multiplies the shape unchecked: a product past u64 must stop here.
    if let Some(tuple) = inner.split_once('(').and_then(|(_, rest)| rest.split_once(')')).map(|(t, _)| t) {
        let dims = tuple.split(',').map(str::trim).filter(|d| !d.is_empty());
        let product = dims.map(|d| d.parse::<u64>().ok()).try_fold(1u64, |acc, d| d.and_then(|d| acc.checked_mul(d)));
        if product.is_none() {
            return Err(format!("the .npy shape ({tuple}) is not a list of sizes whose product fits in 64 bits"));
        }
    }
    Ok(())
}

/// A `uint8` array read from one member.
struct Array {
    shape: Vec<u64>,
    data: Vec<u8>,
}

/// Deflate's largest expansion: one compressed byte inflates to at most 1032 bytes.
const MAX_INFLATE_RATIO: u64 = 1032;

fn read_array<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    stem: &str,
    limit: u64,
    archive_len: u64,
) -> Result<Array, DataError> {
    let name = format!("{stem}.npy");
    let mut file = match archive.by_name(&name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(DataError::MissingMember(stem.to_string()));
        }
        Err(e) => return Err(DataError::Archive(format!("{name}: {e}"))),
    };
    if file.size() > limit {
        return Err(DataError::TooLarge { member: name, size: file.size(), limit });
    }
    // The declared size can lie: never read more than the limit plus one byte.
    // Nor reserve more than the member's bytes in the archive can inflate to: a tiny member
    // declaring a size just under the limit must not make us reserve the limit.
    let plausible = file.compressed_size().min(archive_len).saturating_mul(MAX_INFLATE_RATIO);
    let reserve = file.size().min(plausible);
    let mut buf = Vec::new();
    // A member this process cannot hold is an error, never an abort.
    buf.try_reserve_exact(usize::try_from(reserve).unwrap_or(usize::MAX))
        .map_err(|_| DataError::OutOfMemory { member: name.clone(), size: reserve })?;
    (&mut file).take(limit + 1).read_to_end(&mut buf).map_err(|e| DataError::Archive(format!("{name}: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(DataError::TooLarge { member: name, size: buf.len() as u64, limit });
    }
    drop(file);

    let npy = |reason: String| DataError::Npy { member: name.clone(), reason };
    check_npy_header(&buf).map_err(npy)?;
    let parsed = NpyFile::new(&buf[..]).map_err(|e| npy(e.to_string()))?;
    let is_u8 = matches!(parsed.dtype(), DType::Plain(ref t)
        if t.type_char() == TypeChar::Uint && t.size_field() == 1);
    if !is_u8 {
        return Err(DataError::DType { member: name, got: parsed.dtype().descr().trim_matches('\'').to_string() });
    }
    if parsed.order() != Order::C && parsed.shape().iter().filter(|&&d| d > 1).count() > 1 {
        return Err(npy("Fortran-ordered arrays are not supported".into()));
    }
    let shape = parsed.shape().to_vec();
    let expected_len =
        shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)).ok_or_else(|| npy(format!("shape {shape:?} overflows")))?;
    let data: &[u8] = parsed.into_inner();
    if data.len() as u64 != expected_len {
        return Err(npy(format!("shape {shape:?} needs {expected_len} bytes of data, the member holds {}", data.len())));
    }
    Ok(Array { shape, data: data.to_vec() })
}

/// `(N, H, W)` or `(N, H, W, C)` with square images and C in {1, 3}.
fn image_shape(member: &str, shape: &[u64]) -> Result<(usize, usize, usize), DataError> {
    let bad = || DataError::Shape {
        member: format!("{member}.npy"),
        expected: "(N, H, W) or (N, H, W, C) with H = W > 0 and C = 1 or 3".into(),
        got: shape.to_vec(),
    };
    let (n, h, w, c) = match *shape {
        [n, h, w] => (n, h, w, 1),
        [n, h, w, c] => (n, h, w, c),
        _ => return Err(bad()),
    };
    if h != w || h == 0 || !(c == 1 || c == 3) {
        return Err(bad());
    }
    Ok((n as usize, h as usize, c as usize))
}

/// `(N, 1)` (the MedMNIST layout) or `(N,)`; `(N, k)` for `k` labels; either for images only.
/// Returns N.
fn label_shape(member: &str, shape: &[u64], targets: Targets) -> Result<usize, DataError> {
    let member = format!("{member}.npy");
    match (shape, targets) {
        // Images only: any label layout is counted, never read.
        (&[n, _] | &[n], Targets::Unlabeled) => Ok(n as usize),
        (&[n, 1] | &[n], Targets::Classes(_)) => Ok(n as usize),
        (&[n, k], Targets::MultiLabel(expected)) if k == expected as u64 => Ok(n as usize),
        (&[_, got], Targets::MultiLabel(expected)) => Err(DataError::LabelWidth { member, expected, got: got as usize }),
        (_, targets) => {
            let expected = if let Targets::MultiLabel(k) = targets { format!("(N, {k})") } else { "(N, 1)".into() };
            Err(DataError::Shape { member, expected, got: shape.to_vec() })
        }
    }
}
