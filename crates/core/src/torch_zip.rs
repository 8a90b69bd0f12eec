//! PyTorch's `.pt`/`.pth` ZIP checkpoints (what `torch.save` writes since PyTorch 1.6) read
//! from memory, for the browser, where burn's `pytorch-reader` cannot open a file.
//!
//! A checkpoint is a ZIP of `<root>/data.pkl` (a pickle of the saved object) and one
//! `<root>/data/<key>` entry per tensor storage. The pickle is read with the subset of
//! Python's pickle machine that a saved `state_dict` uses (protocols 2-5: dicts, lists,
//! tuples, strings, numbers, globals, `REDUCE`, `BUILD`, memo and persistent ids). Two callables
//! mean something: `collections.OrderedDict` (a dict) and `torch._utils._rebuild_tensor_v2`
//! (a tensor: storage, offset, shape, stride); a persistent id `('storage', torch.XStorage, key,
//! location, numel)` is a storage. Everything else is kept as an opaque value, so nothing
//! foreign is ever called. Nested dicts flatten to dotted names (`{'net': {...}}` gives
//! `net.conv1.weight`). Only contiguous little-endian tensors are read; the legacy (pre-1.6)
//! and TAR formats are left to the command line's reader.
//!
//! Limits, checked before allocating: the pickle at most 16 MiB, 1,000,000 opcodes, a stack and
//! memo of 1,000,000 values, and every tensor inside its storage entry.
//!
//! It must not know about models; [`crate::torch`] maps the names.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

use safetensors::Dtype;

const MAX_PICKLE: u64 = 16 << 20;
const MAX_OPS: usize = 1_000_000;
const MAX_VALUES: usize = 1_000_000;

/// A value on the pickle machine's stack.
#[derive(Clone, Debug)]
enum Value {
    None,
    Bool,
    Int(i64),
    Float,
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String, String),
    Storage {
        key: String,
        dtype: Dtype,
    },
    Tensor {
        key: String,
        dtype: Dtype,
        offset: usize,
        shape: Vec<usize>,
        stride: Vec<usize>,
    },
    /// The result of a call the reader does not interpret.
    Opaque,
    Mark,
}

/// A tensor found in the checkpoint: its storage entry and layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub key: String,
    pub dtype: Dtype,
    pub offset: usize,
    pub shape: Vec<usize>,
}

fn err(why: impl Into<String>) -> String {
    why.into()
}

struct Machine<'a> {
    data: &'a [u8],
    at: usize,
    stack: Vec<Value>,
    memo: HashMap<u32, Value>,
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(|| err("the pickle is truncated"))?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap_or_default()))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap_or_default()))
    }
    fn text(&mut self, n: usize) -> Result<String, String> {
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| err("a string in the pickle is not UTF-8"))
    }
    fn line(&mut self) -> Result<String, String> {
        let rest = &self.data[self.at..];
        let n = rest.iter().position(|&b| b == b'\n').ok_or_else(|| err("the pickle is truncated"))?;
        let s = self.text(n)?;
        self.at += 1;
        Ok(s)
    }
    fn pop(&mut self) -> Result<Value, String> {
        self.stack.pop().ok_or_else(|| err("the pickle pops an empty stack"))
    }
    fn push(&mut self, v: Value) -> Result<(), String> {
        if self.stack.len() >= MAX_VALUES {
            return Err(err("the pickle's stack is too deep"));
        }
        self.stack.push(v);
        Ok(())
    }
    /// The values above the topmost mark, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Value>, String> {
        let at = self.stack.iter().rposition(|v| matches!(v, Value::Mark)).ok_or_else(|| err("the pickle has no mark"))?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }
    fn top(&mut self) -> Result<&mut Value, String> {
        self.stack.last_mut().ok_or_else(|| err("the pickle's stack is empty"))
    }
    fn memoize(&mut self, key: u32) -> Result<(), String> {
        if self.memo.len() >= MAX_VALUES {
            return Err(err("the pickle's memo is too large"));
        }
        let v = self.stack.last().cloned().ok_or_else(|| err("the pickle memoizes an empty stack"))?;
        self.memo.insert(key, v);
        Ok(())
    }
    fn get(&mut self, key: u32) -> Result<(), String> {
        let v = self.memo.get(&key).cloned().ok_or_else(|| err(format!("the pickle refers to memo {key}, never stored")))?;
        self.push(v)
    }
}

fn storage_dtype(class: &str) -> Option<Dtype> {
    Some(match class {
        "FloatStorage" => Dtype::F32,
        "DoubleStorage" => Dtype::F64,
        "HalfStorage" => Dtype::F16,
        "BFloat16Storage" => Dtype::BF16,
        "LongStorage" => Dtype::I64,
        _ => return None,
    })
}

fn usizes(v: &Value) -> Option<Vec<usize>> {
    match v {
        Value::Tuple(items) | Value::List(items) => items
            .iter()
            .map(|i| match i {
                Value::Int(n) => usize::try_from(*n).ok(),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// What `callable(args)` is, as far as a state dict needs.
fn call(callable: Value, args: Value) -> Value {
    match (&callable, args) {
        (Value::Global(m, n), _) if m == "collections" && n == "OrderedDict" => Value::Dict(Vec::new()),
        (Value::Global(m, n), Value::Tuple(a)) if m == "torch._utils" && n == "_rebuild_tensor_v2" && a.len() >= 4 => {
            match (&a[0], &a[1], usizes(&a[2]), usizes(&a[3])) {
                (Value::Storage { key, dtype }, Value::Int(offset), Some(shape), Some(stride)) if *offset >= 0 => {
                    Value::Tensor { key: key.clone(), dtype: *dtype, offset: *offset as usize, shape, stride }
                }
                _ => Value::Opaque,
            }
        }
        _ => Value::Opaque,
    }
}

/// Runs the pickle and returns the object it builds.
fn unpickle(data: &[u8]) -> Result<Value, String> {
    let mut m = Machine { data, at: 0, stack: Vec::new(), memo: HashMap::new() };
    for _ in 0..MAX_OPS {
        let op = m.u8()?;
        match op {
            0x80 => {
                m.u8()?; // PROTO
            }
            0x95 => {
                m.take(8)?; // FRAME
            }
            b'.' => return m.pop(),
            b'(' => m.push(Value::Mark)?,
            b'}' => m.push(Value::Dict(Vec::new()))?,
            b']' => m.push(Value::List(Vec::new()))?,
            b')' => m.push(Value::Tuple(Vec::new()))?,
            b'N' => m.push(Value::None)?,
            0x88 | 0x89 => m.push(Value::Bool)?,
            b'K' => {
                let v = m.u8()? as i64;
                m.push(Value::Int(v))?
            }
            b'M' => {
                let v = m.u16()? as i64;
                m.push(Value::Int(v))?
            }
            b'J' => {
                let v = m.u32()? as i32 as i64;
                m.push(Value::Int(v))?
            }
            0x8a => {
                // LONG1: a little-endian two's-complement integer of n bytes.
                let n = m.u8()? as usize;
                let bytes = m.take(n)?;
                if n > 8 {
                    return Err(err("an integer in the pickle is too large"));
                }
                let mut buf = if bytes.last().is_some_and(|b| b & 0x80 != 0) { [0xff; 8] } else { [0; 8] };
                buf[..n].copy_from_slice(bytes);
                m.push(Value::Int(i64::from_le_bytes(buf)))?
            }
            b'G' => {
                m.take(8)?;
                m.push(Value::Float)?
            }
            b'X' => {
                let n = m.u32()? as usize;
                let s = m.text(n)?;
                m.push(Value::Str(s))?
            }
            0x8c => {
                let n = m.u8()? as usize;
                let s = m.text(n)?;
                m.push(Value::Str(s))?
            }
            b'U' => {
                let n = m.u8()? as usize;
                let s = m.text(n)?;
                m.push(Value::Str(s))?
            }
            b'T' => {
                let n = m.u32()? as usize;
                let s = m.text(n)?;
                m.push(Value::Str(s))?
            }
            b'c' => {
                let module = m.line()?;
                let name = m.line()?;
                m.push(Value::Global(module, name))?
            }
            0x93 => {
                let name = m.pop()?;
                let module = m.pop()?;
                match (module, name) {
                    (Value::Str(module), Value::Str(name)) => m.push(Value::Global(module, name))?,
                    _ => return Err(err("STACK_GLOBAL without two strings")),
                }
            }
            b'q' => {
                let k = m.u8()? as u32;
                m.memoize(k)?
            }
            b'r' => {
                let k = m.u32()?;
                m.memoize(k)?
            }
            0x94 => {
                let k = m.memo.len() as u32;
                m.memoize(k)?
            }
            b'h' => {
                let k = m.u8()? as u32;
                m.get(k)?
            }
            b'j' => {
                let k = m.u32()?;
                m.get(k)?
            }
            b't' => {
                let items = m.pop_mark()?;
                m.push(Value::Tuple(items))?
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if m.stack.len() < n {
                    return Err(err("a tuple of more items than the stack holds"));
                }
                let items = m.stack.split_off(m.stack.len() - n);
                m.push(Value::Tuple(items))?
            }
            b'l' => {
                let items = m.pop_mark()?;
                m.push(Value::List(items))?
            }
            b'd' => {
                let items = m.pop_mark()?;
                let pairs = items.chunks_exact(2).map(|p| (p[0].clone(), p[1].clone())).collect();
                m.push(Value::Dict(pairs))?
            }
            b'a' => {
                let v = m.pop()?;
                if let Value::List(l) = m.top()? {
                    l.push(v)
                }
            }
            b'e' => {
                let items = m.pop_mark()?;
                if let Value::List(l) = m.top()? {
                    l.extend(items)
                }
            }
            b's' => {
                let v = m.pop()?;
                let k = m.pop()?;
                if let Value::Dict(d) = m.top()? {
                    d.push((k, v))
                }
            }
            b'u' => {
                let items = m.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(err("SETITEMS with an odd number of items"));
                }
                if let Value::Dict(d) = m.top()? {
                    d.extend(items.chunks_exact(2).map(|p| (p[0].clone(), p[1].clone())))
                }
            }
            b'R' | 0x81 => {
                let args = m.pop()?;
                let callable = m.pop()?;
                m.push(call(callable, args))?
            }
            b'b' => {
                // BUILD: the state of an object (an OrderedDict's `_metadata`): not needed.
                m.pop()?;
            }
            b'Q' => {
                let pid = m.pop()?;
                let storage = match pid {
                    Value::Tuple(t) if t.len() >= 3 => match (&t[0], &t[1], &t[2]) {
                        (Value::Str(kind), Value::Global(module, class), Value::Str(key))
                            if kind == "storage" && module == "torch" =>
                        {
                            let dtype = storage_dtype(class)
                                .ok_or_else(|| err(format!("storages of type torch.{class} are not read")))?;
                            Value::Storage { key: key.clone(), dtype }
                        }
                        _ => Value::Opaque,
                    },
                    _ => Value::Opaque,
                };
                m.push(storage)?
            }
            other => return Err(err(format!("pickle opcode 0x{other:02x} is not one a state dict uses"))),
        }
    }
    Err(err("the pickle runs too long"))
}

/// Every tensor under `v`, by dotted name.
fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, Found>) -> Result<(), String> {
    match v {
        Value::Dict(pairs) => {
            for (k, v) in pairs {
                let k = match k {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    _ => continue,
                };
                let name = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                flatten(v, &name, out)?;
            }
        }
        Value::Tensor { key, dtype, offset, shape, stride } => {
            // Contiguous row-major: stride[i] = product of the later sizes.
            let mut want = 1usize;
            for (size, s) in shape.iter().zip(stride).rev() {
                if *size > 1 && *s != want {
                    return Err(err(format!("tensor '{prefix}' is not contiguous (stride {stride:?})")));
                }
                want = want.checked_mul(*size).ok_or_else(|| err(format!("tensor '{prefix}' is too large")))?;
            }
            if shape.len() != stride.len() {
                return Err(err(format!("tensor '{prefix}' has {} sizes and {} strides", shape.len(), stride.len())));
            }
            out.insert(prefix.to_string(), Found { key: key.clone(), dtype: *dtype, offset: *offset, shape: shape.clone() });
        }
        _ => {}
    }
    Ok(())
}

/// The tensors a `data.pkl` names (by dotted name), with their storage keys and layouts.
pub fn tensors_in_pickle(pickle: &[u8]) -> Result<BTreeMap<String, Found>, String> {
    let mut found = BTreeMap::new();
    flatten(&unpickle(pickle)?, "", &mut found)?;
    Ok(found)
}

/// One tensor read from a checkpoint: name, dtype, shape and little-endian bytes.
pub type RawTensor = (String, Dtype, Vec<usize>, Vec<u8>);

/// The tensors of a `torch.save` ZIP checkpoint.
pub fn read(bytes: &[u8]) -> Result<Vec<RawTensor>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a ZIP archive: {e}"))?;
    if zip.has_duplicate_names() {
        return Err(err("a member name appears twice in the archive"));
    }
    let pkl = (0..zip.len())
        .filter_map(|i| zip.name_for_index(i).and_then(Result::ok).map(|n| n.to_string()))
        .find(|n| n.ends_with("data.pkl") && n.matches('/').count() <= 1)
        .ok_or_else(|| err("no data.pkl: not a torch.save checkpoint (PyTorch 1.6 or later)"))?;
    let root = pkl.strip_suffix("data.pkl").unwrap_or_default().to_string();
    if let Ok(order) = zip.by_name(&format!("{root}byteorder")) {
        let mut s = String::new();
        order.take(16).read_to_string(&mut s).map_err(|e| e.to_string())?;
        if s.trim() != "little" {
            return Err(err(format!("byte order '{}' is not read", s.trim())));
        }
    }
    let pickle = {
        let f = zip.by_name(&pkl).map_err(|e| e.to_string())?;
        if f.size() > MAX_PICKLE {
            return Err(err(format!("data.pkl is {} bytes (limit {MAX_PICKLE})", f.size())));
        }
        let mut buf = Vec::new();
        f.take(MAX_PICKLE + 1).read_to_end(&mut buf).map_err(|e| e.to_string())?;
        buf
    };
    let found = tensors_in_pickle(&pickle)?;
    let mut out = Vec::with_capacity(found.len());
    for (name, t) in found {
        let entry = format!("{root}data/{}", t.key);
        let f = zip.by_name(&entry).map_err(|_| format!("tensor '{name}': storage {entry} is missing"))?;
        let elem = t.dtype.bitsize() / 8;
        let n =
            t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| format!("tensor '{name}' is too large"))?;
        let (start, len) = (t.offset.checked_mul(elem), n.checked_mul(elem));
        let end = start.zip(len).and_then(|(s, l)| s.checked_add(l)).filter(|&e| e as u64 <= f.size());
        let (Some(start), Some(end)) = (start, end) else {
            return Err(format!("tensor '{name}' lies outside its storage ({} bytes)", f.size()));
        };
        // A declared size can lie: never reserve more than the archive could inflate to.
        if end as u64 > (bytes.len() as u64).saturating_mul(1032) {
            return Err(format!("tensor '{name}' is larger than the archive could hold"));
        }
        let mut buf = Vec::with_capacity(end);
        f.take(end as u64).read_to_end(&mut buf).map_err(|e| e.to_string())?;
        if buf.len() < end {
            return Err(format!("tensor '{name}': storage {entry} is truncated"));
        }
        out.push((name, t.dtype, t.shape, buf[start..end].to_vec()));
    }
    Ok(out)
}
